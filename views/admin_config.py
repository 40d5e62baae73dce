"""制度設定 (admin): the configuration in force on a date, its history, edits with an effective
date (previewed over the population before saving), a second admin's approval, conflicts with
the files, and the configuration in force as files. Settings are named by what they mean
(their help), never by their keys, and their values in words."""

import datetime as dt
import re

import polars as pl
import streamlit as st

from core import text, vocabulary
from core.config import edits, loader, toml_out
from core.config.settings import BY_KEY, CONFIG_FILES
from core.errors import ConflictError, ValidationError
from core.notify import reminders
from core.renewals import whatif
from core.vocabulary import CONFIG_CHANGE_KINDS, CONFIG_CHANGE_STATUSES, OUTCOME_LABELS
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import flash, show_flash, table

SCHEME = "config_scheme"
ON = "config_on"
KEY = "config_key"
VALUE = "config_value"
FROM = "config_from"
REASON = "config_reason"
PREVIEW = "config_preview"
NOTE = "config_note"
RESOLVE_REASON = "config_resolve_reason"

user = current_user("admin_config")
if user.role != "admin":
    st.error("このページは管理者のみ利用できます。")
    st.stop()

cfg = settings()
files = loader.files()
today = dt.date.today()
st.title("制度設定")
show_flash()
st.caption(
    "各制度の料金・基準・期間などの設定値です。配備の出発点は制度ごとの設定ファイルで、日付ごとの変更（施行日）を持てます。"
    "この画面での変更は施行日つきの新しい値として追加され（過去は書き換えません）、ファイルの上に重ねて適用されます。"
)


def since(day: dt.date) -> str:
    """An entry's first day; the files' 1900-01-01 means "from the start"."""
    return "当初から" if day == dt.date(1900, 1, 1) else text.jp_date(day)


def meaning(key: str) -> str:
    """A setting named by what it means: its help, without the codes some helps explain in
    parentheses (（taxable 課税 / …）), which are for whoever edits the files."""
    return re.sub(r"（[^）]*[a-z]{3,}[^）]*）", "", BY_KEY[key].help)


def shown(value: object) -> str:
    """A setting's value in words: labels rather than their codes, 12-29 as 12月29日."""
    if isinstance(value, dict):
        if value and all(isinstance(v, dict) and "anchor" in v for v in value.values()):
            return "、".join(reminders.describe(v) for v in value.values())  # reminders
        if value and all(isinstance(v, dict) and "label" in v for v in value.values()):
            return "、".join(str(v["label"]) for v in value.values())
        return "、".join(shown(v) for v in value.values()) or "（なし）"
    if isinstance(value, tuple | list):
        if value and all(str(v) in vocabulary.LEVELS for v in value):  # an approval chain
            return " → ".join(vocabulary.LEVELS[str(v)] for v in value)
        return "、".join(vocabulary.REASONS.get(str(v), shown(v)) for v in value) or "（なし）"
    if isinstance(value, str) and re.fullmatch(r"\d{2}-\d{2}", value):
        month, day = value.split("-")
        return f"{int(month)}月{int(day)}日"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return text.jp_date(value)
    if value is None or value == "":
        return "—"
    return str(value)


def stored_words(key: str, value_toml: str) -> str:
    """A value as an edit stored it (TOML text), in words."""
    try:
        return shown(edits.parse_value(BY_KEY[key], value_toml))
    except Exception:  # a declaration changed since: show what was typed
        return value_toml


def entries_table(entries: object) -> pl.DataFrame:
    """A setting's dated entries as a table: from when, which value."""
    entries = list(entries)  # type: ignore[call-overload]
    return pl.DataFrame(
        {"施行日": [since(d.start) for d in entries], "値": [shown(d.value) for d in entries]}
    )


# -- conflicts between the files and the app's edits ------------------------------------------------
with connection() as con:
    conflicts = edits.conflicts(files, edits.approved(con))
if conflicts:
    st.warning(
        f"設定ファイルで、この画面で変更した設定が後から変わっています（{len(conflicts)}件）。"
        "ファイルの変更はまだ適用していません。どちらに合わせるか決めてください。"
    )
    for state in conflicts:
        with st.expander(meaning(state.key), expanded=True):
            left, right = st.columns(2)
            left.markdown("**現在適用中（この画面の変更を含む）**")
            with left:
                table(entries_table(state.history))
            right.markdown("**ファイルの現在の内容**")
            with right:
                table(entries_table(state.file_history))
            reason = st.text_input("理由", key=f"{RESOLVE_REASON}_{state.key}")
            keep, adopt = st.columns(2)
            for column, keep_app, label in (
                (keep, True, "この画面の変更を維持（新しいファイルの上に重ねる）"),
                (adopt, False, "ファイルに合わせる（この画面の変更を外す）"),
            ):
                if column.button(label, key=f"resolve_{keep_app}_{state.key}"):
                    try:
                        with connection() as con:
                            edits.resolve(con, state.key, keep_app=keep_app, reason=reason,
                                          actor=user.username, files=files)  # fmt: skip
                    except ValidationError as exc:
                        st.error("、".join(exc.errors.values()))
                    except ConflictError as exc:
                        st.error(str(exc))
                    else:
                        flash("設定の食い違いを解消しました。")

# -- the configuration in force ---------------------------------------------------------------------
left, right = st.columns([2, 1])
scheme = left.selectbox(
    "制度", CONFIG_FILES, format_func=lambda c: str(cfg.value(f"{c}.name")), key=SCHEME
)
assert scheme is not None
on = right.date_input(
    "基準日", value=today, min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31), key=ON
)
with connection() as con:
    history = edits.changes(con, scheme)
edited_keys = {c["key"] for c in history if c["status"] == "approved" and c["kind"] == "set"}
rows = cfg.snapshot(scheme, on)
frame = pl.DataFrame(
    {
        "設定キー": [r["key"] for r in rows],  # as the files name it, for whoever edits them
        "説明": [meaning(r["key"]) for r in rows],
        "値": [
            shown(r["value"]) + (f" {r['unit']}" if r["unit"] and r["value"] is not None else "")
            for r in rows
        ],
        "施行日": [text.jp_date(r["in_force_from"]) if r["changes"] > 1 else "—" for r in rows],
        "変更元": ["この画面" if r["key"] in edited_keys else "ファイル" for r in rows],
    }
)
st.write(f"**{cfg.value(f'{scheme}.name')}** — {text.jp_date(on, with_wareki=True)}時点の設定")
table(frame, width="stretch")

# -- edit one value ---------------------------------------------------------------------------------
st.subheader("値を変更する")
keys = [r["key"] for r in rows if r["key"] != f"{scheme}.name"]
key = st.selectbox("設定", keys, format_func=meaning, key=KEY)
assert key is not None
setting = BY_KEY[key]
current = cfg.value(key, today)
st.caption(
    f"今日の値: {shown(current)}{(' ' + setting.unit) if setting.unit else ''}　"
    f"入力の形式: {edits.TYPE_WORDS.get(setting.type, setting.type)}"
)
value_key = f"{VALUE}_{key}"
if setting.type == "int":
    entered = st.number_input("新しい値", min_value=0, step=1, value=int(current), key=value_key)
    value_text = str(int(entered))
elif setting.type == "decimal":
    entered = st.number_input("新しい値", min_value=0.0, value=float(current), key=value_key)
    value_text = repr(float(entered))
elif setting.type == "bool":
    entered = st.radio("新しい値", [True, False], format_func=lambda b: "はい" if b else "いいえ",
                       index=0 if current else 1, horizontal=True, key=value_key)  # fmt: skip
    value_text = "true" if entered else "false"
elif setting.type == "date":
    entered = st.date_input("新しい値", value=current, key=value_key)
    value_text = toml_out.value(entered)
elif setting.type in ("str", "text", "month_day", "time", "registration_no"):
    entered = st.text_input("新しい値", value=str(current), key=value_key)
    value_text = toml_out.value(entered)
else:
    value_text = st.text_area(
        "新しい値（設定ファイルと同じ書き方で入力）",
        value=toml_out.value(current),
        key=value_key,
        height=120,
    )
effective_from = st.date_input("施行日（この日から適用）", value=today + dt.timedelta(days=1),
                               min_value=today, key=FROM, format="YYYY/MM/DD")  # fmt: skip
reason = st.text_area("変更の理由", key=REASON, placeholder="例: 2027年度理事会決定（第3号議案）")
approval = bool(cfg.value("common.config.second_approval", on=today))
if approval:
    st.info("この変更は、別の管理者が承認してから有効になります。")

inputs = (key, value_text, effective_from)
if st.button("影響を確認する", icon=":material/preview:"):
    try:
        _, checked = edits.validate(files, key, value_text, effective_from)
        with connection() as con:
            edits.check_day(con, effective_from, today)
            tunable = key in whatif.tunable_keys(cfg, effective_from)
            result = (
                whatif.compare(con, effective_from, {key: checked}, scope=user.scope,
                               codes=(scheme,)) if tunable else None
            )  # fmt: skip
    except ValidationError as exc:
        st.session_state.pop(PREVIEW, None)
        for message in exc.errors.values():
            st.error(message)
    else:
        st.session_state[PREVIEW] = (inputs, checked, result)

kept = st.session_state.get(PREVIEW)
if kept is not None and kept[0] == inputs:
    _, checked, result = kept
    before = cfg.value(key, effective_from)
    st.markdown(
        f"**{meaning(key)}**: {shown(before)} → **{shown(checked)}**"
        f"（{effective_from:%Y年%-m月%-d日}から）"
    )
    if result is None:
        st.info("この設定は更新の判定と会費の請求額に影響しません。")
    else:
        cols = st.columns(2)
        cols[0].metric("判定が変わる資格（担当範囲）", f"{result.moved:,} 件")
        cols[1].metric("会費収入の差（請求額）", f"{result.income_difference:+,} 円")
        moved = result.by_scheme().filter(pl.col("today") != pl.col("proposed"))
        if moved.height:
            table(
                moved.select("scheme", "today", "proposed", "n"),
                words={"today": OUTCOME_LABELS, "proposed": OUTCOME_LABELS},
                headers={"today": "現在の判定", "proposed": "変更後の判定"},
            )
        else:
            st.info(f"{effective_from:%Y年%-m月%-d日}時点では、判定の変わる資格はありません。")
    if st.button("変更を保存", type="primary", icon=":material/save:"):
        try:
            with connection() as con:
                edits.propose(con, key=key, value_text=value_text, effective_from=effective_from,
                              reason=reason, actor=user.username, files=files)  # fmt: skip
        except (ValidationError, ConflictError) as exc:
            messages = exc.errors.values() if isinstance(exc, ValidationError) else [str(exc)]
            for message in messages:
                st.error(message)
        else:
            st.session_state.pop(PREVIEW, None)
            flash("変更を申請しました。別の管理者の承認後に有効になります。" if approval
                  else "変更を保存しました。施行日から適用されます。")  # fmt: skip
elif kept is not None:
    st.caption("入力が変わりました。もう一度「影響を確認する」を押してください。")

# -- pending edits (second approval) -----------------------------------------------------------------
pending = [c for c in history if c["status"] == "pending"]
if pending:
    st.subheader("承認待ちの変更")
    for change in pending:
        own = change["requested_by"] == user.username
        with st.container(border=True):
            st.markdown(
                f"**{meaning(change['key'])}**: "
                f"{stored_words(change['key'], change['value_toml'])}　"
                f"{change['effective_from']:%Y年%-m月%-d日}から　"
                f"申請: {change['requested_by']}　理由: {change['reason']}"
            )
            note = st.text_input(
                "コメント（差戻しのときは必須）", key=f"{NOTE}_{change['change_id']}"
            )
            if own:
                pressed = st.button("取り下げる", key=f"withdraw_{change['change_id']}")
                choice = False
            else:
                left, right = st.columns(2)
                approve = left.button(
                    "承認する", type="primary", key=f"approve_{change['change_id']}"
                )
                reject = right.button("差し戻す", key=f"reject_{change['change_id']}")
                pressed, choice = approve or reject, approve
            if pressed:
                try:
                    with connection() as con:
                        edits.decide(con, change["change_id"], approve=choice,
                                     actor=user.username, note=note)  # fmt: skip
                except (ValidationError, ConflictError) as exc:
                    messages = (
                        exc.errors.values() if isinstance(exc, ValidationError) else [str(exc)]
                    )
                    for message in messages:
                        st.error(message)
                else:
                    flash("承認しました。" if choice else "処理しました。")

# -- history -----------------------------------------------------------------------------------------
dated = [r for r in rows if r["changes"] > 1]
if dated:
    st.subheader("日付で変わる設定")
    for r in dated:
        st.markdown(f"**{meaning(r['key'])}**")
        table(entries_table(cfg.history(r["key"])))
if history:
    st.subheader("この画面での変更の履歴")
    log = pl.DataFrame(
        {
            "requested_at": [c["requested_at"] for c in history],
            "setting": [meaning(c["key"]) if c["key"] in BY_KEY else c["key"] for c in history],
            "kind": [c["kind"] for c in history],
            "value": [stored_words(c["key"], c["value_toml"]) if c["value_toml"] else None
                      for c in history],
            "effective_from": [c["effective_from"] for c in history],
            "reason": [c["reason"] for c in history],
            "status": [c["status"] for c in history],
            "requested_by": [c["requested_by"] for c in history],
            "decided_by": [c["decided_by"] for c in history],
            "decision_note": [c["decision_note"] for c in history],
        }
    )  # fmt: skip
    table(
        log,
        words={"kind": CONFIG_CHANGE_KINDS, "status": CONFIG_CHANGE_STATUSES},
        headers={"requested_at": "日時", "setting": "設定", "value": "値",
                 "effective_from": "施行日", "requested_by": "実施者", "decided_by": "処理者",
                 "decision_note": "コメント"},
    )  # fmt: skip

# -- the configuration in force as files --------------------------------------------------------------
st.subheader("適用中の設定をファイルとして書き出す")
st.caption(
    "設定ファイルの内容にこの画面の変更を重ねた、いま適用中の設定です。配備の同じ名前の設定ファイルと"
    "置き換えれば、次の配備もこの設定から始まります。"
)
header = (
    f"{cfg.value(f'{scheme}.name')}: the configuration in force, written {today.isoformat()}\n"
    "by 制度設定: data/schemes with the edits made in the app (docs/configuration.md)."
)
st.download_button(
    "設定ファイルをダウンロード",
    data=toml_out.file_text(cfg, scheme, header).encode("utf-8"),
    file_name=f"{scheme}.toml",
    mime="application/toml",
    key="config_export",
    icon=":material/download:",
)
