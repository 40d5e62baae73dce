"""送信トレイ: the mail the product wrote — filter, read one as it is sent, resend it, the sent
and failed mail per day, and each scheme's templates with sample values."""

import datetime as dt

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from core import schemes, vocabulary
from core.errors import ValidationError
from core.notify import templates as mail_templates
from core.notify import tray
from ui.auth import current_user
from ui.charts import show
from ui.data import connection, settings
from ui.widgets import downloads, flash, show_flash, table

EVENT = "outbox_event"
STATUS = "outbox_status"
SCHEME = "outbox_scheme"
MEMBER = "outbox_member"
PICK = "outbox_pick"
PREVIEW_SCHEME = "outbox_preview_scheme"
PREVIEW_EVENT = "outbox_preview_event"
ANY = "（すべて）"
HEADERS = {
    "outbox_id": "送信番号",
    "created_at": "作成日時",
    "event": "内容",
    "recipient": "宛先",
    "subject": "件名",
    "status": "送信状況",
    "attempts": "送信回数",
    "sent_at": "送信日時",
    "status_reason": "理由",
}
WORDS = {"event": vocabulary.MAIL_EVENTS, "status": vocabulary.MAIL_STATUSES}

user = current_user("outbox")
cfg = settings()
st.title("送信トレイ")
show_flash()
st.caption(
    "会費の請求・入金完了・更新完了・申請の承認や差戻し・リマインドなど、各制度の案内メールです。"
    "メールは出来事と同時に作成され、定期的に動く送信処理が送信サーバーへ届けます。"
)

with connection() as con:
    counts = tray.status_counts(con, user.scope)
    per_day = tray.daily(con, user.scope)
metrics = st.columns(len(vocabulary.MAIL_STATUSES))
for column, (code, label) in zip(metrics, vocabulary.MAIL_STATUSES.items(), strict=True):
    column.metric(label, f"{counts.get(code, 0):,} 通")

st.markdown("##### 送信済・送信失敗（日別、過去30日）")
if per_day.is_empty():
    st.info("過去30日に送信したメールはありません。")
else:
    fig = go.Figure()
    for code in ("sent", "failed"):
        part = per_day.filter(pl.col("status") == code)
        fig.add_bar(
            x=part["day"].to_list(), y=part["n"].to_list(), name=vocabulary.MAIL_STATUSES[code]
        )
    fig.update_layout(barmode="stack", height=280, margin={"t": 10, "b": 10})
    show(fig, x="day", y="count", key="outbox_daily")

with st.form("outbox_filter"):
    left, middle, right, last = st.columns(4)
    left.selectbox(
        "内容",
        [ANY, *vocabulary.MAIL_EVENTS],
        format_func=lambda c: vocabulary.MAIL_EVENTS.get(c, c),
        key=EVENT,
    )
    middle.selectbox(
        "送信状況",
        [ANY, *vocabulary.MAIL_STATUSES],
        format_func=lambda c: vocabulary.MAIL_STATUSES.get(c, c),
        key=STATUS,
    )
    right.selectbox(
        "制度",
        [ANY, *schemes.CODES],
        format_func=lambda c: c if c == ANY else cfg.scheme_name(c),
        key=SCHEME,
    )
    last.text_input("会員番号", key=MEMBER)
    st.form_submit_button("絞り込む", icon=":material/filter_alt:")  # fmt: skip


def _chosen(key: str) -> str | None:
    value = st.session_state.get(key)
    return None if value in (None, ANY, "") else str(value)


chosen = tray.Filter(_chosen(EVENT), _chosen(STATUS), _chosen(SCHEME), _chosen(MEMBER))
with connection() as con:
    total, found = tray.rows(con, user.scope, chosen)
if found.is_empty():
    st.info("条件に合うメールはありません。")
else:
    st.write(
        f"**{total:,} 通**（新しい順に最大{found.height:,}通を表示）。行を選ぶと本文を表示します。"
    )
    event = table(
        found,
        words=WORDS,
        headers=HEADERS,
        on_select="rerun",
        selection_mode="single-row",
        key=PICK,
    )
    downloads(
        found, f"送信トレイ_{dt.date.today()}", key="outbox_download", words=WORDS, headers=HEADERS
    )
    picked = [r for r in event.selection.rows if r < found.height]  # type: ignore[attr-defined]
    if picked:
        outbox_id = int(found["outbox_id"][picked[0]])
        with connection() as con:
            mail = tray.one(con, user.scope, outbox_id)
        if mail is not None:
            with st.container(border=True):
                st.markdown(f"**{mail['subject']}**")
                st.caption(
                    f"差出人: {mail['sender']}　宛先: {mail['recipient'] or '—'}　"
                    f"送信状況: {vocabulary.MAIL_STATUSES[mail['status']]}　"
                    f"メッセージID: {mail['message_id']}"
                )
                if mail["status_reason"]:
                    st.caption(f"理由: {mail['status_reason']}")
                st.text(mail["body"])
                if mail["resent_from"]:
                    st.caption(f"送信番号 {mail['resent_from']} の再送です。")
                if st.button(
                    "このメールを再送する",
                    key=f"resend_{outbox_id}",
                    icon=":material/forward_to_inbox:",
                ):
                    try:
                        with connection() as con:
                            new_id = tray.resend(con, user.scope, outbox_id, actor=user.username)
                    except ValidationError as exc:
                        st.error(next(iter(exc.errors.values())))
                    else:
                        flash(f"再送を作成しました（送信番号 {new_id}）。次の送信処理で届けます。")

with st.expander("メールの文面（制度・内容ごとの見本）"):
    found_templates = mail_templates.load()
    left, right = st.columns(2)
    scheme = left.selectbox(
        "制度", list(schemes.CODES), format_func=cfg.scheme_name, key=PREVIEW_SCHEME
    )
    events = found_templates.events(scheme)
    chosen_event = right.selectbox(
        "内容", events, format_func=vocabulary.MAIL_EVENTS.get, key=PREVIEW_EVENT
    )
    if chosen_event:
        sender, subject, text = mail_templates.preview(
            scheme, chosen_event, found_templates, cfg, dt.date.today()
        )
        st.caption(f"差出人: {sender}")
        st.markdown(f"**{subject}**")
        st.text(text)
        st.caption(
            "見本の値（氏名・日付・金額など）で表示しています。文面は制度ごとのテンプレートファイルで変更できます。"
        )
