"""講習一覧: every scheme's courses with their seats, waiting lists and recruitment; staff create
and edit courses here (the rules of courses.csv, every change audited)."""

import datetime as dt

import polars as pl
import streamlit as st

from core import vocabulary
from core.courses import catalogue, policy, roster
from core.errors import InputFileError
from ui.auth import current_user
from ui.courses import course_choices, course_days, download, in_words, table
from ui.data import connection, settings
from ui.widgets import flash, show_flash

SCHEMES = "catalogue_schemes"
PHASES = "catalogue_phases"
FROM = "catalogue_from"
TO = "catalogue_to"
KEYWORD = "catalogue_keyword"
PICK = "catalogue_pick"
EDIT = "catalogue_edit"
FORM = "catalogue_form"

user = current_user("course_catalogue")
cfg = settings()
st.title("講習一覧")
show_flash()
today = dt.date.today()
codes = policy.course_schemes()

with st.container(border=True):
    top = st.columns([2, 2, 1.3, 1.3, 2])
    chosen = top[0].multiselect("制度", codes, format_func=cfg.scheme_name, key=SCHEMES,
                                placeholder="すべての制度")  # fmt: skip
    phases = top[1].multiselect(
        "状況",
        list(vocabulary.COURSE_PHASES),
        format_func=vocabulary.COURSE_PHASES.get,
        key=PHASES,
        placeholder="すべての状況",
    )
    since = top[2].date_input("開催日（から）", today - dt.timedelta(days=90), key=FROM)
    until = top[3].date_input("開催日（まで）", today + dt.timedelta(days=365), key=TO)
    keyword = top[4].text_input("講習名・講習コード", key=KEYWORD)

with connection() as con:
    courses = catalogue.listing(con, scheme_codes=chosen or None)
    overdue = roster.overdue_certificates(con, today)
found = courses.filter(pl.col("held_on").is_between(since, until))
if phases:
    found = found.filter(pl.col("phase").is_in(phases))
if keyword.strip():
    word = keyword.strip()
    found = found.filter(
        pl.col("title").str.contains(word, literal=True)
        | pl.col("course_code").str.contains(word, literal=True)
    )

figures = st.columns(4)
figures[0].metric("講習数", f"{found.height:,} 件")
figures[1].metric(
    "募集中", f"{found.filter(pl.col('phase').is_in(['recruiting', 'extra'])).height:,} 件"
)
figures[2].metric("キャンセル待ちあり", f"{found.filter(pl.col('waitlisted') > 0).height:,} 件")
figures[3].metric("修了証明書の発行期限超過", f"{overdue.height:,} 件")

columns = ["course_code", "title", "scheme", "domain", "held_on", "starts_at", "hours", "venue",
           "lecturer", "capacity", "reserved", "waitlisted", "free", "minimum", "fee",
           "recruit_from", "recruit_until", "phase"]  # fmt: skip
shown = in_words(found.select(columns), masked=False)
if found.is_empty():
    st.info("条件に合う講習はありません。条件を変えてお試しください。")
else:
    st.caption("行を選ぶと、その講習の受講者名簿を開けます。")
    event = table(shown, key=PICK, on_select="rerun", selection_mode="single-row")
    download(shown, f"courses_{today:%Y%m%d}", key="catalogue_download")
    rows = [r for r in event.selection.rows if r < found.height]  # type: ignore[attr-defined]
    if rows:
        code = found["course_code"][rows[0]]
        st.page_link("views/course_roster.py", label=f"受講者名簿を開く（{code}）",
                     icon=":material/groups:", query_params={"course": code})  # fmt: skip

if not overdue.is_empty():
    with st.expander(f"修了証明書の発行期限（講習の翌月末）を過ぎたもの {overdue.height:,} 件"):
        table(overdue.with_columns(pl.col("member_no")))

if not user.may_correct:
    st.stop()

st.divider()
st.subheader("講習の登録・変更")
choices = course_choices()
editing = st.selectbox("変更する講習（空欄なら新規登録）", [None, *choices],
                       format_func=lambda c: "（新しい講習）" if c is None else choices[c],
                       key=EDIT)  # fmt: skip
current: dict[str, object] = {}
if editing:
    with connection() as con:
        current = catalogue.course(con, editing)


def _stamp(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else ""


def _time(value: object) -> str:
    return value.strftime("%H:%M") if isinstance(value, dt.time) else ""


with st.form(f"{FORM}_{editing or 'new'}"):
    a = st.columns(3)
    code = a[0].text_input("講習コード", value=str(current.get("course_code") or ""),
                           disabled=bool(editing))  # fmt: skip
    scheme = a[1].selectbox("制度", codes, format_func=cfg.scheme_name, disabled=bool(editing),
                            index=codes.index(str(current["scheme"])) if current else 0)  # fmt: skip
    title = a[2].text_input("講習名", value=str(current.get("title") or ""))
    b = st.columns(4)
    domains = [None, *vocabulary.COURSE_DOMAINS]
    domain = b[0].selectbox("領域（教員免許状更新講習）", domains,
                            index=domains.index(current.get("domain")),
                            format_func=lambda d: "—" if d is None else vocabulary.COURSE_DOMAINS[d])  # fmt: skip
    licences = {"": "—", **cfg.value("jspo.qualifications")}
    licence = b[1].selectbox("対象資格（義務研修）", list(licences), format_func=licences.get,
                             index=list(licences).index(current.get("qualification") or ""))  # fmt: skip
    hours = b[2].number_input("時間数", min_value=1, value=int(current.get("hours") or 6))
    capacity = b[3].number_input("定員", min_value=1, value=int(current.get("capacity") or 40))
    c = st.columns(4)
    held_on = c[0].date_input(
        "開催日", value=current.get("held_on") or today + dt.timedelta(days=60)
    )
    held_until = c[1].date_input("最終日（複数日の講習）", value=current.get("held_until"))
    starts = c[2].text_input("開始時刻（例 09:30）", value=_time(current.get("starts_at")))
    ends = c[3].text_input("終了時刻（例 16:30）", value=_time(current.get("ends_at")))
    d = st.columns(4)
    recruit_from = d[0].text_input(
        "募集開始（例 2026-05-01 06:00）", value=_stamp(current.get("recruit_from"))
    )
    recruit_until = d[1].text_input(
        "募集終了（例 2026-05-31 17:00）", value=_stamp(current.get("recruit_until"))
    )
    extra_from = d[2].text_input("追加募集開始", value=_stamp(current.get("extra_from")))
    extra_until = d[3].text_input("追加募集終了", value=_stamp(current.get("extra_until")))
    e = st.columns(4)
    venue = e[0].text_input("会場", value=str(current.get("venue") or ""))
    lecturer = e[1].text_input("講師", value=str(current.get("lecturer") or ""))
    materials = e[2].number_input(
        "教材費（円）", min_value=0, value=int(current.get("materials_fee") or 0)
    )
    own = current.get("min_to_open")
    minimum = e[3].text_input(
        "開講最少人数（空欄なら制度の設定）", value="" if own is None else str(own)
    )
    notes = st.text_area("持ち物・備考", value=str(current.get("notes") or ""))
    saved = st.form_submit_button("変更を保存" if editing else "講習を登録", type="primary")

if saved:
    values = {
        "course_code": editing or code.strip(), "scheme": current.get("scheme") or scheme,
        "title": title, "domain": domain, "qualification": licence, "hours": hours,
        "capacity": capacity, "held_on": held_on, "held_until": held_until,
        "starts_at": starts, "ends_at": ends, "recruit_from": recruit_from,
        "recruit_until": recruit_until, "extra_from": extra_from, "extra_until": extra_until,
        "venue": venue, "lecturer": lecturer, "materials_fee": materials,
        "min_to_open": minimum, "notes": notes,
    }  # fmt: skip
    try:
        with connection() as con:
            catalogue.save_course(con, values, actor=user.username)
    except InputFileError as exc:
        for problem in exc.problems:
            st.error(
                f"{vocabulary.COURSE_FIELDS.get(problem.column, problem.column)}: {problem.message}"
            )
    except ValueError as exc:
        st.error(str(exc))
    else:
        course_choices.clear()
        course_days.clear()
        flash(f"講習 {values['course_code']} を{'変更' if editing else '登録'}しました。")
