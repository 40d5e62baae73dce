"""承認待ち: the applications waiting at the user's level and subtree; approve many, send back one."""

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import duckdb
import polars as pl
import streamlit as st

from core import schemes, vocabulary
from core.applications import approvals, queue, records, routing
from core.applications.queue import QueueFilter
from core.errors import ConflictError, ValidationError
from core.members import records as members
from core.vocabulary import QUEUE_FLAGS as FLAGS
from ui.auth import CurrentUser, current_user
from ui.data import connection, settings
from ui.widgets import downloads, flash, show_flash, table

SCHEME = "queue_scheme"
KIND = "queue_kind"
LEVEL = "queue_level"
FLAG = "queue_flag"
MIN_HOURS = "queue_min_hours"
GRID = "queue_grid"
GRID_ROUND = "queue_grid_round"  # a new grid (and no selection) after each action
APPROVE = "queue_approve"
REASON = "queue_send_back_reason"
NOTE = "queue_send_back_note"
ANY = "（すべて）"
T = TypeVar("T")

user: CurrentUser = current_user("approval_queue")
cfg = settings()
may_approve = user.role in routing.APPROVER_ROLES
st.title("承認待ち")
st.caption(
    f"担当範囲: {user.scope_name}。"
    + ("ご自身の段階で承認を待つ申請だけを表示します。" if user.role == "approver" else "")
    + "待ち時間の長い順です。"
)
show_flash()

approver = user.role == "approver"  # an approver's level is their organisation's: no choice
cols = iter(st.columns([2, 2, 2, 1] if approver else [2, 2, 2, 2, 1]))
scheme = next(cols).selectbox(
    "制度", [ANY, *schemes.CODES], format_func=lambda c: c if c == ANY else cfg.scheme_name(c),
    key=SCHEME,
)  # fmt: skip
kind = next(cols).selectbox(
    "申請の種類",
    [ANY, *vocabulary.APPLICATION_KINDS],
    format_func=lambda k: vocabulary.APPLICATION_KINDS.get(k, k),
    key=KIND,
)
level = (
    ANY
    if approver
    else next(cols).selectbox(
        "段階",
        [ANY, *vocabulary.LEVELS],
        format_func=lambda k: vocabulary.LEVELS.get(k, k),
        key=LEVEL,
    )
)
flag = next(cols).selectbox(
    "確認事項", [ANY, *FLAGS], format_func=lambda k: FLAGS.get(k, k), key=FLAG
)
min_hours = next(cols).number_input("待ち時間（時間以上）", min_value=0, step=12, key=MIN_HOURS)
filters = QueueFilter(
    scheme=None if scheme == ANY else scheme,
    kind=None if kind == ANY else kind,
    level=None if level == ANY else level,
    flag=None if flag == ANY else flag,
    min_hours=float(min_hours) or None,
)

with connection() as con:
    rows, counts = queue.queue(con, role=user.role, scope=user.scope, filters=filters)

metrics = st.columns(4)
metrics[0].metric("承認待ち", f"{counts['total']:,} 件")
metrics[1].metric("期限超過", f"{counts['overdue']:,} 件")
metrics[2].metric("24時間以内に期限", f"{counts['due']:,} 件")
metrics[3].metric("要確認", f"{counts['flagged']:,} 件")
if rows.is_empty():
    st.info("承認を待っている申請はありません。")
    st.stop()
if counts["total"] > rows.height:
    st.caption(f"待ち時間の長い {rows.height:,} 件を表示しています（全 {counts['total']:,} 件）。")


def checks(row: dict) -> str:
    found = []
    if row["duplicate_of"]:
        found.append(f"二重申請？（{row['duplicate_of']}）")
    if row["same_person_as"]:
        found.append(f"同一人物？（{row['same_person_as']}）")
    if row["address_problem"]:
        found.append(str(row["address_problem"]))
    if row["returns_qualification"]:
        found.append("資格返上あり（クラブに確認）")
    return "・".join(found)


shown = rows.select(
    "application_ref",
    "sla",
    "waiting_hours",
    "due_at",
    "scheme",
    "kind",
    "season",
    "member_no",
    *(["name"] if not user.masked else []),
    "org_name",
    "level",
    "level_org_name",
    "entered_by",
    "submitted_at",
    pl.Series("checks", [checks(r) for r in rows.iter_rows(named=True)]),
)
WORDS = {"kind": vocabulary.APPLICATION_KINDS}
# a new grid (no stale row positions) for every filter and after every action
grid_key = f"{GRID}_{st.session_state.get(GRID_ROUND, 0)}_{filters.token()}"
event = table(
    shown,
    words=WORDS,
    on_select="rerun",
    selection_mode="multi-row",
    key=grid_key,
)
picked = [
    rows.row(i, named=True)
    for i in event.selection.rows  # type: ignore[attr-defined]
    if i < rows.height
]
downloads(shown, "承認待ち", "queue_download", words=WORDS)


def act(action: Callable[[duckdb.DuckDBPyConnection], T], message: Callable[[T], str]) -> None:
    """Run an approver's action; words for what went wrong, or a fresh grid and the result."""
    st.session_state[GRID_ROUND] = st.session_state.get(GRID_ROUND, 0) + 1
    try:
        with connection() as con:
            result = action(con)
    except (ConflictError, ValidationError, PermissionError) as exc:
        st.error(f"{exc}（一覧を読み込み直しました。選び直してください。）")
        return
    flash(message(result))
    st.rerun()


if may_approve:
    if st.button(
        f"選択した {len(picked)} 件を承認",
        type="primary",
        disabled=not picked,
        key=APPROVE,
        help="選んだ申請をまとめて承認します（1件でも処理できなければ何も承認しません）。",
    ):
        act(
            lambda con: approvals.approve(
                con,
                [(r["application_id"], r["version"]) for r in picked],
                role=user.role,
                scope=user.scope,
                actor=user.username,
            ),
            lambda done: (
                f"{len(picked):,} 件を承認しました（次の段階へ {done['advanced']:,} 件、"
                f"承認完了 {done['approved']:,} 件）。"
            ),
        )
else:
    st.info("閲覧のみです。承認・差戻しは承認者と管理者が行います。")

if len(picked) != 1:
    st.caption("1 件だけ選ぶと、詳細・履歴の確認と差戻しができます。")
    st.stop()

chosen = picked[0]
st.subheader(f"申請 {chosen['application_ref']}")
with connection() as con:
    history = records.history(con, chosen["application_id"])
    other = records.get(con, chosen["duplicate_of"]) if chosen["duplicate_of"] else None
    twin = (
        members.get(con, user.scope, chosen["same_person_as"]) if chosen["same_person_as"] else None
    )
left, right = st.columns(2)
with left:
    st.markdown(
        f"- 種類: {vocabulary.APPLICATION_KINDS.get(chosen['kind'], chosen['kind'])}"
        f"（{cfg.scheme_name(chosen['scheme'])}"
        + (f"・{chosen['season']}年度" if chosen["season"] else "")
        + ")\n"
        f"- 会員: {chosen['member_no'] or '（新規入会・承認時に採番）'}"
        + ("" if user.masked else f" {chosen['name'] or ''}")
        + f"\n- 所属: {chosen['org_name'] or '—'}"
        + (f"\n- 資格: {cfg.qualification_label(chosen['scheme'], chosen['qualification'])}"
           if chosen["qualification"] else "")
        + (f"\n- 移籍先: {chosen['target_org_code']}" if chosen["target_org_code"] else "")
        + (f"\n- 事由: {schemes.get(chosen['scheme']).reason_label(cfg, chosen['reason'], dt.date.today())}"
           if chosen["reason"] else "")
        + (f"\n- 備考: {chosen['note']}" if chosen["note"] else "")
    )  # fmt: skip
    if chosen["member_no"]:
        st.page_link(
            "views/member_lookup.py",
            label="会員ページを開く",
            icon=":material/person:",
            query_params={"member": chosen["member_no"]},
        )
with right:
    if other:
        st.warning(
            f"二重申請の疑い: 申請 {other['application_ref']}"
            f"（{vocabulary.APPLICATION_STATUSES.get(other['status'], other['status'])}、"
            f"申請日時 {other['submitted_at']:%Y-%m-%d %H:%M}）"
        )
    if chosen["same_person_as"]:
        described = (
            f"{twin['family_name']} {twin['given_name']}（{twin['organization']}）"
            if twin and not user.masked
            else "担当範囲外の会員"
        )
        st.warning(
            f"同一人物の疑い: 会員番号 {chosen['same_person_as']} {described}"
            " — 氏名・フリガナ・生年月日が一致します。"
        )
    if chosen["address_problem"]:
        st.warning(f"住所の確認: {chosen['address_problem']}")
    if chosen["returns_qualification"]:
        st.warning("資格の返上を含みます。県連承認時にクラブへ返上の意思を確認してください。")
st.markdown("**履歴**")
table(history, words={"action": vocabulary.APPLICATION_ACTIONS})

if may_approve:
    reasons = cfg.value(f"{chosen['scheme']}.send_back_reasons")
    with st.form("send_back_form"):
        st.markdown("**差戻し**（申請者が修正して再申請できます）")
        # no reason is chosen in advance: a hurried approver must not send back for the
        # first reason of the list
        reason = st.selectbox(
            "差戻理由",
            list(reasons),
            index=None,
            placeholder="差戻理由を選んでください",
            format_func=reasons.get,
            key=f"{REASON}_{chosen['application_id']}",  # nothing carries over to the next one
        )
        note = st.text_area("メモ（申請者への連絡事項）", key=f"{NOTE}_{chosen['application_id']}")
        sent = st.form_submit_button("差戻す")
    if sent and reason is None:
        st.error("差戻理由を選んでください。")
    elif sent:
        act(
            lambda con: approvals.send_back(
                con,
                chosen["application_id"],
                chosen["version"],
                reason=reason,
                note=note,
                role=user.role,
                scope=user.scope,
                actor=user.username,
            ),
            lambda _: f"申請 {chosen['application_ref']} を差戻しました（{reasons[reason]}）。",
        )
