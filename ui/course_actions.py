"""The roster page's 手続き tab: reserve for a member, cancel or record a withdrawal, receive an
envelope of application forms, move the participants of a course not opened, cancel a course.
Each action is one core call; its refusal is shown in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import streamlit as st

from core import vocabulary
from core.billing import refunds
from core.courses import catalogue, changes, enrolment, transfers
from core.courses.enrolment import EnrolmentRefused
from core.errors import ConflictError
from ui.auth import CurrentUser
from ui.courses import course_choices, course_days, notice
from ui.data import connection

ACTIVE = ("reserved", "waitlisted")


def show(user: CurrentUser, course: dict[str, Any], people: pl.DataFrame) -> None:
    """The tab for one course (`people`: its roster)."""
    code = str(course["course_code"])
    today = dt.date.today()
    left, right = st.columns(2)
    with left, st.container(border=True):
        _reserve(user, code)
    with right, st.container(border=True):
        _forms(user, code, today)
    with st.container(border=True):
        _cancel(user, code, course, people, today)
    if course["status"] == "not_opened":
        with st.container(border=True):
            _transfer(user, code, people, today)
    if course["status"] == "scheduled" and course["held_on"] >= today:
        with st.container(border=True):
            _cancel_course(user, code, today)


def _done(message: str, code: str) -> None:
    course_choices.clear()
    course_days.clear()
    notice(message, code)


def _reserve(user: CurrentUser, code: str) -> None:
    st.markdown("##### 予約の登録（先着順・満席ならキャンセル待ち）")
    with st.form("roster_reserve", clear_on_submit=True):
        member = st.text_input("会員番号", key="roster_reserve_member")
        when = st.text_input("受付日時（例 2026-05-01 06:00。空欄なら今）", key="roster_reserve_at")
        go = st.form_submit_button("予約する", type="primary")
    if not go:
        return
    try:
        at = dt.datetime.strptime(when.strip(), "%Y-%m-%d %H:%M") if when.strip() else None
    except ValueError:
        st.error("受付日時は 2026-05-01 06:00 のように、日付と時刻で入力してください。")
        return
    try:
        with connection() as con:
            done = enrolment.reserve(con, member, code, actor=user.username, at=at)
    except (EnrolmentRefused, ConflictError) as exc:
        st.error(f"予約できません: {exc}")
        return
    where = (
        "座席を確保しました"
        if done.status == "reserved"
        else f"キャンセル待ち {done.position}番目です"
    )
    _done(f"会員 {done.member_no} の予約を受け付けました（{where}）。", code)


def _forms(user: CurrentUser, code: str, today: dt.date) -> None:
    st.markdown("##### 受講申込書の受理（封筒ごと）")
    with st.form("roster_forms", clear_on_submit=True):
        member = st.text_input("会員番号（封筒の受講者ID）", key="roster_forms_member")
        day = st.date_input("到着日", value=today, max_value=today, key="roster_forms_day")
        go = st.form_submit_button("申込書を受理する", type="primary")
    st.caption(
        "その会員の申込書待ちの予約すべてを、同じ到着日で受理します（請求書は到着日ごとに1通）。"
    )
    if not go:
        return
    try:
        with connection() as con:
            codes = changes.record_forms(con, member.strip(), received_on=day, actor=user.username)
    except (ValueError, ConflictError) as exc:
        st.error(str(exc))
        return
    _done(f"会員 {member.strip()} の受講申込書を受理しました（{'、'.join(codes)}）。", code)


def _cancel(
    user: CurrentUser, code: str, course: dict[str, Any], people: pl.DataFrame, today: dt.date
) -> None:
    st.markdown("##### 予約の取消・受講辞退届")
    active = people.filter(pl.col("stage").is_in(["waitlisted", "reserved", "form_received",
                                                   "invoiced", "paid"]))  # fmt: skip
    if active.is_empty():
        st.caption("取り消せる予約はありません。")
        return
    names = {r["member_no"]: f"{r['member_no']} {r['name'] or ''}（{vocabulary.ENROLMENT_STAGES[r['stage']]}）"
             for r in active.iter_rows(named=True)}  # fmt: skip
    reasons = {"": "返還しない", **refunds.reasons(str(course["scheme"]), today)}
    with st.form("roster_cancel"):
        row = st.columns([3, 1, 2])
        member = row[0].selectbox(
            "受講者", list(names), format_func=names.get, key="roster_cancel_member"
        )
        day = row[1].date_input("取消日（辞退届の受理日）", value=today, key="roster_cancel_day")
        refund = row[2].selectbox("受講料の返還", list(reasons), format_func=reasons.get,
                                  key="roster_cancel_refund")  # fmt: skip
        note = st.text_input("備考", key="roster_cancel_note")
        go = st.form_submit_button("取り消す", type="primary")
    st.caption(
        "申込書の到着前は無料の取消、到着後は受講辞退届による辞退です（受講料は返還しません。返還事由に当たる場合だけ選んでください）。"
    )
    if not go:
        return
    try:
        with connection() as con:
            done = changes.cancel(con, member, code, actor=user.username, on=day,
                                  refund_reason=refund or None, note=note)  # fmt: skip
    except (ValueError, ConflictError) as exc:
        st.error(str(exc))
        return
    what = "取り消しました" if done.kind == "member" else "受講辞退として記録しました"
    moved = f" キャンセル待ちから繰上げ: {'、'.join(done.promoted)}" if done.promoted else ""
    _done(f"会員 {member} の予約を{what}。{moved}", code)


def _transfer(user: CurrentUser, code: str, people: pl.DataFrame, today: dt.date) -> None:
    st.markdown("##### 他の講習への振替（不開講）")
    waiting = people.filter(
        (pl.col("stage") == "not_opened") & (pl.col("end_reason") == "not_opened")
    )
    if waiting.is_empty():
        st.caption("振替を待っている受講者はいません。")
        return
    with connection() as con:
        targets = transfers.candidates(con, code, today)
    if targets.is_empty():
        st.warning("同じ制度・領域で開講予定の講習がありません。")
        return
    labels = {r["course_code"]: f"{r['held_on']:%Y年%-m月%-d日} {r['title']}（{r['course_code']}）"
              f" 予約 {r['reserved']}/{r['capacity'] or '—'}" for r in targets.iter_rows(named=True)}  # fmt: skip
    names = {
        r["enrolment_id"]: f"{r['member_no']} {r['name'] or ''}"
        for r in waiting.iter_rows(named=True)
    }
    with st.form("roster_transfer"):
        target = st.selectbox(
            "振替先の講習", list(labels), format_func=labels.get, key="roster_transfer_to"
        )
        chosen = st.multiselect("振替える受講者", list(names), default=list(names),
                                format_func=names.get, key="roster_transfer_who")  # fmt: skip
        go = st.form_submit_button("振替える", type="primary")
    st.caption("予約の受付順を保って振替先の空席に入り、満席なら受付順にキャンセル待ちになります。")
    if not go:
        return
    try:
        with connection() as con:
            moved = transfers.transfer(con, chosen, target, on=today, actor=user.username)
    except (ValueError, ConflictError) as exc:
        st.error(str(exc))
        return
    seated = moved.filter(pl.col("status") == "reserved").height
    _done(
        f"{moved.height}人を {target} へ振替えました（座席 {seated}人、キャンセル待ち {moved.height - seated}人）。",
        code,
    )


def _cancel_course(user: CurrentUser, code: str, today: dt.date) -> None:
    st.markdown("##### 講習の中止（天災等）")
    with st.form("roster_cancel_course"):
        note = st.text_input("中止の理由", key="roster_cancel_course_note")
        sure = st.checkbox(
            "受講者全員の予約を取り消し、入金済みの受講料を全額返還します",
            key="roster_cancel_course_sure",
        )
        go = st.form_submit_button("講習を中止する")
    if not go:
        return
    if not sure:
        st.error("確認のチェックを入れてください。")
        return
    try:
        with connection() as con:
            ended = catalogue.cancel_course(con, code, on=today, actor=user.username, note=note)
    except (ValueError, ConflictError) as exc:
        st.error(str(exc))
        return
    _done(
        f"講習 {code} を中止しました（予約 {ended.ended}件を取消、返還 {ended.lines_refunded}件）。",
        code,
    )
