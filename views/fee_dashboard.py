"""会費ダッシュボード: income by month, scheme, prefecture, organisation and method; arrears by age."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core import schemes, vocabulary
from core.billing import fees
from ui import charts, display
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import downloads, table

PERIOD = "fees_period"
SCHEMES = "fees_schemes"
DIMENSION = "fees_dimension"
DIMENSION_LABELS = vocabulary.FEE_DIMENSIONS

user = current_user("fee_dashboard")
cfg = settings()
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
            **{name: fees.income_by(con, scope, window, name) for name in fees.DIMENSIONS},
        }


data = figures(user.scope, window, today)
rate = data["rate"]
top = fees.headline(data["month"], rate, data["aging"])
cols = st.columns(4)
cols[0].metric("入金額（期間）", f"{top['income']:,} 円")
cols[1].metric(
    "決済手数料（支払者負担）",
    f"{top['handling_fee']:,} 円",
    help="期間内の入金で支払者が負担した手数料。複数の明細をまとめた入金の手数料は、明細の金額に応じて按分します。",
)
rate_shown = f"{top['collection_rate']:.1f} %" if top["collection_rate"] is not None else "—"
cols[2].metric("回収率（期間内の請求）", rate_shown)
cols[3].metric("未納額（本日時点）", f"{top['outstanding']:,} 円")

HEADERS = {"amount": "入金額", "lines": "明細数", **DIMENSION_LABELS}
AGING = {"amount": "未納額", "lines": "明細数"}

st.subheader("月別の入金額")
if data["month"].is_empty():
    st.info("この期間の入金はありません。")
else:
    monthly = display.readable(data["month"], cfg)
    charts.show(
        px.bar(
            monthly,
            x="month",
            y="amount",
            color="scheme",
            labels={"month": "月", "amount": "入金額（円）", "scheme": "制度"},
        ),
        x="month",
        y="yen",
    )
    downloads(
        data["month"], f"月別入金額_{window.start}_{window.end}", key="fees_month", headers=HEADERS
    )

st.subheader("内訳")
dimension = st.radio(
    "集計の軸",
    list(DIMENSION_LABELS),
    format_func=DIMENSION_LABELS.get,
    horizontal=True,
    key=DIMENSION,
)
breakdown = display.readable(data[dimension], cfg)
if not breakdown.is_empty():
    charts.show(
        px.bar(
            breakdown.head(30),
            x=dimension,
            y="amount",
            labels={"amount": "入金額（円）", dimension: DIMENSION_LABELS[dimension]},
        ),
        y="yen",
    )
table(breakdown, headers=HEADERS)
downloads(
    breakdown,
    f"{DIMENSION_LABELS[dimension]}別入金額_{window.start}_{window.end}",
    key="fees_breakdown",
    headers=HEADERS,
)

left, right = st.columns(2)
with left:
    st.subheader("未納の経過日数")
    aging = display.readable(data["aging"].drop("youngest_days"), cfg)
    if aging.is_empty():
        st.info("未納の請求はありません。")
    else:
        charts.show(
            px.bar(
                aging,
                x="scheme",
                y="amount",
                color="age_band",
                labels={"amount": "未納額（円）", "scheme": "制度", "age_band": "経過日数"},
                category_orders={"age_band": list(vocabulary.AGE_BANDS)},
            ),
            y="yen",
        )
        table(aging, headers=AGING)
        downloads(aging, f"未納の経過日数_{today}", key="fees_aging", headers=AGING)
with right:
    st.subheader("回収率")
    table(rate)
    downloads(rate, f"回収率_{window.start}_{window.end}", key="fees_rate")
