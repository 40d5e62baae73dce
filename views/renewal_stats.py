"""更新・失効統計: what the renewal batch did — renewals, lapses and the rest, why qualifications
lapsed, and how long each year's holders stay."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core import schemes
from core.stats import outcomes
from core.vocabulary import (
    MEMBERSHIP_LABEL,
    REQUIREMENTS,
    STATS_DIMENSIONS,
    STATS_OUTCOMES,
    STATS_RATES,
)
from ui.auth import current_user
from ui.charts import show
from ui.data import connection, settings
from ui.present import downloads, people, percent, period_text, table

PERIOD = "stats_period"
SCHEMES = "stats_schemes"
DIMENSION = "stats_dimension"
COHORTS = "stats_cohorts"
SHOWN_OUTCOMES = ("renewed", "lapsed", "invalidated", "erased", "converted")

user = current_user("renewal_stats")
cfg = settings()
st.title("更新・失効統計")
st.caption(
    f"担当範囲: {user.scope_name}。更新処理の実行履歴と監査ログ（実際に行われた判定）から集計します。"
    "会員の所属・年齢層は、その判定をした時点のものです。"
)

today = dt.date.today()
left, right = st.columns([1, 2])
period = left.date_input(
    "期間（判定日）",
    value=(today.replace(day=1) - dt.timedelta(days=365), today),
    key=PERIOD,
    format="YYYY/MM/DD",
)
chosen = right.multiselect(
    "制度", list(schemes.CODES), default=list(schemes.CODES), format_func=cfg.scheme_name,
    key=SCHEMES,
)  # fmt: skip
if not isinstance(period, tuple) or len(period) != 2 or not chosen:
    st.info("期間（開始日と終了日）と制度を選んでください。")
    st.stop()
window = outcomes.Period(period[0], period[1], tuple(chosen))
dimension = st.radio(
    "集計の軸", list(STATS_DIMENSIONS), format_func=STATS_DIMENSIONS.get, horizontal=True,
    key=DIMENSION,
)  # fmt: skip
assert dimension is not None


@st.cache_data(ttl=300, show_spinner="集計しています…")
def figures(scope: str, window: outcomes.Period, dimension: str) -> dict[str, pl.DataFrame]:
    with connection() as con:
        history = outcomes.Period(dt.date(1900, 1, 1), window.end, window.schemes)
        return {
            "by": outcomes.by(con, window, dimension, scope=scope),
            "scheme": outcomes.by(con, window, "scheme", scope=scope),
            "reasons": outcomes.lapse_reasons(con, window, scope=scope),
            "retention": outcomes.retention(con, history, scope=scope),
        }


data = figures(user.scope, window, dimension)


def qualification_word(scheme: str, qualification: str) -> str:
    if qualification == "membership":
        return MEMBERSHIP_LABEL
    return cfg.qualification_label(scheme, qualification)


def named(frame: pl.DataFrame) -> pl.DataFrame:
    """Scheme and qualification codes as their names; age bands as 40〜44歳."""
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
    if "age_band" in out.columns:
        out = out.with_columns(
            pl.when(pl.col("age_band").is_null())
            .then(pl.lit("不明"))
            .otherwise(pl.format("{}〜{}歳", pl.col("age_band"), pl.col("age_band") + 4))
            .alias("age_band")
        )
    if "cohort" in out.columns:
        out = out.with_columns(
            pl.when(pl.col("cohort").is_null())
            .then(pl.lit("不明"))
            .otherwise(pl.col("cohort").cast(pl.String) + "年")
            .alias("cohort")
        )
    return out.with_columns(pl.col("scheme").map_elements(cfg.scheme_name, return_dtype=pl.String))


top = outcomes.totals(data["scheme"]) if data["scheme"].height else None
st.subheader(f"{period_text(window.start, window.end)}の判定")
if top is None or not top["due"]:
    st.info("この期間・制度・担当範囲では、更新処理による判定がありません。")
else:
    cols = st.columns(5)
    cols[0].metric("更新対象", f"{top['due']:,} 件")
    cols[1].metric("更新", f"{top['renewed']:,} 件")
    cols[2].metric("失効・無効化", f"{top['lapsed'] + top['invalidated']:,} 件")
    cols[3].metric("更新率", f"{top['renewal_rate'] * 100:.1f} %")
    cols[4].metric("会員抹消（年度登録なし）", f"{top['members_erased']:,} 人")

headers = {
    "scheme": "制度",
    dimension: STATS_DIMENSIONS[dimension],
    **{k: f"{v}（件）" for k, v in STATS_OUTCOMES.items() if k != "members_erased"},
    "members_erased": "会員抹消（人）",
    **STATS_RATES,
}
by_frame = named(data["by"])
if dimension == "org":  # organisations by their names on the page
    by_frame = by_frame.with_columns(pl.col("org_name").alias("org"))
shown = people(by_frame, headers)
axis = STATS_DIMENSIONS[dimension]
if shown.height:
    long = by_frame.unpivot(
        index=["scheme", *([dimension] if dimension != "scheme" else [])],
        on=list(SHOWN_OUTCOMES),
        variable_name="outcome",
        value_name="n",
    ).with_columns(pl.col("outcome").replace_strict(STATS_OUTCOMES))
    group = "scheme" if dimension == "scheme" else dimension
    totals_by = long.group_by(group).agg(pl.col("n").sum()).sort("n", descending=True)
    keep = totals_by.head(30)[group].to_list()  # the largest 30 (organisations are many)
    drawn = long.filter(pl.col(group).is_in(keep)).group_by(group, "outcome").agg(pl.col("n").sum())
    figure = px.bar(
        drawn.sort(group),
        x=group,
        y="n",
        color="outcome",
        labels={group: axis, "n": "件数", "outcome": "判定"},
        category_orders={"outcome": [STATS_OUTCOMES[o] for o in SHOWN_OUTCOMES]},
    )
    show(figure, x="month" if dimension == "month" else "category", y="count")
    rates = by_frame.group_by(group).agg(pl.col("renewed").sum(), pl.col("due").sum())
    rates = rates.filter(pl.col("due") > 0).with_columns(
        (pl.col("renewed") / pl.col("due")).alias("rate")
    )
    rates = rates.filter(pl.col(group).is_in(keep)).sort(group)
    draw = px.line if dimension == "month" else px.bar
    line = draw(percent(rates, "rate"), x=group, y="rate", labels={group: axis, "rate": "更新率"})
    show(line, x="month" if dimension == "month" else "category", y="percent")
table(shown, months=("月",), percents=tuple(STATS_RATES.values()))
downloads(shown, f"renewal_stats_{dimension}_{window.start}_{window.end}", key="stats_by")

st.subheader("失効の理由（満たしていなかった要件）")
st.caption(
    "失効・無効化・抹消した時点の更新処理で満たしていなかった要件です。"
    "1件の失効で複数の要件が欠けていることがあります（割合の合計は100%を超えます）。"
)
reasons = data["reasons"]
if reasons.is_empty():
    st.info("この期間に失効した資格はありません。")
else:
    reasons = reasons.with_columns(
        pl.coalesce(pl.col("code").replace_strict(REQUIREMENTS, default=None), pl.col("label"))
        .fill_null("（記録なし）")
        .alias("requirement")
    )
    endings = (
        reasons.unique(["scheme", "qualification"])
        .group_by("scheme")
        .agg(pl.col("known").sum().alias("known_total"))
    )
    by_scheme = (
        reasons.filter(pl.col("code").is_not_null())
        .group_by("scheme", "requirement")
        .agg(pl.col("lacking").sum())
        .join(endings, on="scheme")
        .filter(pl.col("known_total") > 0)
        .with_columns((pl.col("lacking") / pl.col("known_total")).alias("share"))
        .sort("scheme", "share", descending=[False, True])
    )
    for scheme in by_scheme["scheme"].unique(maintain_order=True).to_list():
        top_reasons = by_scheme.filter(pl.col("scheme") == scheme).head(3)
        total = int(top_reasons["known_total"][0])
        said = "、".join(
            f"**{r['share'] * 100:.0f}%** は「{r['requirement']}」"
            for r in top_reasons.iter_rows(named=True)
        )
        st.markdown(
            f"- **{cfg.scheme_name(scheme)}**: 失効・無効化・抹消 {total:,}件のうち、"
            f"{said}を満たしていませんでした。"
        )
    reason_rows = named(reasons).filter(pl.col("code").is_not_null())
    chart = px.bar(
        percent(reason_rows, "share").with_columns(
            (pl.col("scheme") + "・" + pl.col("qualification")).alias("who")
        ),
        x="share",
        y="requirement",
        color="who",
        barmode="group",
        orientation="h",
        labels={"share": "失効に占める割合", "requirement": "要件", "who": "制度・資格"},
    )
    show(chart, x="percent", y="category")
    reason_table = people(
        named(reasons),
        {"scheme": "制度", "qualification": "資格", "requirement": "満たしていなかった要件",
         "lacking": "件数", "endings": "失効・無効化・抹消（件）", "share": "割合"},
    )  # fmt: skip
    table(reason_table, percents=("割合",))
    downloads(reason_table, f"lapse_reasons_{window.start}_{window.end}", key="stats_reasons")

st.subheader("取得年別の継続率")
st.caption(
    "取得した年ごとに、更新の判定を1回、2回…と迎えたあとも有効な資格の割合です。"
    "判定は更新処理の履歴にある最初の判定から数えます。まだ判定を迎えていない資格は、その回の分母に入れません。"
)
retention = data["retention"]
if retention.is_empty():
    st.info("継続率を計算できる更新処理の履歴がありません。")
else:
    cohorts = sorted(retention["cohort"].unique().to_list())
    picked = st.multiselect(
        "取得年", cohorts, default=cohorts[-6:], format_func=lambda y: f"{y}年", key=COHORTS
    )
    curve = retention.filter(pl.col("cohort").is_in(picked)).with_columns(
        (pl.col("cohort").cast(pl.String) + "年").alias("取得年")
    )
    figure = px.line(
        percent(curve, "retention"), x="cycle", y="retention", color="取得年", markers=True,
        labels={"cycle": "更新の判定（回目）", "retention": "継続率"},
    )  # fmt: skip
    figure.update_xaxes(dtick=1)
    show(figure, x="count", y="percent")
    retention_table = people(
        curve,
        {"取得年": "取得年", "cycle": "判定（回目）", "at_risk": "判定を迎えた資格",
         "renewed": "更新した資格", "retention": "継続率"},
    )  # fmt: skip
    table(retention_table, percents=("継続率",))
    downloads(retention_table, "retention_by_cohort", key="stats_retention")
