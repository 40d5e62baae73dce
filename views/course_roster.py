"""受講者名簿: one course's participants in reservation order with their status and the waitlist,
attendance and exam scores (a grid or attendance.csv), completion certificates, the sign-in
sheet, and the procedures staff carry out on reservations."""

import datetime as dt
import functools
import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from core import imports, vocabulary
from core.courses import catalogue, results, roster
from core.documents import courses as documents
from core.errors import ConflictError, FileProblem, InputFileError
from core.store import exports
from ui import course_actions, display
from ui.auth import current_user
from ui.courses import (
    course_choices,
    course_days,
    download,
    in_words,
    nearest,
    notice,
    show_notice,
    table,
)
from ui.data import connection, settings
from ui.widgets import show_flash

COURSE = "roster_course"
TAB = "roster_tab"
ENDED = "roster_show_ended"
GRID = "roster_grid"
UPLOAD = "roster_upload"
PICK_CERT = "roster_certificate"
SEATED = ("reserved", "form_received", "invoiced", "paid", "result_pending", "completed",
          "absent", "failed")  # fmt: skip
ATTENDED = {None: "", **vocabulary.ATTENDANCE}
METHODS = vocabulary.EXAM_METHODS
GRID_LABELS = {"member_no": "会員番号", "course_code": "講習", "attended": "出欠",
               "minutes_late": "遅刻（分）", "score": "得点", "exam_on": "試験日", "method": "方法",
               "delay_certificate": "遅延証明書"}  # fmt: skip


def _sheet(course_code: str) -> bytes:
    """The sign-in sheet, made when the button is clicked."""
    with connection() as con:
        return documents.sign_in_sheet(con, course_code)


def _certificates(course_code: str, ids: list[int] | None) -> bytes:
    """Completion certificates, made when the button is clicked."""
    with connection() as con:
        return documents.certificates(con, course_code, ids)


def _whole(value: object) -> object:
    """A grid's number as typed: 80.0 is 80 (the editor hands back floats); else unchanged,
    so the rules name what is not a whole number."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _template(seated: pl.DataFrame, course_code: str) -> pl.DataFrame:
    """attendance.csv for the course: a row for each seated participant with what is recorded
    (staff fill in the rest and import it)."""
    return seated.select(
        "member_no", pl.lit(course_code).alias("course_code"), "attended", "minutes_late",
        pl.col("score").cast(pl.Int64), "exam_on",
        pl.when(pl.col("score").is_not_null()).then(pl.lit("written")).alias("method"),
        pl.when(pl.col("delay_certificate")).then(pl.lit("yes")).alias("delay_certificate"),
    )  # fmt: skip


def _report(problems: list[FileProblem]) -> None:
    """The grid's problems by row (a file's line 2 is the grid's first row) and column."""
    for problem in problems:
        label = GRID_LABELS.get(problem.column, problem.column)
        st.error(f"{problem.line - 1}行目・{label}: {problem.message}")


user = current_user("course_roster")
cfg = settings()
st.title("受講者名簿")
show_flash()
choices = course_choices()
if not choices:
    st.info("講習がありません。講習一覧で講習を登録してください。")
    st.stop()
wanted = st.query_params.get("course")
if wanted in choices and COURSE not in st.session_state:
    st.session_state[COURSE] = wanted
if COURSE not in st.session_state:
    st.session_state[COURSE] = list(choices)[nearest(choices, course_days())]
code = st.selectbox(
    "講習（名前・コードで絞り込めます）",
    list(choices),
    format_func=choices.get,
    key=COURSE,
    on_change=lambda: st.query_params.update(course=st.session_state[COURSE]),  # the address
)
today = dt.date.today()
with connection() as con:
    course = catalogue.course(con, code)
    people = roster.participants(con, [code], scope=user.scope)

show_notice(code)
st.subheader(f"{course['title']}（{code}）")
when = f"{course['held_on']:%Y年%-m月%-d日}"
if course["held_until"] and course["held_until"] != course["held_on"]:
    when += f"〜{course['held_until']:%-m月%-d日}"
if course["starts_at"] and course["ends_at"]:
    when += f" {course['starts_at']:%H:%M}〜{course['ends_at']:%H:%M}"
facts = [cfg.scheme_name(course["scheme"]), when, f"{course['hours']}時間"]
facts += [vocabulary.COURSE_DOMAINS.get(course["domain"] or "", "")]
facts += [
    f"会場 {course['venue']}" if course["venue"] else "",
    f"講師 {course['lecturer']}" if course["lecturer"] else "",
]
st.caption("　".join(f for f in facts if f))
if course["notes"]:
    st.caption(f"持ち物・備考: {course['notes']}")
figures = st.columns(6)
figures[0].metric("定員", f"{course['capacity']:,} 人" if course["capacity"] else "—")
figures[1].metric("予約（座席）", f"{course['reserved']:,} 人")
figures[2].metric("キャンセル待ち", f"{course['waitlisted']:,} 人")
figures[3].metric("空席", f"{course['free']:,} 席" if course["free"] is not None else "—")
figures[4].metric("開講最少人数", f"{course['minimum']:,} 人" if course["minimum"] else "なし")
figures[5].metric("状況", vocabulary.COURSE_PHASES[course["phase"]])
if course["status"] != "scheduled":
    st.warning(f"この講習は{vocabulary.COURSE_STATUSES[course['status']]}です。")
elif course["minimum"] and course["reserved"] < course["minimum"] and course["phase"] != "held":
    st.info(
        f"予約が開講最少人数（{course['minimum']}人）に達していません。募集終了時に満たなければ不開講です。"
    )

names = ["受講者", "出欠・成績", "修了証明書", "履歴"] + (["手続き"] if user.may_correct else [])
tabs = st.tabs(names, key=TAB, on_change="rerun")  # the tab stays open after a save

with tabs[0]:
    show_ended = st.toggle("取消・削除・不開講も表示する", key=ENDED)
    ended = ["cancelled", "deleted"] + ([] if course["status"] == "not_opened" else ["not_opened"])
    listed = people if show_ended else people.filter(~pl.col("stage").is_in(ended))
    columns = ["member_no", "name", "kana", "organization", "reserved_at", "waitlist_position",
               "stage", "form_received_on", "form_due_on", "fee", "fee_due_on", "attended",
               "minutes_late", "score", "ended_on", "end_reason"]  # fmt: skip
    shown = in_words(listed.select(columns), masked=user.masked)
    shown = shown.select(
        [c for c in shown.columns if shown[c].null_count() < shown.height or c in columns[:7]]
    )
    if listed.is_empty():
        st.info("予約はありません。")
    else:
        table(shown, key="roster_people")
        download(shown, f"roster_{code}", key="roster_download")
    if not user.masked and course["reserved"]:
        st.download_button("受講者名簿（出席簿）をPDFで印刷する", on_click="ignore",
                           data=functools.partial(_sheet, code), mime="application/pdf",
                           file_name=f"受講者名簿_{code}.pdf", key="roster_sheet")  # fmt: skip


with tabs[1]:
    seated = people.filter(pl.col("stage").is_in(SEATED))
    if course["held_on"] > today:
        st.info(f"出欠と成績は講習の実施日（{course['held_on']:%Y年%-m月%-d日}）から入力できます。")
    elif seated.is_empty():
        st.info("座席のある受講者はいません。")
    elif user.masked or not user.may_correct:
        table(in_words(seated.select("member_no", "name", "attended", "minutes_late", "score",
                                     "exam_on", "stage"), masked=user.masked))  # fmt: skip
    else:
        exam = course["scheme"] and cfg.value(f"{course['scheme']}.exam.pass_score") > 0
        st.caption(
            "出欠・遅刻（分）・得点を入力して保存します。30分を超える遅刻は欠席として扱います。"
            "追試験は、試験日を後の日付にして得点を入力します（同じ試験日なら訂正）。"
            if exam
            else "出欠・遅刻（分）を入力して保存します（この講習に修了認定試験はありません）。"
        )
        grid = seated.select(
            "member_no", "name",
            pl.col("attended").replace_strict(ATTENDED, default="").alias("attended"),
            "minutes_late",
            pl.when(pl.col("delay_certificate")).then(pl.lit(display.YES)).otherwise(pl.lit(display.NO))
            .alias("delay_certificate"),
            pl.col("score").cast(pl.Int64), "exam_on",
            pl.lit(METHODS["written"]).alias("method"),
            pl.col("stage").replace_strict(vocabulary.ENROLMENT_STAGES, default="").alias("stage"),
        )  # fmt: skip
        edited = st.data_editor(
            grid, hide_index=True, key=GRID, disabled=["member_no", "name", "stage"], placeholder="",
            column_config={
                "member_no": st.column_config.TextColumn("会員番号"),
                "name": st.column_config.TextColumn("氏名"),
                "attended": st.column_config.SelectboxColumn("出欠", options=list(vocabulary.ATTENDANCE.values())),
                "minutes_late": st.column_config.NumberColumn("遅刻（分）", min_value=0, step=1),
                "delay_certificate": st.column_config.SelectboxColumn(
                    "遅延証明書", options=[display.YES, display.NO], required=True),
                "score": st.column_config.NumberColumn("得点", min_value=0, max_value=100, step=1,
                                                       disabled=not exam),
                "exam_on": st.column_config.DateColumn("試験日", format="YYYY年M月D日", disabled=not exam),
                "method": st.column_config.SelectboxColumn("方法", options=list(METHODS.values()),
                                                           disabled=not exam),
                "stage": st.column_config.TextColumn("状態"),
            },
        )  # fmt: skip
        if st.button("出欠・成績を保存", type="primary", key="roster_save"):
            codes = {v: k for k, v in vocabulary.ATTENDANCE.items()}
            methods = {v: k for k, v in METHODS.items()}
            rows = [
                {"member_no": r["member_no"], "course_code": code,
                 "attended": codes.get(r["attended"]) or r["attended"] or None,
                 "minutes_late": _whole(r["minutes_late"]), "score": _whole(r["score"]),
                 "exam_on": r["exam_on"].isoformat() if r["exam_on"] else None,
                 "method": methods.get(r["method"]) if r["score"] is not None else None,
                 "delay_certificate": "yes" if r["delay_certificate"] == display.YES else None}
                for r in pl.DataFrame(edited).iter_rows(named=True)
                if r["attended"] or r["score"] is not None or r["minutes_late"] is not None
            ]  # fmt: skip
            if not rows:
                st.info("入力された出欠・成績はありません。")
                st.stop()
            try:
                with connection() as con:
                    done = results.record_grid(con, rows, actor=user.username)
            except InputFileError as exc:
                _report(exc.problems)
            except ConflictError as exc:
                st.error(str(exc))
            else:
                st.session_state.pop(GRID, None)  # the saved rows are the grid's new start
                notice(f"出欠・成績を保存しました（{done.rows}人）。", code)
        with st.expander("CSVファイルで取り込む（出欠・成績）"):
            st.caption(
                "ひな形（座席のある受講者の行と列名、入力済みの出欠・成績）をダウンロードし、"
                "出欠（present＝出席、absent＝欠席）・遅刻（分）・得点・試験日を記入して取り込みます。"
                "UTF-8 または CP932。すべての行を取り込むか、1行も取り込まないかのどちらかです。"
            )
            st.download_button("ひな形をダウンロード（CSV）", on_click="ignore",
                               data=exports.to_bytes(_template(seated, code), ".csv"),
                               file_name=f"attendance_{code}.csv", mime="text/csv",
                               key="roster_template")  # fmt: skip
            uploaded = st.file_uploader("ファイル", type=["csv"], key=UPLOAD)
            if uploaded is not None and st.button("取り込む", key="roster_import"):
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / uploaded.name
                    path.write_bytes(uploaded.getvalue())
                    try:
                        with connection() as con:
                            done = imports.import_file(con, "attendance", path, actor=user.username)
                    except InputFileError as exc:
                        for problem in exc.problems:
                            st.error(
                                f"{uploaded.name} {problem.line}行目・"
                                f"{GRID_LABELS.get(problem.column, problem.column)}"
                                f"（{problem.column}）: {problem.message}"
                            )
                    else:
                        notice(f"{uploaded.name} から {done.rows}行を取り込みました。", code)

with tabs[2]:
    completed = people.filter(pl.col("stage") == "completed")
    if completed.is_empty():
        st.info("修了した受講者はまだいません。")
    else:
        overdue = completed.filter(
            pl.col("certificate_issued_at").is_null() & (pl.col("certificate_due") < today)
        )
        if overdue.height:
            st.warning(
                f"発行期限（講習の翌月末）を過ぎた未発行の修了証明書が {overdue.height}件あります。"
            )
        listed = completed.select("member_no", "name", "certificate_no", "score", "certificate_due",
                                  "certificate_issued_at")  # fmt: skip
        table(in_words(listed, masked=user.masked), key="roster_certificates")
        if user.may_correct:
            ids = dict(zip(completed["member_no"], completed["enrolment_id"], strict=True))
            cols = st.columns(3)
            cols[0].download_button("全員分をPDF（1ファイル）", on_click="ignore",
                                    data=functools.partial(_certificates, code, None),
                                    file_name=f"修了証明書_{code}.pdf", mime="application/pdf",
                                    key="roster_cert_all")  # fmt: skip
            one = cols[1].selectbox("受講者", list(ids), key=PICK_CERT)
            cols[1].download_button("この受講者のPDF", on_click="ignore",
                                    data=functools.partial(_certificates, code, [ids[one]]),
                                    file_name=f"修了証明書_{code}_{one}.pdf", mime="application/pdf",
                                    key="roster_cert_one")  # fmt: skip
            waiting = completed.filter(pl.col("certificate_issued_at").is_null())
            if cols[2].button(
                f"未発行 {waiting.height}件を発行済みにする", disabled=waiting.is_empty()
            ):
                with connection() as con:
                    n = results.issue_certificates(
                        con, waiting["enrolment_id"].to_list(), actor=user.username
                    )
                notice(f"修了証明書 {n}件を発行済みとして記録しました。", code)


with tabs[3]:
    with connection() as con:
        events = roster.history(con, code)
    if events.is_empty():
        st.info("履歴はありません。")
    else:
        table(in_words(events, masked=False), key="roster_history")

if user.may_correct:
    with tabs[4]:
        course_actions.show(user, course, people)
