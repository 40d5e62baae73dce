"""まとめて支払い: a club (or any organisation in scope) pays many members' open lines at once."""

import datetime as dt

import polars as pl
import streamlit as st

from core.billing import methods, payments
from core.documents import invoices
from core.errors import PaymentConflict, PaymentRefused
from core.members import organizations
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import flash, show_flash, table, working

ORG = "pay_org"
MONTHS = "pay_months"
PICK = "pay_lines"
BATCH_PDF = "pay_batch_pdf_made"
METHOD = "pay_method"
PAID_ON = "pay_paid_on"
REFERENCE = "pay_reference"
LIMIT = 5000  # rows a page shows at once

user = current_user("club_payment")
cfg = settings()
st.title("まとめて支払い")
show_flash()
if not user.may_correct:
    st.error("入金の記録は本部事務局・管理者のみ行えます。")
    st.stop()
st.caption(
    "組織の会員の未納明細を選び、1回の支払としてまとめて入金を記録します（請求月をまたいで選べます）。"
    "決済手数料は支払者の負担です。支払方法ごとに1回の上限額があります。"
)

with connection() as con:
    orgs = organizations.within(con, user.scope)
labels = {
    code: f"{name}（{code}）" for code, name in zip(orgs["org_code"], orgs["name"], strict=True)
}
org = st.selectbox("組織", list(labels), format_func=labels.get, key=ORG)
if org is None:
    st.info("担当範囲に組織がありません。")
    st.stop()


with connection() as con:
    months = payments.open_months(con, org)
if not months:
    st.info("この組織に未納の明細はありません。")
    st.stop()
chosen_months = st.multiselect(
    "請求月（未選択ならすべて）",
    months,
    format_func=lambda d: f"{d.year}年{d.month}月",
    placeholder="すべての月",
    key=MONTHS,
)
with connection() as con:
    lines = payments.open_lines(con, org, months=chosen_months, limit=LIMIT)
if lines.is_empty():
    st.info("この組織に未納の明細はありません。")
    st.stop()


if orgs.filter(pl.col("org_code") == org)["kind"].to_list() == ["club"]:
    # a club of hundreds takes a while: made on request with a progress bar, then offered
    if st.button("このクラブの請求書を一括で作成（表紙と会員ごとの請求書）", key="pay_batch_make"):
        with connection() as con, working("請求書を作成しています") as progress:
            try:
                made = invoices.club_batch(con, org, "invoice", progress=progress)
            except invoices.NothingToIssue as exc:
                st.info(str(exc))
            else:
                st.session_state[BATCH_PDF] = (org, made.pdf, made.documents)
    kept = st.session_state.get(BATCH_PDF)
    if kept and kept[0] == org:
        st.download_button(
            f"請求書PDFをダウンロード（{kept[2]:,}名分）",
            data=kept[1],
            file_name=f"請求書一括_{org}_{dt.date.today():%Y%m%d}.pdf",
            mime="application/pdf",
            on_click="ignore",
            icon=":material/download:",
            key="pay_batch_pdf",
        )


st.subheader(f"未納の明細（{lines.height:,}件）")
if lines.height >= LIMIT:
    st.caption(f"古い順に最初の{LIMIT:,}件を表示しています。請求月で絞り込んでください。")
event = table(lines, on_select="rerun", selection_mode="multi-row", key=PICK)
rows = [r for r in event.selection.rows if r < lines.height]
selected = lines[rows]
total = int((selected["amount"] + selected["handling_fee"]).sum() or 0)

left, right = st.columns(2)
left.metric("選択した明細", f"{selected.height:,} 件")
right.metric("合計（明細の金額＋事務手数料）", f"{total:,} 円")
if selected.is_empty():
    st.info("支払う明細を表の左端で選んでください。")
    st.stop()

paid_on = st.date_input("入金日", value=dt.date.today(), key=PAID_ON, format="YYYY/MM/DD")
quotes = methods.quotes(total, paid_on)
st.subheader("支払方法ごとの手数料")
table(
    pl.DataFrame(
        {
            "method": [q.label for q in quotes],
            "payment_fee": [q.fee for q in quotes],
            "amount": [total + q.fee for q in quotes],
            "利用": ["○" if q.allowed else f"× {q.reason_ja}" for q in quotes],
        }
    ),
    headers={"amount": "支払総額"},
)

method_labels = {q.method: q.label for q in quotes}
allowed = [q.method for q in quotes if q.allowed]
with st.form("pay_form"):
    method = st.selectbox(
        "支払方法",
        list(method_labels),
        index=list(method_labels).index(allowed[0]) if allowed else 0,
        format_func=method_labels.get,
        key=METHOD,
    )
    reference = st.text_input("参照番号（決済代行・銀行の受付番号）", key=REFERENCE)
    submitted = st.form_submit_button("入金を記録")
if submitted:
    try:
        with connection() as con:
            done = payments.record_payment(
                con,
                selected["billing_id"].to_list(),
                method=str(method),
                paid_on=paid_on,
                reference=reference,
                actor=user.username,
                payer_org_code=org,
            )
    except (PaymentRefused, PaymentConflict) as exc:
        st.error(exc.ja)
    else:
        for key in (PICK, REFERENCE):  # the paid lines are gone: start a new selection
            st.session_state.pop(key, None)
        flash(
            f"入金を記録しました（入金番号 {done.payment_id}・{done.lines}件・"
            f"{done.amount:,}円、手数料 {done.handling_fee:,}円）。"
        )
