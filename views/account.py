"""パスワード変更: every user changes their own password (the current one once, the new twice)."""

import streamlit as st

from ui.auth import current_user, password_form
from ui.widgets import flash, show_flash

user = current_user("account")
st.title("パスワード変更")
show_flash()
st.caption(
    "ご自身だけが知るパスワードにしてください。ほかのブラウザでのログインは終了します"
    "（このブラウザはそのまま使えます）。"
)
if password_form(user):
    flash("パスワードを変更しました。")
