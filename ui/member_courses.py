"""The member page's 講習 tab: the member's reservations, places on waitlists and completions."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core.courses import roster
from ui.auth import CurrentUser
from ui.courses import in_words, table
from ui.data import connection

COLUMNS = ["course_code", "title", "scheme", "domain", "hours", "held_on", "stage",
           "waitlist_position", "reserved_at", "form_received_on", "attended", "score",
           "certificate_no"]  # fmt: skip


def count(member_no: str) -> int:
    """How many reservations the member has made (for the tab's label)."""
    with connection() as con:
        found = con.execute(
            "SELECT count(*) FROM enrolments WHERE member_no = ?", [member_no]
        ).fetchall()
    return int(found[0][0])


def show(user: CurrentUser, member_no: str) -> None:
    """The tab: every reservation of the member, newest course first, and what came of it."""
    with connection() as con:
        rows = roster.of_member(con, member_no)
    if rows.is_empty():
        st.info("講習の予約はありません。")
        return
    waiting = rows.filter(pl.col("stage") == "waitlisted")
    done = rows.filter(pl.col("stage") == "completed")
    if waiting.height:
        st.caption(
            "キャンセル待ち: "
            + "、".join(
                f"{r['title']} {r['waitlist_position']}番目" for r in waiting.iter_rows(named=True)
            )
        )
    if done.height:
        st.caption(f"修了した講習 {done.height}件（更新の実績に計上されています）")
    shown = rows.select([c for c in COLUMNS if c in rows.columns])
    shown = shown.select([c for c in shown.columns if shown[c].null_count() < shown.height])
    table(in_words(shown, masked=user.masked), key="member_courses")
    st.page_link("views/course_roster.py", label="受講者名簿を開く", icon=":material/groups:",
                 query_params={"course": rows["course_code"][0]})  # fmt: skip
