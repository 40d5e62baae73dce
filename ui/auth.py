"""Log-in with streamlit-authenticator over the users table; the signed-in user's role and scope."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core import vocabulary
from core.access import users
from core.members import organizations
from ui.data import connection

COOKIE_KEY_FILE = Path(__file__).resolve().parent.parent / ".streamlit" / "cookie_key"
COOKIE_NAME = "renewal_backoffice_auth"
LOGIN_FIELDS = {
    "Form name": "ログイン",
    "Username": "ユーザーID",
    "Password": "パスワード",
    "Login": "ログイン",
}


@dataclass(frozen=True)
class CurrentUser:
    username: str
    display_name: str
    role: str
    scope: str  # org_code, or organizations.ALL_SCOPE
    scope_name: str

    @property
    def masked(self) -> bool:
        """Analysts see statistics, not personal data."""
        return self.role == "analyst"

    @property
    def may_correct(self) -> bool:
        return self.role in ("hq_staff", "admin")

    @property
    def role_label(self) -> str:
        return vocabulary.ROLES[self.role]


@st.cache_resource
def cookie_key() -> str:
    """The cookie signing key: generated on first start into a git-ignored file."""
    if not COOKIE_KEY_FILE.exists():
        COOKIE_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        COOKIE_KEY_FILE.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        COOKIE_KEY_FILE.chmod(0o600)
    return COOKIE_KEY_FILE.read_text(encoding="utf-8").strip()


def _authenticator() -> stauth.Authenticate:
    with connection() as con:
        credentials = users.credentials(con)
    return stauth.Authenticate(
        credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(),
        cookie_expiry_days=0.5,
        auto_hash=False,
        login_sleep_time=0.1,
    )


def require_login() -> CurrentUser:
    """The signed-in user, or the log-in form and a stop."""
    authenticator = _authenticator()
    st.session_state["_authenticator"] = authenticator
    try:
        authenticator.login(location="main", fields=LOGIN_FIELDS, key="login_form")
    except LoginError as exc:
        st.error(f"ログインできません: {exc}")
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("ユーザーIDまたはパスワードが違います。")
    if not status:
        st.caption("ログイン情報は管理者にお問い合わせください。")
        st.stop()
    username = st.session_state["username"]
    with connection() as con:
        record = users.get(con, username)
        if record is None or record["disabled"]:
            authenticator.logout(location="unrendered")
            st.error("このユーザーは無効です。管理者にお問い合わせください。")
            st.stop()
        if not st.session_state.get("_login_recorded"):
            users.touch_login(con, username)
            st.session_state["_login_recorded"] = True
        scope_name = organizations.name_of(con, record["org_code"])
    return CurrentUser(
        username, record["display_name"], record["role"], record["org_code"], scope_name
    )


def logout_button() -> None:
    authenticator = st.session_state.get("_authenticator")
    if authenticator is not None:
        authenticator.logout("ログアウト", location="sidebar", key="logout")
        if not st.session_state.get("authentication_status"):
            st.session_state.pop("_login_recorded", None)


def current_user() -> CurrentUser:
    """The user app.py signed in (pages call this)."""
    user = st.session_state.get("current_user")
    if not isinstance(user, CurrentUser):
        st.error("ログインしてください。")
        st.stop()
    return user
