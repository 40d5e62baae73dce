"""ホーム: the work in the user's scope today."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core import text
from core.stats import overview
from core.vocabulary import MEMBER_STATUSES as STATUSES
from core.vocabulary import QUALIFICATION_STATUSES
from ui import charts
from ui.auth import current_user
from ui.data import connection, settings


@st.cache_data(ttl=60, show_spinner="集計しています…")
def figures(scope: str, today: dt.date) -> tuple[dict[str, int], pl.DataFrame, pl.DataFrame]:
    with connection() as con:
        return (
            overview.workload(con, scope, today),
            overview.member_counts(con, scope),
            overview.qualification_counts(con, scope),
        )


user = current_user("home")
today = dt.date.today()
st.title("ホーム")
st.caption(f"{text.jp_date(today, with_wareki=True)}　担当範囲: {user.scope_name}")

work, members, quals = figures(user.scope, today)
cols = st.columns(4)
cols[0].metric("会員数（担当範囲）", f"{work['members']:,} 人")
cols[1].metric("今月で有効期限を迎える資格", f"{work['ending_this_month']:,} 件")
cols[2].metric("昨日で有効期限が満了した資格", f"{work['ended_yesterday']:,} 件")
cols[3].metric(
    "未納の請求", f"{work['open_lines']:,} 件", f"{work['open_amount']:,} 円", delta_color="off"
)

cfg = settings()
left, right = st.columns(2)
with left:
    st.subheader("会員の状態")
    if members.is_empty():
        st.info("担当範囲に会員がいません。")
    else:
        shown = members.with_columns(
            pl.col("status").replace_strict(STATUSES, default=pl.col("status"))
        )
        chart = px.bar(
            shown,
            x="body",
            y="members",
            color="status",
            labels={"body": "団体", "members": "人数（人）", "status": "状態"},
        )
        charts.show(chart, y="count")
with right:
    st.subheader("資格の状態")
    if quals.is_empty():
        st.info("担当範囲に資格の登録がありません。")
    else:
        names = {code: cfg.scheme_name(code) for code in quals["scheme"].unique()}
        shown = (
            quals.group_by("scheme", "status")
            .agg(pl.col("n").sum())
            .with_columns(
                pl.col("scheme").replace_strict(names, default=pl.col("scheme")),
                pl.col("status").replace_strict(QUALIFICATION_STATUSES, default=pl.col("status")),
            )
            .sort("scheme", "status")
        )
        chart = px.bar(
            shown,
            x="scheme",
            y="n",
            color="status",
            labels={"scheme": "制度", "n": "件数（件）", "status": "状態"},
        )
        charts.show(chart, y="count")
