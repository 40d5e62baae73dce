"""次期更新見込み: the renewals, lapses and fee income to expect, the members to contact, and
how well past forecasts did."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core import schemes
from core.masking import mask_personal
from core.stats import forecast, forecast_report
from core.vocabulary import MEMBERSHIP_LABEL, REQUIREMENTS
from ui.auth import current_user
from ui.charts import show
from ui.data import connection, settings
from ui.present import downloads, people, percent, table

DIMENSION = "forecast_dimension"
RISK_SCHEMES = "forecast_risk_schemes"
DIMENSIONS = {"scheme": "制度", "qualification": "資格", "prefecture": "都道府県", "org": "組織"}

user = current_user("forecast")
cfg = settings()
today = dt.date.today()
st.title("次期更新見込み")
months = int(cfg.value("common.forecast.horizon_months", on=today))
below = int(cfg.value("common.forecast.at_risk_below_percent", on=today))
st.caption(
    f"担当範囲: {user.scope_name}。今日から{months}か月のうちに有効期限を迎える資格（SAJは会員登録）について、"
    "これまでの実績（指導回数・ポイント・研修・講習時間・年度登録・会費の納入）と残りの月数から、"
    "同じ状況の会員が過去にどれだけ更新したかをもとに見込みを計算します。"
)


@st.cache_data(ttl=600, show_spinner="見込みを計算しています（1日1回、全会員分）…")
def todays_forecast(day: dt.date, scope: str) -> forecast.Forecast:
    with connection() as con:
        if forecast.latest(con, day) != day:
            forecast.keep(con, forecast.compute(con, day), actor=user.username)
        return forecast.load(con, day, scope=scope)


@st.cache_data(ttl=600, show_spinner="過去の見込みと実績を照合しています…")
def backtest(day: dt.date) -> pl.DataFrame:
    with connection() as con:
        return forecast_report.backtest(con, day)


@st.cache_data(ttl=600)
def summary(day: dt.date, scope: str, dimension: str) -> pl.DataFrame:
    with connection() as con:
        return forecast_report.summary(con, todays_forecast(day, scope), dimension)


@st.cache_data(ttl=600)
def risky(day: dt.date, scope: str) -> pl.DataFrame:
    with connection() as con:
        return forecast_report.at_risk(con, todays_forecast(day, scope))


def qualification_word(scheme: str, qualification: str) -> str:
    if qualification == "membership":
        return MEMBERSHIP_LABEL
    return cfg.qualification_label(scheme, qualification)


def named(frame: pl.DataFrame) -> pl.DataFrame:
    out = frame
    if "qualification" in out.columns:
        out = out.with_columns(
            pl.struct("scheme", "qualification")
            .map_elements(
                lambda r: qualification_word(r["scheme"], r["qualification"]),
                return_dtype=pl.String,
            )
            .alias("qualification")
        )
    return out.with_columns(pl.col("scheme").map_elements(cfg.scheme_name, return_dtype=pl.String))


fc = todays_forecast(today, user.scope)
st.subheader(f"{today:%Y年%-m月%-d日}時点の見込み（{fc.horizon_end:%Y年%-m月%-d日}まで）")
by_scheme = summary(today, user.scope, "scheme")
if by_scheme.is_empty():
    st.info("この期間に有効期限を迎える資格はありません。")
    st.stop()
cols = st.columns(4)
cols[0].metric("対象", f"{int(by_scheme['due'].sum()):,} 件")
cols[1].metric("更新見込み", f"{by_scheme['expected_renewals'].sum():,.0f} 件")
cols[2].metric("失効見込み", f"{by_scheme['expected_lapses'].sum():,.0f} 件")
cols[3].metric("会費収入見込み", f"{int(by_scheme['expected_income'].sum()):,} 円")

dimension = st.radio(
    "集計の軸", list(DIMENSIONS), format_func=DIMENSIONS.get, horizontal=True, key=DIMENSION
)
assert dimension is not None
breakdown = named(summary(today, user.scope, dimension))
headers = {
    "scheme": "制度",
    dimension: DIMENSIONS[dimension],
    "due": "対象（件）",
    "expected_renewals": "更新見込み（件）",
    "expected_lapses": "失効見込み（件）",
    "expected_income": "会費収入見込み（円）",
}
shown = people(breakdown, headers)
group = "scheme" if dimension == "scheme" else dimension
drawn = (
    breakdown.group_by(group)
    .agg(pl.col("expected_renewals").sum(), pl.col("expected_lapses").sum(), pl.col("due").sum())
    .sort("due", descending=True)
    .head(30)
    .unpivot(index=group, on=["expected_renewals", "expected_lapses"], variable_name="kind")
    .with_columns(
        pl.col("kind").replace_strict(
            {"expected_renewals": "更新見込み", "expected_lapses": "失効見込み"}
        )
    )
)
figure = px.bar(
    drawn, x=group, y="value", color="kind",
    labels={group: DIMENSIONS[dimension], "value": "件数", "kind": "見込み"},
)  # fmt: skip
show(figure, x="category", y="count")
table(shown)
downloads(shown, f"forecast_{dimension}_{today}", key="forecast_by")

st.subheader(f"連絡が必要な会員（更新の見込み {below}% 未満）")
st.caption(
    "不足している要件と期限です。CSV（通知用）は会員番号・制度・資格・要件コード・期限の形で、通知の送信先に使えます。"
)
risk = risky(today, user.scope)
if risk.is_empty():
    st.info("見込みの低い会員はいません。")
else:
    picked = st.multiselect(
        "制度", list(schemes.CODES), default=sorted(set(risk["scheme"].to_list())),
        format_func=cfg.scheme_name, key=RISK_SCHEMES,
    )  # fmt: skip
    risk = risk.filter(pl.col("scheme").is_in(picked))
    visible = mask_personal(risk) if user.masked else risk
    visible = visible.with_columns(
        (pl.col("family_name").fill_null("") + " " + pl.col("given_name").fill_null(""))
        .str.strip_chars()
        .alias("name")
    )
    risk_table = people(
        named(visible),
        {"member_no": "会員番号", "name": "氏名", "org": "所属", "scheme": "制度",
         "qualification": "資格", "missing_words": "不足している要件", "deadline": "期限",
         "p_renew": "更新の見込み", "phone": "電話番号", "email": "メールアドレス"},
    )  # fmt: skip
    st.write(f"{risk_table.height:,} 件")
    table(risk_table.head(2000), percents=("更新の見込み",))
    downloads(risk_table, f"at_risk_{today}", key="forecast_risk")
    notice = risk.select(
        "member_no", "scheme", "qualification", "missing", "deadline"
    ).with_columns(
        pl.col("missing")
        .str.split(";")
        .list.eval(pl.element().replace_strict(REQUIREMENTS, default=pl.element()))
        .list.join("、")
        .alias("missing_words")
    )
    st.download_button(
        "通知用CSVをダウンロード",
        data=lambda: notice.write_csv(include_bom=True).encode("utf-8"),
        file_name=f"at_risk_notice_{today}.csv",
        mime="text/csv",
        key="forecast_notice",
        icon=":material/mail:",
    )

st.subheader("見込みの精度（過去の見込みと実際の判定）")
st.caption(
    "過去に保存した見込み（その日までのデータだけで計算したもの）を、その後の更新処理の判定と比べます。"
    "判定がまだの資格は含めません。"
)
checked = backtest(today)
if checked.is_empty():
    st.info(
        "判定済みの過去の見込みがまだありません。見込みは毎日1回保存され、判定が進むと精度を表示します。"
    )
else:
    error = forecast_report.backtest_error(checked)
    if error is not None:
        st.metric("平均絶対誤差（更新数）", f"{error:.1f} %")
    overall = (
        checked.group_by("made_on")
        .agg(
            pl.col("expected_renewals").sum(),
            pl.col("actual_renewals").sum(),
            pl.col("decided").sum(),
        )
        .sort("made_on")
        .select(
            "made_on",
            (pl.col("expected_renewals") / pl.col("decided")).alias("見込み"),
            (pl.col("actual_renewals") / pl.col("decided")).alias("実績"),
        )
        .unpivot(index="made_on", variable_name="kind")
    )
    figure = px.line(
        percent(overall, "value"), x="made_on", y="value", color="kind", markers=True,
        labels={"made_on": "見込みを計算した日", "value": "更新率（判定済みのうち）", "kind": ""},
    )  # fmt: skip
    show(figure, x="day", y="percent")
    backtest_table = people(
        named(checked),
        {"made_on": "見込みを計算した日", "scheme": "制度", "decided": "判定済み（件）",
         "expected_renewals": "更新見込み（件）", "actual_renewals": "更新実績（件）",
         "error": "誤差（件）", "error_percent": "誤差率（%）"},
    )  # fmt: skip
    table(backtest_table)
    downloads(backtest_table, f"forecast_backtest_{today}", key="forecast_backtest")
