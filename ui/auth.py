"""Log-in for the pages: the form, the signed session cookie, idle time-out, password changes.

The rules live in core.access (throttling, sessions, policy, audit); this module draws the
forms and keeps the browser's side. A browser holds only a signed session id (a JWT in a
cookie, signed with the key every app server shares); on every run the server reads it with
`st.context.cookies` and asks core.access.login whether the session still stands, so a
reload or a typed URL needs no round trip through a component and loses no click — the cause
of the lost log-ins and of reloads landing on ホーム (a cookie component that reran the script
after it mounted). The cookie is written by a few lines of script only when it changes.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

import jwt
import streamlit as st
import streamlit.components.v1 as components

from core import config, vocabulary
from core.access import login, users
from core.errors import ConflictError, ValidationError
from core.members import organizations
from ui import navigation
from ui.data import connection

COOKIE_NAME = "renewal_session"
COOKIE_KEY_ENV = "RENEWAL_COOKIE_KEY"
COOKIE_KEY_FILE = Path(__file__).resolve().parent.parent / ".streamlit" / "cookie_key"
SESSION = "auth_session_id"
NOTICE = "auth_notice"  # a word for the log-in form (logged out, idle)
USER = "current_user"
LOGIN_FORM = "login_form"
PASSWORD_FORM = "password_form"
GONE = {
    "idle": "しばらく操作がなかったため、ログアウトしました。もう一度ログインしてください。",
    "expired": "ログインの有効時間が過ぎました。もう一度ログインしてください。",
    "disabled": "このユーザーは無効になりました。管理者にお問い合わせください。",
    "ended": "ログアウトしました。",
}


@dataclass(frozen=True)
class CurrentUser:
    username: str
    display_name: str
    role: str
    scope: str  # org_code, or organizations.ALL_SCOPE
    scope_name: str
    session_id: str = ""
    must_change_password: bool = False

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
    """The key that signs session cookies: $RENEWAL_COOKIE_KEY, else `cookie_key` in
    .streamlit/secrets.toml, else a key generated on first start into a git-ignored file.
    Every app server of one deployment must share it (docs/deployment.md)."""
    if os.environ.get(COOKIE_KEY_ENV):
        return os.environ[COOKIE_KEY_ENV]
    try:
        from_secrets = st.secrets.get("cookie_key")
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        from_secrets = None
    if from_secrets:
        return str(from_secrets)
    if not COOKIE_KEY_FILE.exists():
        COOKIE_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        COOKIE_KEY_FILE.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        COOKIE_KEY_FILE.chmod(0o600)
    return COOKIE_KEY_FILE.read_text(encoding="utf-8").strip()


def _write_cookie(session_id: str | None) -> None:
    """Set (or, with None, remove) the session cookie in the browser."""
    hours = int(config.current().value("common.access.session_hours"))
    if session_id is None:
        value, age = "", 0
    else:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
        value = jwt.encode({"sid": session_id, "exp": expires}, cookie_key(), algorithm="HS256")
        age = hours * 3600
    components.html(
        "<script>"
        "const secure = window.parent.location.protocol === 'https:' ? '; Secure' : '';"
        f"window.parent.document.cookie = '{COOKIE_NAME}={value}; path=/; max-age={age};"
        " SameSite=Strict' + secure;"
        "</script>",
        height=0,
    )


def _session_from_cookie() -> str | None:
    token = st.context.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        claims = jwt.decode(token, cookie_key(), algorithms=["HS256"])
    except jwt.PyJWTError:  # expired, tampered with, or signed with another key
        return None
    return str(claims.get("sid")) if claims.get("sid") else None


def _current_user(session: login.Session) -> CurrentUser:
    record = session.user
    with connection() as con:
        scope_name = organizations.name_of(con, record["org_code"])
    return CurrentUser(record["username"], record["display_name"], record["role"],
                       record["org_code"], scope_name, session.session_id)  # fmt: skip


PENDING_COOKIE = "auth_pending_cookie"  # the cookie to write on the next run ("" removes it)
RETURN_TO = "auth_return_to"  # the page to open once logged in (a typed address, an idle page)
LAST_PAGE = "auth_last_page"  # the page the user was on, for a return after an idle log-out


def signed_in() -> CurrentUser | None:
    """The user of this browser's session if it still stands (checked at every interaction: a
    session idle too long, ended elsewhere or of a disabled user is gone), else None."""
    session_id = st.session_state.get(SESSION) or _session_from_cookie()
    if not session_id:
        return None
    with connection() as con:
        session, why = login.current(con, session_id)
    if session is None:
        st.session_state.pop(SESSION, None)
        st.session_state.pop(USER, None)
        st.session_state[NOTICE] = GONE.get(why or "ended", GONE["ended"])
        st.session_state[PENDING_COOKIE] = ""
        return None
    st.session_state[SESSION] = session_id
    user = _current_user(session)
    return replace(user, must_change_password=bool(session.user["must_change_password"]))


def gate(user: CurrentUser | None) -> None:
    """What stands before the pages: the log-in form, or the new password an admin's reset
    asks for. Ends the run; a success reruns it."""
    write_pending_cookie()
    if user is not None and user.must_change_password:
        _forced_password_change(user)
    else:
        _login_form()
    st.stop()


def write_pending_cookie() -> None:
    """Set or remove the session cookie when a log-in or log-out asked for it."""
    pending = st.session_state.pop(PENDING_COOKIE, None)
    if pending is not None:
        _write_cookie(pending or None)


def _login_form() -> None:
    st.title("資格・会員更新管理")
    notice = st.session_state.get(NOTICE)
    if notice:
        st.info(notice)
    with st.form(LOGIN_FORM):
        username = st.text_input("ユーザーID")
        password = st.text_input("パスワード", type="password")
        submitted = st.form_submit_button("ログイン", type="primary")
    st.caption("ログイン情報は管理者にお問い合わせください。")
    if not submitted:
        return
    try:
        with connection() as con:
            attempt = login.authenticate(con, username, password, where=st.context.ip_address or "")
    except ConflictError as exc:
        st.error(str(exc))
        return
    if not attempt.ok:
        st.error(attempt.message)
        return
    st.session_state[SESSION] = attempt.session_id
    st.session_state[PENDING_COOKIE] = attempt.session_id
    st.session_state.pop(NOTICE, None)
    # where to go: the page the user was on before an idle log-out, else the address typed
    st.session_state[RETURN_TO] = st.session_state.get(LAST_PAGE) or navigation.address_page()
    st.rerun()


def return_to(pages: dict[str, object]) -> None:
    """Once logged in, open the page the user asked for before the log-in form (`pages`: the
    allowed pages by address); the choice is used once."""
    wanted = st.session_state.pop(RETURN_TO, "")
    if wanted and wanted in pages:
        st.switch_page(pages[wanted])  # type: ignore[arg-type]


def password_form(user: CurrentUser, *, key: str = PASSWORD_FORM) -> bool:
    """Change one's own password: the current one once, the new one twice. True when changed."""
    minimum = int(config.current().value("common.access.min_password_length"))
    with st.form(key, clear_on_submit=True):
        current = st.text_input("現在のパスワード", type="password")
        new = st.text_input(f"新しいパスワード（{minimum}文字以上）", type="password")
        again = st.text_input("新しいパスワード（確認のためもう一度）", type="password")
        submitted = st.form_submit_button("パスワードを変更", type="primary")
    if not submitted:
        return False
    try:
        with connection() as con:
            users.change_own_password(con, username=user.username, current=current, new=new,
                                      again=again, session_id=user.session_id)  # fmt: skip
    except ValidationError as exc:
        for message in exc.errors.values():
            st.error(message)
        return False
    return True


def _forced_password_change(user: CurrentUser) -> None:
    """After an admin's reset: a new password before any page opens."""
    st.title("パスワードの変更")
    st.warning(
        "管理者がパスワードを再設定しました。続けるには、ご自身だけが知る新しいパスワードに"
        "変更してください。"
    )
    if password_form(user, key="forced_password_form"):
        st.rerun()


def logout_button() -> None:
    """The sidebar's log-out: ends the session on the server and removes the cookie."""
    if st.button("ログアウト", key="logout", icon=":material/logout:"):
        session_id = st.session_state.pop(SESSION, None)
        if session_id:
            with connection() as con:
                login.end(con, session_id, where=st.context.ip_address or "")
        st.session_state.pop(USER, None)
        st.session_state.pop(LAST_PAGE, None)  # the next log-in starts at ホーム
        st.session_state[NOTICE] = GONE["ended"]
        st.session_state[PENDING_COOKIE] = ""
        st.rerun()


def current_user(page: str | None = None) -> CurrentUser:
    """The signed-in user (pages call this first, with their name: a page the user's role may
    not open says so and stops). app.py has checked the session in this run; a page run on its
    own (as Streamlit's AppTest does after the first run) checks it here."""
    user = st.session_state.get(USER)
    if not isinstance(user, CurrentUser):
        user = signed_in()
        if user is None or user.must_change_password:
            gate(user)
        assert user is not None
        st.session_state[USER] = user
    spec = navigation.BY_NAME.get(page or "")
    if spec is not None and not spec.allows(user.role, user.scope):
        st.error("このページを開く権限がありません。")
        st.page_link("views/home.py", label="ホームへ", icon=":material/home:")
        st.stop()
    return user
