"""承認SLA: per level and organisation, pending counts, median and 95th-percentile waiting time
and overdue counts over time (prefecture 48 hours; national by business days)."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core import schemes, vocabulary
from core.applications import queue
from ui import charts
from ui.auth import CurrentUser, current_user
from ui.data import connection, settings
from ui.widgets import downloads, table

PERIOD = "sla_period"
SCHEME = "sla_scheme"
ANY = "（すべて）"
ORDER = {"level": list(vocabulary.LEVELS.values())}  # the chain's order in legends

user: CurrentUser = current_user("approval_sla")
cfg = settings()
st.title("承認SLA")
st.caption(
    "県連は到着から48時間以内、本部（SAJ）は到着日の翌営業日まで（土日・祝日・振替休日・年末年始を除く）"
    "を期限として、各日の終わり時点で承認を待っていた申請を数えます。期限は制度設定で変えられます。"
)

today = dt.date.today()
left, right = st.columns([2, 1])
period = left.date_input(
    "期間", value=(today - dt.timedelta(days=29), today), key=PERIOD, format="YYYY/MM/DD"
)
scheme = right.selectbox(
    "制度", [ANY, *schemes.CODES], format_func=lambda c: c if c == ANY else cfg.scheme_name(c),
    key=SCHEME,
)  # fmt: skip
if not isinstance(period, tuple) or len(period) != 2:
    st.info("期間の開始日と終了日を選んでください。")
    st.stop()


@st.cache_data(ttl=60, show_spinner="集計しています…")
def history(
    role: str, scope: str, first: dt.date, last: dt.date, scheme: str | None
) -> pl.DataFrame:
    with connection() as con:
        return queue.sla_history(con, role=role, scope=scope, first=first, last=last, scheme=scheme)


frame = history(user.role, user.scope, period[0], period[1], None if scheme == ANY else scheme)
if frame.is_empty():
    st.info("この期間に承認を待っていた申請はありません。")
    st.stop()

frame = frame.with_columns(
    pl.col("level").replace_strict(vocabulary.LEVELS, default=pl.col("level")).alias("level")
)
by_level = frame.filter(pl.col("org_code").is_null()).sort("day", "level")
per_org = frame.filter(pl.col("org_code").is_not_null())
latest_day = frame["day"].max()
latest = per_org.filter(pl.col("day") == latest_day)

cols = st.columns(3)
cols[0].metric("承認待ち（最終日）", f"{int(latest['pending'].sum()):,} 件")
cols[1].metric("期限超過（最終日）", f"{int(latest['overdue'].sum()):,} 件")
cols[2].metric(
    "待ち時間 95%点の最大（最終日）", f"{float(latest['p95_hours'].max() or 0):,.1f} 時間"
)

labels = {
    "day": "日付",
    "pending": "承認待ち（件）",
    "overdue": "期限超過（件）",
    "level": "段階",
    "p95_hours": "待ち時間 95%点（時間）",
    "median_hours": "待ち時間 中央値（時間）",
}
charts.show(
    px.line(by_level, x="day", y="pending", color="level", markers=True, labels=labels,
            category_orders=ORDER, title="段階ごとの承認待ち件数（各日の終わり）"),
    x="day", y="count",
)  # fmt: skip
left, right = st.columns(2)
with left:
    charts.show(
        px.bar(by_level, x="day", y="overdue", color="level", labels=labels,
               category_orders=ORDER, title="期限超過の件数"),
        x="day", y="count",
    )  # fmt: skip
with right:
    charts.show(
        px.line(by_level, x="day", y="p95_hours", color="level", markers=True, labels=labels,
                category_orders=ORDER, title="待ち時間の95%点（各日の終わり）"),
        x="day", y="hours",
    )  # fmt: skip

st.subheader(f"組織ごと（{latest_day:%Y年%-m月%-d日}）")
table(
    latest.sort("overdue", "p95_hours", descending=True).select(
        "level", "org_name", "pending", "median_hours", "p95_hours", "overdue"
    )
)
downloads(per_org.select("day", "level", "org_code", "org_name", "pending", "median_hours",
                         "p95_hours", "overdue"),
          f"承認SLA_{period[0]}_{period[1]}", "sla_download")  # fmt: skip
