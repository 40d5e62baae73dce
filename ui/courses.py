"""What the course pages share: the courses to choose from, and rows in the words staff read
(codes through the vocabulary, Japanese headers, names masked for analysts)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core import masking, vocabulary
from core.courses import catalogue
from ui import widgets
from ui.data import connection

LABELS = {
    "course_code": "講習コード",
    "title": "講習名",
    "scheme": "制度",
    "domain": "領域",
    "qualification": "対象資格",
    "hours": "時間",
    "held_on": "開催日",
    "held_until": "最終日",
    "starts_at": "開始",
    "ends_at": "終了",
    "venue": "会場",
    "lecturer": "講師",
    "capacity": "定員",
    "reserved": "予約",
    "waitlisted": "キャンセル待ち",
    "free": "空席",
    "minimum": "開講最少人数",
    "materials_fee": "教材費",
    "fee": "受講料",
    "recruit_from": "募集開始",
    "recruit_until": "募集終了",
    "extra_from": "追加募集開始",
    "extra_until": "追加募集終了",
    "notes": "持ち物・備考",
    "phase": "状況",
    "member_no": "会員番号",
    "name": "氏名",
    "kana": "フリガナ",
    "organization": "所属",
    "reserved_at": "予約受付日時",
    "seated_at": "座席確定日時",
    "waitlist_position": "待ち順位",
    "stage": "状態",
    "form_received_on": "申込書到着日",
    "form_due_on": "申込書の期限",
    "fee_due_on": "支払期限",
    "attended": "出欠",
    "minutes_late": "遅刻（分）",
    "delay_certificate": "遅延証明書",
    "score": "得点",
    "exam_on": "試験日",
    "exams": "受験回数",
    "certificate_no": "修了証明書番号",
    "certificate_due": "発行期限",
    "certificate_issued_at": "発行日時",
    "ended_on": "終了日",
    "end_reason": "終了の理由",
    "completed_on": "修了日",
    "event": "出来事",
    "happened_at": "日時",
    "detail": "内容",
}
WORDS = {
    "domain": vocabulary.COURSE_DOMAINS,
    "phase": vocabulary.COURSE_PHASES,
    "stage": vocabulary.ENROLMENT_STAGES,
    "attended": vocabulary.ATTENDANCE,
    "end_reason": vocabulary.END_REASONS,
    "event": vocabulary.COURSE_EVENTS,
}


def in_words(frame: pl.DataFrame, *, masked: bool) -> pl.DataFrame:
    """Names masked for analysts, fees as 1,400円 and a shown delay certificate as あり; the
    codes are put in words on their way out (table, download: ui.display with WORDS)."""
    shown = masking.mask_personal(frame) if masked else frame
    replaced = []
    for money in ("fee", "materials_fee"):
        if money in shown.columns:
            replaced.append(
                pl.col(money).map_elements(lambda n: f"{n:,}円", return_dtype=pl.String)
            )
    if "delay_certificate" in shown.columns:
        replaced.append(
            pl.when(pl.col("delay_certificate"))
            .then(pl.lit("あり"))
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias("delay_certificate")
        )
    return shown.with_columns(replaced) if replaced else shown


def table(frame: pl.DataFrame, **kwargs: object) -> object:
    """A table of the course pages (ui.widgets.table): the course words and headers, times of
    day as 09:00."""
    times = {
        c: st.column_config.TimeColumn(LABELS.get(c, c), format="HH:mm")
        for c, dtype in frame.schema.items()
        if dtype == pl.Time
    }
    return widgets.table(frame, words=WORDS, headers=LABELS, column_config=times, **kwargs)


def download(frame: pl.DataFrame, stem: str, key: str) -> None:
    """CSV and Excel of a course table for people (ui.widgets.downloads)."""
    widgets.downloads(frame, stem, key, words=WORDS, headers=LABELS)


def nearest(choices: dict[str, str], days: dict[str, object]) -> int:
    """The index of the course held nearest to today (the one staff most likely want)."""
    import datetime as dt

    today = dt.date.today()
    gaps = [abs((days[c] - today).days) if isinstance(days.get(c), dt.date) else 10**6  # type: ignore[operator]
            for c in choices]  # fmt: skip
    return gaps.index(min(gaps)) if gaps else 0


@st.cache_data(ttl=60)
def course_days() -> dict[str, object]:
    """Each course's first day."""
    with connection() as con:
        return dict(con.execute("SELECT course_code, held_on FROM courses").fetchall())


@st.cache_data(ttl=60)
def course_choices(scheme_codes: tuple[str, ...] | None = None) -> dict[str, str]:
    """Every course (code → 「2021年8月2日 講習名（コード）」), latest first."""
    with connection() as con:
        found = catalogue.listing(con, scheme_codes=scheme_codes)
    found = found.sort("held_on", "course_code", descending=True)
    return {
        r["course_code"]: f"{r['held_on']:%Y年%-m月%-d日} {r['title']}（{r['course_code']}）"
        for r in found.iter_rows(named=True)
    }


NOTICE = "course_notice"


def notice(message: str, course_code: str) -> None:
    """Keep a success message for the course's page and rerun: it stays until the next action or
    another course (a flash shown once could be lost to the rerun a tab or grid sends)."""
    st.session_state[NOTICE] = (course_code, message)
    st.rerun()


def show_notice(course_code: str) -> None:
    """The message an action on this course left, if any."""
    kept = st.session_state.get(NOTICE)
    if kept and kept[0] == course_code:
        st.success(kept[1])
    elif kept:
        st.session_state.pop(NOTICE, None)
