"""資格・会員更新管理: log-in, the pages each role may open, and the sidebar. Nothing else."""

import streamlit as st

from core.access import users
from ui.auth import (
    LAST_PAGE,
    USER,
    gate,
    logout_button,
    return_to,
    signed_in,
    write_pending_cookie,
)
from ui.data import connection, prepare_database
from ui.navigation import ADDRESS, BY_NAME, DEFAULT, PAGES, address_page, not_found

st.set_page_config(page_title="資格・会員更新管理", page_icon=":material/badge:", layout="wide")
prepare_database()
# Streamlit's own chrome that cannot be translated: the running indicator ("Running…") goes;
# pages show their own progress in Japanese (ui.widgets.working).
st.html("<style>[data-testid='stStatusWidget'] {visibility: hidden;}</style>")

# Before log-in only the form is drawn: the pages live in views/ (not pages/, which Streamlit
# would list by file name before st.navigation is called), and the address typed or bookmarked
# stays in the browser, so the page it names opens once the user has logged in.
user = signed_in()
if user is None or user.must_change_password:
    gate(user)
assert user is not None
st.session_state[USER] = user

# Every page is known to the navigation; those the role may not open are hidden, and opened by
# their address they say so in Japanese (views check ui.navigation too).
sections: dict[str, list[st.Page]] = {}
hidden = []
by_address: dict[str, st.Page] = {}
for spec in PAGES:
    allowed = spec.allows(user.role, user.scope)
    entry = st.Page(f"views/{spec.name}.py", title=spec.title, icon=f":material/{spec.icon}:",
                    default=spec.name == DEFAULT, visibility="visible" if allowed else "hidden")  # fmt: skip
    if allowed:
        sections.setdefault(spec.section, []).append(entry)
        by_address[spec.name] = entry
    else:
        hidden.append(entry)
# An address no page has gets our own page in Japanese (Streamlit's would say "Page not
# found" in English and run the home page).
wanted = address_page()
if wanted and wanted not in BY_NAME and ADDRESS.fullmatch(wanted):
    hidden.append(st.Page(not_found, title="ページが見つかりません", url_path=wanted,
                          visibility="hidden"))  # fmt: skip
chosen = st.navigation({**sections, "": hidden} if hidden else sections, expanded=True)
return_to(by_address)  # after a log-in: the page typed, or the one an idle log-out left
st.session_state[LAST_PAGE] = chosen.url_path

with st.sidebar:
    st.markdown(f"**{user.display_name}**  \n{user.role_label}・{user.scope_name}")
    logout_button()
    write_pending_cookie()
if user.role == "admin":
    with connection() as con:
        demo = users.with_demo_password(con)
    if demo:
        st.warning(
            f"デモ用のパスワード（公開されています）のままのユーザーがいます: {'、'.join(demo)}。"
            "本番で使う前に、パスワードを再設定するか無効にしてください。"
        )
        st.page_link("views/admin_users.py", label="ユーザー管理を開く",
                     icon=":material/manage_accounts:")  # fmt: skip
chosen.run()
