"""監査ログ (admin): every change by people and batches, and every log-in (ログイン履歴),
filterable by what was changed or done, and downloadable."""

import streamlit as st

from core import vocabulary
from core.store import audit
from ui.auth import current_user
from ui.data import connection
from ui.widgets import audit_words, downloads, table

# what the filter offers: (label, table, actions); None matches any
FILTERS: dict[str, tuple[str, str | None, tuple[str, ...] | None]] = {
    "": ("すべて", None, None),
    "logins": ("ログイン履歴", "users", vocabulary.LOGIN_ACTIONS),
    "action:pay": ("入金（消込を含む）", None, ("pay", "resolve")),
    "action:refund": ("返金", None, ("refund",)),
    "action:renew": ("更新処理", None, ("renew", "erase")),
    "action:import": ("取込", None, ("import",)),
    **{f"table:{t}": (f"{label}の変更", t, None) for t, label in vocabulary.AUDIT_TABLES.items()},
}

current_user("admin_audit")
st.title("監査ログ")
left, right = st.columns([2, 1])
chosen = left.selectbox(
    "対象", list(FILTERS), format_func=lambda k: FILTERS[k][0], key="audit_table"
)
limit = right.number_input("表示件数", min_value=50, max_value=5000, value=500, step=50)
label, table_name, actions = FILTERS[chosen]
with connection() as con:
    rows = audit.recent(con, table_name, limit=int(limit), actions=actions)
st.write(f"新しい順に {rows.height:,} 件")
worded = audit_words(rows)
table(worded)
downloads(worded, f"監査ログ_{label}", key="audit")
