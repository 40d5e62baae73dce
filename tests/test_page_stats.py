"""更新・失効統計, 次期更新見込み and データ品質 with AppTest over the demo with renewal history: each
opens for the roles that see it, in Japanese (no codes, no None/True/False), within the scope,
masked for analysts; downloads with Japanese headers."""

import io

import polars as pl
import pytest

from core.access.passwords import DEMO_PASSWORD
from core.config.settings import SCHEME_CODES
from core.store import db

from .readable import problems
from .test_page_app import logged_in, open_page, refused

CODES = set(SCHEME_CODES) | {"renewed", "lapsed", "invalidated", "erased", "membership"}


def login(name):
    return logged_in(name, DEMO_PASSWORD)


def words_only(frame) -> None:
    """No code, no None/True/False, no NaN in a table shown to people."""
    for column in frame.columns:
        values = {str(v) for v in frame[column].tolist()}
        assert not values & {"None", "True", "False", "nan", "NaT"}, column
        assert not values & CODES, column


@pytest.mark.parametrize("page", ["renewal_stats", "forecast", "data_quality"])
def test_the_analysis_pages_open_for_hq_analysts_and_admins_only(history_path, page):
    for user in ("hq", "analyst", "admin", "hq_saj_tokyo"):
        at = open_page(login(user), page)
        assert not at.exception, (user, at.exception)
        assert not at.error, (user, [e.value for e in at.error])
        # over years of history every table and text reads in Japanese (tests/readable.py)
        assert problems(at) == [], user
    refused(open_page(login("approver_shizuoka"), page))


def test_renewal_statistics_show_counts_rates_reasons_and_retention(history_path):
    at = open_page(login("analyst"), "renewal_stats")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["更新対象"].endswith(" 件") and metrics["更新率"].endswith(" %")
    first = at.dataframe[0].value
    assert list(first.columns)[:3] == ["制度", "更新対象（件）", "更新（件）"]
    words_only(first)
    assert set(first["制度"]) <= {"JPTEC インストラクター・プロバイダー", "ITコーディネータ資格更新",
                                  "公認スポーツ指導者資格", "SAJ会員登録", "教員免許状更新講習"}  # fmt: skip
    assert any("満たしていませんでした" in m.value for m in at.markdown)
    for frame in (d.value for d in at.dataframe):
        words_only(frame)
    assert len(at.get("plotly_chart")) >= 3


@pytest.mark.parametrize("dimension", ["prefecture", "org", "age_band", "month", "cohort"])
def test_every_breakdown_draws_in_words(history_path, dimension):
    at = open_page(login("hq"), "renewal_stats")
    at.radio(key="stats_dimension").set_value(dimension)
    at.run()
    assert not at.exception
    assert problems(at) == []
    frame = at.dataframe[0].value
    words_only(frame)
    if dimension == "month":
        assert all(str(v).endswith("月") for v in frame["月"])
    if dimension == "age_band":
        assert all(str(v).endswith("歳") or v == "不明" for v in frame["年齢層"])


def test_a_scoped_user_sees_only_the_outcomes_beneath_their_organisation(history_path):
    whole = open_page(login("hq"), "renewal_stats")
    tokyo = open_page(login("hq_saj_tokyo"), "renewal_stats")
    due = {m.label: m.value for m in whole.metric}.get("更新対象", "0 件")
    scoped = {m.label: m.value for m in tokyo.metric}.get("更新対象", "0 件")
    assert int(scoped.split()[0].replace(",", "")) < int(due.split()[0].replace(",", ""))
    assert set(tokyo.dataframe[0].value["制度"]) <= {"SAJ会員登録"}


def test_a_statistics_download_has_japanese_headers(history_path):
    at = open_page(login("analyst"), "renewal_stats")
    labels = [d.label for d in at.get("download_button")]
    assert labels[:3] == ["CSVでダウンロード", "Excelでダウンロード", "Parquetでダウンロード"]
    # the same people frame is downloaded: its headers are those shown
    assert "更新率" in at.dataframe[0].value.columns


def test_the_forecast_is_computed_once_a_day_and_lists_members_to_contact(history_path):
    at = open_page(login("hq"), "forecast")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["会費収入見込み"].endswith(" 円") and "," in metrics["会費収入見込み"]
    with db.connect(history_path) as con:
        kept = con.execute(
            "SELECT actor FROM forecast_runs WHERE made_on = current_date"
        ).fetchall()
    assert kept == [("hq",)]
    frames = [d.value for d in at.dataframe]
    for frame in frames:
        words_only(frame)
    risk = next(f for f in frames if "不足している要件" in f.columns)
    assert risk["氏名"].str.contains("＊").sum() == 0  # HQ staff see names
    assert "平均絶対誤差（更新数）" in metrics  # the back-test on the demo's history


def test_analysts_see_the_members_at_risk_masked(history_path):
    at = open_page(login("analyst"), "forecast")
    risk = next(d.value for d in at.dataframe if "不足している要件" in d.value.columns)
    assert risk["氏名"].str.endswith("＊＊").all()
    assert set(risk["電話番号"]) <= {"＊＊＊", "—"}


def test_data_quality_lists_the_audits_and_the_rows_of_one(history_path):
    with db.connect(history_path) as con:
        con.execute(
            "UPDATE members SET phone = '090-0000-0001', phone_key = '09000000001'"
            " WHERE member_no IN"
            " (SELECT min(member_no) FROM members WHERE status = 'active' GROUP BY org_code"
            "  ORDER BY 1 LIMIT 2)"
        )
    at = open_page(login("hq"), "data_quality")
    summary = at.dataframe[0].value
    assert list(summary.columns) == ["点検", "件数", "内容"]
    words_only(summary)
    at.selectbox(key="quality_pick").select("contact_shared_across_organizations")
    at.run()
    rows = at.dataframe[1].value
    assert "090-0000-0001" in set(rows["電話番号"])
    assert set(rows["共有されている連絡先"]) <= {"電話番号", "メールアドレス", "住所"}
    words_only(rows)
    for index, audit in enumerate(at.selectbox(key="quality_pick").options):
        at.selectbox(key="quality_pick").select_index(index)
        at.run()
        assert problems(at) == [], audit
    analyst = open_page(login("analyst"), "data_quality")
    analyst.selectbox(key="quality_pick").select("contact_shared_across_organizations")
    analyst.run()
    assert "090-0000-0001" not in set(analyst.dataframe[1].value["電話番号"])


def test_a_download_of_a_people_frame_keeps_its_japanese_headers():
    from ui.present import file_bytes

    frame = pl.DataFrame({"会員番号": ["A1"], "件数": [1400000]})
    text = file_bytes(frame, ".csv").decode("utf-8-sig")
    assert text.splitlines()[0] == "会員番号,件数"
    assert pl.read_parquet(io.BytesIO(file_bytes(frame, ".parquet"))).columns == [
        "会員番号",
        "件数",
    ]
