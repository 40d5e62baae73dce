"""会費ダッシュボード: income by month, scheme, prefecture, organisation and method; arrears by age."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core import schemes, vocabulary
from core.billing import fees
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import downloads, table

PERIOD = "fees_period"
SCHEMES = "fees_schemes"
DIMENSION = "fees_dimension"
DIMENSION_LABELS = vocabulary.FEE_DIMENSIONS

user = current_user("fee_dashboard")
cfg = settings()
methods = {code: r["label"] for code, r in cfg.value("common.payment_methods").items()}
methods.update(vocabulary.PAYMENT_METHOD_REPORT_LABELS)
st.title("会費ダッシュボード")
st.caption(
    f"担当範囲: {user.scope_name}。入金額は入金日で、回収率は期間内に請求した明細（取消を除く）で数えます。"
)

today = dt.date.today()
left, right = st.columns([1, 2])
period = left.date_input(
    "期間",
    value=(today.replace(day=1) - dt.timedelta(days=365), today),
    key=PERIOD,
    format="YYYY/MM/DD",
)
chosen = right.multiselect(
    "制度",
    list(schemes.CODES),
    default=list(schemes.CODES),
    format_func=cfg.scheme_name,
    key=SCHEMES,
)
if not isinstance(period, tuple) or len(period) != 2 or not chosen:
    st.info("期間（開始日と終了日）と制度を選んでください。")
    st.stop()
window = fees.Period(period[0], period[1], tuple(chosen))


@st.cache_data(ttl=120, show_spinner="集計しています…")
def figures(scope: str, window: fees.Period, as_of: dt.date) -> dict[str, pl.DataFrame]:
    with connection() as con:
        return {
            "month": fees.income_by_month(con, scope, window),
            "rate": fees.collection_rate(con, scope, window),
            "aging": fees.outstanding(con, scope, window, as_of),
            "handling": pl.DataFrame({"fee": [fees.handling_fees(con, scope, window)]}),
            **{name: fees.income_by(con, scope, window, name) for name in fees.DIMENSIONS},
        }


data = figures(user.scope, window, today)


def scheme_name(frame: pl.DataFrame) -> pl.DataFrame:
    """Scheme codes shown as the schemes' names."""
    return frame.with_columns(
        pl.col("scheme").map_elements(cfg.scheme_name, return_dtype=pl.String)
    )


rate = data["rate"]
top = fees.headline(data["month"], rate, data["aging"], int(data["handling"]["fee"][0]))
cols = st.columns(4)
cols[0].metric("入金額（期間）", f"{top['income']:,} 円")
cols[1].metric("決済手数料（支払者負担）", f"{top['handling_fee']:,} 円")
rate_shown = f"{top['collection_rate']:.1f} %" if top["collection_rate"] is not None else "—"
cols[2].metric("回収率（期間内の請求）", rate_shown)
cols[3].metric("未納額（本日時点）", f"{top['outstanding']:,} 円")

st.subheader("月別の入金額")
if data["month"].is_empty():
    st.info("この期間の入金はありません。")
else:
    monthly = scheme_name(data["month"])
    st.plotly_chart(
        px.bar(
            monthly,
            x="month",
            y="amount",
            color="scheme",
            labels={"month": "月", "amount": "入金額（円）", "scheme": "制度"},
        ),
        width="stretch",
    )
    downloads(monthly, f"income_by_month_{window.start}_{window.end}", key="fees_month")

st.subheader("内訳")
dimension = st.radio(
    "集計の軸",
    list(DIMENSION_LABELS),
    format_func=DIMENSION_LABELS.get,
    horizontal=True,
    key=DIMENSION,
)
breakdown = data[dimension]
if dimension == "scheme":
    breakdown = scheme_name(breakdown)
elif dimension == "method":
    breakdown = breakdown.with_columns(
        pl.col("method").replace_strict(methods, default=pl.col("method"))
    )
shown = breakdown.rename({dimension: DIMENSION_LABELS[dimension]})
if not shown.is_empty():
    top = shown.head(30)
    st.plotly_chart(
        px.bar(top, x=DIMENSION_LABELS[dimension], y="amount", labels={"amount": "入金額（円）"}),
        width="stretch",
    )
table(shown)
downloads(shown, f"income_by_{dimension}_{window.start}_{window.end}", key="fees_breakdown")

left, right = st.columns(2)
with left:
    st.subheader("未納の経過日数")
    aging = (
        scheme_name(data["aging"])
        .drop("youngest_days")
        .rename({"scheme": "制度", "age_band": "経過日数", "lines": "件数"})
    )
    if aging.is_empty():
        st.info("未納の請求はありません。")
    else:
        st.plotly_chart(
            px.bar(
                aging,
                x="制度",
                y="amount",
                color="経過日数",
                labels={"amount": "未納額（円）"},
                category_orders={"経過日数": list(vocabulary.AGE_BANDS)},
            ),
            width="stretch",
        )
        table(aging)
        downloads(aging, f"outstanding_{today}", key="fees_aging")
with right:
    st.subheader("回収率")
    shown_rate = scheme_name(rate).rename(
        {"scheme": "制度", "billed": "請求額", "paid": "入金額", "rate_percent": "回収率（%）"}
    )
    table(shown_rate)
    downloads(shown_rate, f"collection_rate_{window.start}_{window.end}", key="fees_rate")
