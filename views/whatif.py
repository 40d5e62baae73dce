"""ルール変更シミュレーション: change thresholds, fees or periods and see who would move, before the board decides."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core.config import ConfigError
from core.config.settings import BY_KEY
from core.renewals import whatif
from core.vocabulary import OUTCOME_LABELS
from ui import charts
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import downloads, table, working

AS_OF = "whatif_as_of"
EDITOR = "whatif_editor"
RESULT = "whatif_result"

user = current_user("whatif")
cfg = settings()
st.title("ルール変更シミュレーション")
st.caption(
    "設定値（基準・料金・期間）を変えた場合に、担当範囲の全会員の判定がどう変わるかを、"
    "現在の設定と比べて表示します。データは変更しません。"
)

as_of = st.date_input("基準日", value=dt.date.today(), key=AS_OF, format="YYYY/MM/DD")
keys = whatif.tunable_keys(cfg, as_of)


def amount(value: object, unit: str) -> str:
    """15 → 「15ポイント」, 0.5 → 「0.5ポイント」, 21600 → 「21,600円」."""
    number = float(value)  # type: ignore[arg-type]
    shown = f"{int(number):,}" if number.is_integer() else f"{number:,.1f}"
    return f"{shown}{unit}"


editor = pl.DataFrame(
    {
        "key": keys,  # hidden: which setting a row changes
        "制度": [cfg.scheme_name(k.split(".", 1)[0]) for k in keys],
        "項目": [BY_KEY[k].help for k in keys],
        "現在の値": [amount(cfg.value(k, as_of), BY_KEY[k].unit) for k in keys],
        "変更後の値": [None] * len(keys),
        "単位": [BY_KEY[k].unit for k in keys],
    },
    schema_overrides={"変更後の値": pl.Float64},
)
edited = st.data_editor(
    editor,
    key=EDITOR,
    hide_index=True,
    disabled=["制度", "項目", "現在の値", "単位"],
    column_config={
        "key": None,
        "変更後の値": st.column_config.NumberColumn("変更後の値", min_value=0, format="localized"),
    },
)
changes = {
    row["key"]: (int(row["変更後の値"]) if BY_KEY[row["key"]].type == "int" else row["変更後の値"])
    for row in pl.DataFrame(edited).iter_rows(named=True)
    if row["変更後の値"] is not None
    and float(row["変更後の値"]) != float(cfg.value(row["key"], as_of))
}
if st.button("シミュレーション実行", type="primary", disabled=not changes):
    try:
        with connection() as con, working("全会員の判定を2通り計算しています") as progress:
            st.session_state[RESULT] = (
                as_of,
                changes,
                whatif.compare(con, as_of, changes, scope=user.scope, progress=progress),
            )
    except ConfigError as exc:
        st.error(f"設定値が正しくありません: {exc}")
if not changes:
    st.info("「変更後の値」に新しい値を入力してください。")

kept = st.session_state.get(RESULT)
if kept is None:
    st.stop()
day, applied, result = kept
st.subheader(f"{day:%Y年%-m月%-d日}時点の比較")
st.write(
    "変更: "
    + "、".join(
        f"{cfg.scheme_name(k.split('.', 1)[0])} {BY_KEY[k].help}"
        f" {amount(cfg.value(k, day), BY_KEY[k].unit)} → {amount(v, BY_KEY[k].unit)}"
        for k, v in applied.items()
    )
)
cols = st.columns(2)
cols[0].metric("判定が変わる資格", f"{result.moved:,} 件")
cols[1].metric("会費収入の差（請求額）", f"{result.income_difference:+,} 円")

OUTCOME = {"today": OUTCOME_LABELS, "proposed": OUTCOME_LABELS}
HEADERS = {"today": "現在の判定", "proposed": "変更後の判定", "n": "資格数"}
moved = result.transitions.filter(pl.col("today") != pl.col("proposed"))
st.markdown("**制度ごとの移動（現在 → 変更後）**")
by_scheme = (
    moved.group_by("scheme", "today", "proposed")
    .agg(pl.col("n").sum())
    .sort("scheme", "n", descending=[False, True])
)
if by_scheme.is_empty():
    st.info("この変更では判定の変わる資格はありません。")
else:
    table(by_scheme, words=OUTCOME, headers=HEADERS)
    by_prefecture = moved.group_by("prefecture").agg(pl.col("n").sum()).sort("n", descending=True)
    charts.show(
        px.bar(
            by_prefecture,
            x="prefecture",
            y="n",
            labels={"prefecture": "都道府県", "n": "判定が変わる資格（件）"},
        ),
        y="count",
    )
st.markdown("**会費収入（この判定で請求される額）**")
INCOME = {"today_income": "現在", "proposed_income": "変更後", "difference": "差"}
table(result.fees, headers=INCOME)
downloads(
    result.transitions, f"ルール変更シミュレーション_{day}", key="whatif", words=OUTCOME,
    headers=HEADERS,
)  # fmt: skip
