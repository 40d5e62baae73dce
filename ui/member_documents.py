"""The member page's 証明書・メール tab: the member's certificates and notices (print any
number of times while valid; each print recorded), the invoice addressee, the JSPO posting
choice, and the mail the member was sent."""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import streamlit as st

from core import vocabulary
from core.documents import available, certificates
from core.documents import templates as doc_templates
from core.errors import ValidationError
from core.members import addressee
from core.notify import tray
from core.store import db
from ui.auth import CurrentUser
from ui.data import connection, lease, settings
from ui.widgets import flash, table

MAIL_WORDS = {"event": vocabulary.MAIL_EVENTS, "status": vocabulary.MAIL_STATUSES}
DOC_HEADERS = {
    "document_no": "証書番号",
    "kind": "書類",
    "course_title": "講習名",
    "available_on": "発行可能になった日",
    "issued": "印刷回数",
    "last_issued_at": "最終印刷日時",
    "printable": "現在印刷できる",
}
MAIL_HEADERS = {"outbox_id": "送信番号", "created_at": "作成日時", "event": "内容", "recipient": "宛先",
                "subject": "件名", "status": "送信状況", "sent_at": "送信日時", "status_reason": "理由"}  # fmt: skip


def printed(member_no: str, kind: str, actor: str) -> bytes:
    """The member's documents of a kind, recorded as issued when the button is clicked."""
    with lease(str(db.db_path())).connection() as con:
        return certificates.issue(con, member_no, kind, actor=actor).pdf


def show(user: CurrentUser, member_no: str, record: dict[str, object]) -> None:
    cfg = settings()
    today = dt.date.today()
    found = doc_templates.load()
    if not user.masked and record["status"] != "erased":
        with connection() as con, db.transaction(con):
            available.for_members(con, [member_no], on=today, cfg=cfg)
    with connection() as con:
        documents = certificates.member_documents(con, member_no, today)
        mail = tray.member_mail(con, member_no)
        failing = tray.failing_address(con, member_no)
        held = db.frame(
            con,
            "SELECT scheme, qualification, card_posting FROM qualifications WHERE member_no = ?"
            " AND status IN ('active', 'renewed', 'renewal_open') ORDER BY scheme, qualification",
            [member_no],
        )

    st.markdown("##### 証明書・通知書")
    if documents.is_empty():
        st.info(
            "発行できる証明書・通知書はありません（資格が有効で、会費が納入済みのときに発行できます）。"
        )
    else:
        table(documents, words={"kind": vocabulary.DOCUMENT_KINDS}, headers=DOC_HEADERS)
        if not user.masked:
            kinds = list(dict.fromkeys(documents.filter(pl.col("printable"))["kind"].to_list()))
            columns = st.columns(max(len(kinds), 1))
            for column, kind in zip(columns, kinds, strict=False):
                label = vocabulary.DOCUMENT_KINDS[kind]
                column.download_button(
                    f"{label}PDF",
                    data=functools.partial(printed, member_no, kind, user.username),
                    file_name=f"{label}_{member_no}_{today:%Y%m%d}.pdf",
                    mime="application/pdf",
                    on_click="ignore",
                    key=f"certificate_{kind}",
                    icon=":material/workspace_premium:",
                )
            st.caption(
                "資格が有効な間は何度でも印刷できます。同じ証書番号の書類は何度印刷しても同じ内容です。印刷は記録されます。"
            )

    posting_schemes = certificates.posting_choices(found)
    choices = held.filter(pl.col("scheme").is_in(list(posting_schemes)))
    if user.may_correct and not choices.is_empty():
        st.markdown("##### 登録証の郵送希望")
        with st.form("card_posting_form"):
            picked = {}
            for row in choices.iter_rows(named=True):
                label = cfg.qualification_label(row["scheme"], row["qualification"])
                options = list(vocabulary.CARD_POSTING)
                picked[row["qualification"]] = st.radio(
                    label, options, format_func=vocabulary.CARD_POSTING.get, horizontal=True,
                    index=options.index(row["card_posting"]) if row["card_posting"] in options else 0,
                    key=f"posting_{row['scheme']}_{row['qualification']}",
                )  # fmt: skip
            if st.form_submit_button("郵送希望を保存"):
                with connection() as con:
                    for qualification, posting in picked.items():
                        certificates.set_posting(
                            con, member_no, qualification, posting, actor=user.username
                        )
                flash("登録証の郵送希望を保存しました。")

    if user.may_correct and record["status"] != "erased":
        st.markdown("##### 請求書・領収証宛名")
        with st.form("invoice_addressee_form"):
            value = st.text_input(
                "宛名（空欄なら会員の氏名＋様）", value=str(record.get("invoice_addressee") or ""),
                key="invoice_addressee", help="この会員のすべての請求書・領収書に印刷します。",
            )  # fmt: skip
            reason = st.text_input("宛名を変更する理由（必須）", key="invoice_addressee_reason")
            if st.form_submit_button("宛名を保存"):
                try:
                    with connection() as con:
                        changed = addressee.set_invoice_addressee(
                            con, member_no, value, actor=user.username, reason=reason
                        )
                except ValidationError as exc:
                    st.error(next(iter(exc.errors.values())))
                else:
                    if changed:
                        flash("請求書・領収証宛名を保存しました。")
                    else:
                        st.info("変更はありませんでした。")

    st.markdown("##### 送信したメール")
    if failing is not None:
        st.warning(
            f"このメールアドレスは {failing:%Y年%-m月%-d日} に送信サーバーから配信不能と返されました。"
            "アドレスを修正するまで、この会員へのメールは送信しません。"
        )
    if mail.is_empty():
        st.info("この会員へのメールはありません。")
    else:
        if user.masked:
            mail = mail.with_columns(
                pl.when(pl.col("recipient").is_null())
                .then(None)
                .otherwise(pl.lit("＊＊＊"))
                .alias("recipient")
            )
        table(mail, words=MAIL_WORDS, headers=MAIL_HEADERS)
        st.caption("本文の確認と再送は「送信トレイ」で行えます（会員番号で絞り込めます）。")
