"""制度設定 (admin): the configuration in force for a scheme on a chosen date."""

import datetime as dt
import re

import polars as pl
import streamlit as st

from core import text, vocabulary
from core.config.settings import CONFIG_FILES
from core.notify import reminders
from ui.auth import current_user
from ui.data import settings
from ui.widgets import table

if current_user("admin_config").role != "admin":
    st.error("このページは管理者のみ利用できます。")
    st.stop()

cfg = settings()
st.title("制度設定")
st.caption(
    "各制度の料金・基準・期間などの設定値です。設定は制度ごとの設定ファイルにあり、日付ごとの変更（施行日）を持てます。"
)

left, right = st.columns([2, 1])
scheme = left.selectbox("制度", CONFIG_FILES, format_func=lambda c: str(cfg.value(f"{c}.name")))
on = right.date_input(
    "基準日", value=dt.date.today(), min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)
)
st.write(f"**{cfg.value(f'{scheme}.name')}** — {text.jp_date(on, with_wareki=True)}時点の設定")


def shown(value: object) -> str:
    """A setting's value in words: labels rather than their codes, 12-29 as 12月29日."""
    if isinstance(value, dict):
        if not value:
            return "なし"
        if all(isinstance(v, dict) and "anchor" in v for v in value.values()):  # reminders
            return "、".join(reminders.describe(v) for v in value.values())
        if all(isinstance(v, dict) and "label" in v for v in value.values()):
            return "、".join(str(v["label"]) for v in value.values())
        return "、".join(shown(v) for v in value.values())
    if isinstance(value, tuple | list):
        if value and all(str(v) in vocabulary.LEVELS for v in value):  # an approval chain
            return " → ".join(vocabulary.LEVELS[str(v)] for v in value)
        return "、".join(vocabulary.REASONS.get(str(v), shown(v)) for v in value)
    if isinstance(value, str) and re.fullmatch(r"\d{2}-\d{2}", value):
        month, day = value.split("-")
        return f"{int(month)}月{int(day)}日"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


rows = cfg.snapshot(scheme, on)
frame = pl.DataFrame(
    {
        "設定キー": [r["key"] for r in rows],
        "説明": [r["help"] for r in rows],
        "値": [
            shown(r["value"]) + (f" {r['unit']}" if r["unit"] and r["value"] is not None else "")
            for r in rows
        ],
        "施行日": [text.jp_date(r["in_force_from"]) if r["changes"] > 1 else "—" for r in rows],
    }
)
table(frame, width="stretch")

dated = [r for r in rows if r["changes"] > 1]
if dated:
    st.subheader("日付で変わる設定")
    for r in dated:
        history = cfg.history(r["key"])
        st.markdown(f"**{r['help']}**")
        table(
            pl.DataFrame(
                {
                    "施行日": [text.jp_date(d.start) for d in history],
                    "値": [shown(d.value) for d in history],
                }
            )
        )
