"""ユーザー管理 (admin): create, disable, unlock, reset password, change role and scope — all
audited."""

import secrets

import polars as pl
import streamlit as st

from core import vocabulary
from core.access import login, users
from core.errors import ValidationError
from core.members import organizations
from core.store import audit
from ui.auth import current_user
from ui.data import connection
from ui.widgets import audit_words, flash, show_flash, table

NEW_FORM = "user_new_form"
EDIT_USER = "user_edit_target"
FIELD_LABELS = {
    "username": "ユーザーID",
    "display_name": "氏名",
    "role": "役割",
    "org_code": "担当組織",
    "password": "パスワード",
    "reason": "変更理由",
    "disabled": "無効化",
    "current": "現在のパスワード",
    "again": "確認",
}

admin = current_user("admin_users")
if admin.role != "admin":
    st.error("このページは管理者のみ利用できます。")
    st.stop()
st.title("ユーザー管理")
show_flash()


def show_errors(exc: ValidationError) -> None:
    for field, message in exc.errors.items():
        st.error(f"{FIELD_LABELS.get(field, field)}: {message}")


@st.cache_data(ttl=300)
def scope_choices() -> dict[str, str]:
    with connection() as con:
        orgs = organizations.within(con, organizations.ALL_SCOPE)
    choices = {organizations.ALL_SCOPE: "全組織"}
    choices.update(
        {r["org_code"]: f"{r['name']}（{r['org_code']}）" for r in orgs.iter_rows(named=True)}
    )
    return choices


scopes = scope_choices()
with connection() as con:
    listing = users.listing(con)
st.subheader(f"ユーザー一覧（{listing.height}人）")
shown = listing.select(
    pl.col("username").alias("ユーザーID"),
    pl.col("display_name").alias("氏名"),
    pl.col("role").replace_strict(vocabulary.ROLES, default=pl.col("role")).alias("役割"),
    pl.col("organization").alias("担当組織"),
    pl.when(pl.col("disabled"))
    .then(pl.lit("無効"))
    .when(pl.col("locked_until").is_not_null())
    .then(pl.lit("ロック中"))
    .otherwise(pl.lit("有効"))
    .alias("状態"),
    pl.when(pl.col("demo_password"))
    .then(pl.lit("デモ用のまま"))
    .when(pl.col("must_change_password"))
    .then(pl.lit("次のログインで変更"))
    .otherwise(pl.lit(""))
    .alias("パスワード"),
    pl.col("last_login_at").alias("最終ログイン"),
)
table(shown)

left, right = st.columns(2)
with left:
    st.subheader("ユーザーの追加")
    with st.form(NEW_FORM, clear_on_submit=False):
        username = st.text_input("ユーザーID（英小文字・数字）")
        display_name = st.text_input("氏名")
        email = st.text_input("メールアドレス（任意）")
        role = st.selectbox("役割", list(vocabulary.ROLES), format_func=vocabulary.ROLES.get)
        scope = st.selectbox(
            "担当組織（この組織の配下のみ表示）", list(scopes), format_func=scopes.get
        )
        password = st.text_input(
            "初期パスワード（12文字以上・推測されにくいもの。本人は初回ログイン時に変更します）",
            type="password",
            value="",
        )
        create = st.form_submit_button("追加する", type="primary")
    if create:
        try:
            with connection() as con:
                users.create(
                    con,
                    username=username.strip(),
                    display_name=display_name,
                    role=role,
                    org_code=scope,
                    password=password,
                    email=email.strip() or None,
                    actor=admin.username,
                )
        except ValidationError as exc:
            show_errors(exc)
        else:
            flash(f"ユーザー {username} を追加しました。")

with right:
    st.subheader("ユーザーの変更")
    target = st.selectbox("対象ユーザー", listing["username"].to_list(), key=EDIT_USER)
    row = listing.filter(listing["username"] == target).row(0, named=True) if target else None
    if row:
        with st.form("user_edit_form"):
            role = st.selectbox(
                "役割",
                list(vocabulary.ROLES),
                index=list(vocabulary.ROLES).index(row["role"]),
                format_func=vocabulary.ROLES.get,
            )
            scope_codes = list(scopes)
            scope = st.selectbox(
                "担当組織",
                scope_codes,
                format_func=scopes.get,
                index=scope_codes.index(row["org_code"]) if row["org_code"] in scopes else 0,
            )
            disabled = st.checkbox(
                "無効にする（ログインできなくなります）", value=bool(row["disabled"])
            )
            reason = st.text_input("変更理由（必須）")
            save = st.form_submit_button("変更を保存")
        if save:
            try:
                with connection() as con:
                    changes = users.update(
                        con,
                        username=target,
                        actor=admin.username,
                        reason=reason,
                        role=role,
                        org_code=scope,
                        disabled=disabled,
                    )
            except ValidationError as exc:
                show_errors(exc)
            else:
                if changes:
                    flash(f"ユーザー {target} の変更を保存しました。")
                st.info("変更はありませんでした。")
        with st.form("user_password_form"):
            st.markdown("**パスワードの再設定**")
            new_password = st.text_input("新しいパスワード（空欄なら自動生成）", type="password")
            reset = st.form_submit_button("再設定する")
        if reset:
            chosen = new_password or secrets.token_urlsafe(12)
            try:
                with connection() as con:
                    users.reset_password(
                        con,
                        username=target,
                        password=chosen,
                        actor=admin.username,
                        reason="管理者による再設定",
                    )
            except ValidationError as exc:
                show_errors(exc)
            else:
                st.success(
                    "再設定しました。本人は次のログインで自分のパスワードに変更します。"
                    + (
                        ""
                        if new_password
                        else f"仮のパスワード: `{chosen}`（本人に安全な方法で伝えてください）"
                    )
                )
        if row["locked_until"] is not None:
            st.warning(
                f"ログインの失敗が続いたため、{row['locked_until']:%H:%M}までロックされています。"
            )
            if st.button("ロックを解除する", key="user_unlock"):
                with connection() as con:
                    login.unlock(con, target, actor=admin.username)
                flash(f"ユーザー {target} のロックを解除しました。")

st.subheader("ユーザーに関する変更履歴")
with connection() as con:
    table(audit_words(audit.recent(con, "users", limit=100)))
