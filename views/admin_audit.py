"""監査ログ (admin): every change by people and batches, filterable and downloadable."""

import streamlit as st

from core.store import audit
from ui.auth import current_user
from ui.data import connection
from ui.widgets import audit_words, downloads, table

TABLES = {
    "": "すべて",
    "members": "会員",
    "qualifications": "資格",
    "users": "ユーザー",
    "organizations": "組織",
    "activities": "実績",
    "billing": "請求",
}

if current_user().role != "admin":
    st.error("このページは管理者のみ利用できます。")
    st.stop()

st.title("監査ログ")
left, right = st.columns([2, 1])
chosen = left.selectbox("対象", list(TABLES), format_func=TABLES.get)
limit = right.number_input("表示件数", min_value=50, max_value=5000, value=500, step=50)
with connection() as con:
    rows = audit.recent(con, chosen or None, limit=int(limit))
st.write(f"新しい順に {rows.height:,} 件")
table(audit_words(rows))
downloads(rows, "audit_log", key="audit")
