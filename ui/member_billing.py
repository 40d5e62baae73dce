"""The member page's 請求 tab: the member's billing lines, invoice and receipt PDFs with an
editable addressee, and refunds of paid lines where the scheme allows them."""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import streamlit as st

from core import vocabulary
from core.billing import refunds
from core.documents import invoices
from core.errors import PaymentRefused
from core.store import db
from ui.auth import CurrentUser
from ui.data import connection, lease, settings
from ui.widgets import flash, table


def document_pdf(
    member_no: str, kind: str, addressee: str | None, issued_on: dt.date | None
) -> bytes:
    """The invoice or receipt, built when the download button is clicked."""
    with lease(str(db.db_path())).connection() as con:
        return invoices.issue(con, member_no, kind, addressee=addressee, issued_on=issued_on).pdf


def show(user: CurrentUser, member_no: str, bills: pl.DataFrame) -> None:
    """The tab: lines, documents, refunds."""
    cfg = settings()
    if bills.is_empty():
        st.info("請求はありません。")
    else:
        table(bills, words={"status": vocabulary.BILLING_STATUSES})
        if not user.masked:
            top = st.columns([2, 1])
            addressee = top[0].text_input("宛名（空欄なら会員の氏名）", key="document_addressee")
            days = sorted(set(bills["issued_on"].to_list()), reverse=True)
            issued_on = top[1].selectbox(
                "請求日",
                [None, *days],
                format_func=lambda d: "すべて" if d is None else f"{d:%Y年%-m月%-d日}のみ",
                key="document_issued_on",
                help="講習の請求書は申込書の提出日ごとに1通です。",
            )
            on_document = (
                bills if issued_on is None else bills.filter(pl.col("issued_on") == issued_on)
            )
            columns = st.columns(2)
            for column, kind, status in zip(
                columns, ("invoice", "receipt"), ("open", "paid"), strict=True
            ):
                title = invoices.KINDS[kind][0]
                chosen = on_document.filter(pl.col("status") == status)
                if chosen.is_empty():
                    column.caption(f"{title}に載せる明細はありません。")
                    continue
                total = int((chosen["amount"] + chosen["handling_fee"]).sum())
                column.download_button(
                    f"{title}PDF（{chosen.height}件・{total:,}円）",
                    # made only when clicked, not on every run of the page
                    data=functools.partial(
                        document_pdf, member_no, kind, addressee.strip() or None, issued_on
                    ),
                    file_name=f"{title}_{member_no}_{dt.date.today():%Y%m%d}.pdf",
                    mime="application/pdf",
                    on_click="ignore",
                    key=f"document_{kind}",
                )

    paid_lines = bills.filter(pl.col("status") == "paid")
    if user.may_correct and not paid_lines.is_empty():
        with st.expander("入金済みの明細を返金する"):
            choices = {
                r["billing_id"]: f"{r['description']}（{r['amount'] + r['handling_fee']:,}円・"
                f"入金日 {r['paid_on']:%Y/%m/%d}）"
                for r in paid_lines.iter_rows(named=True)
            }
            line_id = st.selectbox(
                "明細", list(choices), format_func=choices.get, key="refund_line"
            )
            line = paid_lines.filter(pl.col("billing_id") == line_id).row(0, named=True)
            allowed = refunds.reasons(line["scheme"], dt.date.today())
            if not allowed:
                st.info(f"{cfg.scheme_name(line['scheme'])}では入金後の返金はできません。")
            else:
                with st.form("refund_form"):
                    reason = st.selectbox("返金の事由", list(allowed), format_func=allowed.get)
                    note = st.text_input("メモ（返金方法・連絡内容など）")
                    if st.form_submit_button("返金を記録"):
                        try:
                            with connection() as con:
                                refunds.refund_line(
                                    con,
                                    int(line_id),
                                    reason=reason,
                                    on=dt.date.today(),
                                    actor=user.username,
                                    note=note.strip() or None,
                                )
                        except PaymentRefused as exc:
                            st.error(exc.ja)
                        else:
                            flash(f"返金を記録しました（{choices[line_id]}・{allowed[reason]}）。")
                            st.rerun()
