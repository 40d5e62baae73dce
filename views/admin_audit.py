"""監査ログ (admin): every change by people and batches, and every log-in (ログイン履歴),
filterable and downloadable."""

import streamlit as st

from core import vocabulary
from core.store import audit
from ui.auth import current_user
from ui.data import connection
from ui.widgets import audit_words, downloads, table

LOGINS = "logins"
CHOICES = {"": "すべて", LOGINS: "ログイン履歴", **vocabulary.AUDIT_TABLES}

current_user("admin_audit")
st.title("監査ログ")
left, right = st.columns([2, 1])
chosen = left.selectbox("対象", list(CHOICES), format_func=CHOICES.get, key="audit_table")
limit = right.number_input("表示件数", min_value=50, max_value=5000, value=500, step=50)
with connection() as con:
    if chosen == LOGINS:
        rows = audit.recent(con, "users", limit=int(limit), actions=vocabulary.LOGIN_ACTIONS)
    else:
        rows = audit.recent(con, chosen or None, limit=int(limit))
st.write(f"新しい順に {rows.height:,} 件")
table(audit_words(rows))
downloads(rows, "audit_log", key="audit")
