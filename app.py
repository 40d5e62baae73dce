"""資格・会員更新管理: log-in, the pages each role may open, and the sidebar. Nothing else."""

import streamlit as st

from ui.auth import logout_button, require_login
from ui.data import prepare_database

st.set_page_config(page_title="資格・会員更新管理", page_icon=":material/badge:", layout="wide")
prepare_database()

user = require_login()
st.session_state["current_user"] = user

home = st.Page("pages/home.py", title="ホーム", icon=":material/home:", default=True)
lookup = st.Page("pages/member_lookup.py", title="会員検索", icon=":material/person_search:")
batch = st.Page("pages/renewal_batch.py", title="更新処理", icon=":material/autorenew:")
what_if = st.Page("pages/whatif.py", title="ルール変更シミュレーション", icon=":material/science:")
fee_dashboard = st.Page(
    "pages/fee_dashboard.py", title="会費ダッシュボード", icon=":material/payments:"
)
approval_queue = st.Page("pages/approval_queue.py", title="承認待ち", icon=":material/approval:")
applications = st.Page(
    "pages/applications.py", title="申請入力・差戻し対応", icon=":material/edit_document:"
)
approval_sla = st.Page("pages/approval_sla.py", title="承認SLA", icon=":material/timer:")
club_payment = st.Page(
    "pages/club_payment.py", title="まとめて支払い", icon=":material/point_of_sale:"
)
reconcile = st.Page("pages/reconciliation.py", title="入金消込", icon=":material/account_balance:")
admin_users = st.Page(
    "pages/admin_users.py", title="ユーザー管理", icon=":material/manage_accounts:"
)
admin_config = st.Page("pages/admin_config.py", title="制度設定", icon=":material/tune:")
admin_audit = st.Page("pages/admin_audit.py", title="監査ログ", icon=":material/history:")

sections = {"業務": [home, lookup]}
if user.role in ("hq_staff", "approver", "admin"):
    sections["業務"] += [approval_queue, applications]
if user.role in ("hq_staff", "approver", "analyst", "admin"):
    sections["業務"].append(approval_sla)
if user.role in ("hq_staff", "admin") and user.scope == "*":
    sections["業務"].append(batch)
if user.role in ("hq_staff", "admin"):
    sections["業務"] += [club_payment, reconcile]
if user.role in ("hq_staff", "analyst", "admin"):
    sections["業務"] += [fee_dashboard, what_if]
if user.role == "admin":
    sections["管理"] = [admin_users, admin_config, admin_audit]

navigation = st.navigation(sections)
with st.sidebar:
    st.markdown(f"**{user.display_name}**  \n{user.role_label}・{user.scope_name}")
    logout_button()
navigation.run()
