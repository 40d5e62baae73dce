"""入金消込: imported payments that did not settle a line exactly, and how staff resolve them."""

import datetime as dt

import streamlit as st

from core import text, vocabulary
from core.billing import reconciliation
from core.errors import PaymentConflict, PaymentRefused
from ui import display
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import downloads, flash, show_flash, table

SHOW = "recon_show"
PICK = "recon_pick"
ACTION = "recon_action"
LINE = "recon_line"
NOTE = "recon_note"
ACTIONS = {
    "apply": "明細に充当する",
    "refund": "返金済みにする",
    "write_off": "処理済みにする（償却・メモ必須）",
}

user = current_user("reconciliation")
cfg = settings()
st.title("入金消込")
show_flash()
if not user.may_correct:
    st.error("入金消込は本部事務局・管理者のみ行えます。")
    st.stop()
st.caption(
    "入金データの取込で明細と金額が一致しなかった入金（不足・過入金・該当なし・複数候補）です。"
    "明細に充当する、返金済みにする、メモを付けて処理済みにする、のいずれかで解消します。操作はすべて監査ログに残ります。"
)

show = st.radio(
    "表示",
    ["open", "all"],
    format_func={"open": "未処理", "all": "すべて"}.get,
    horizontal=True,
    key=SHOW,
)
with connection() as con:
    items = reconciliation.items(con, status="open" if show == "open" else None)
if items.is_empty():
    st.success("未処理の入金はありません。" if show == "open" else "消込の記録はありません。")
    st.stop()

WORDS = {
    "kind": vocabulary.RECONCILIATION_KINDS,
    "status": vocabulary.RECONCILIATION_STATUSES,
}
event = table(items, words=WORDS, on_select="rerun", selection_mode="single-row", key=PICK)
downloads(items, f"入金消込_{dt.date.today()}", key="recon_download", words=WORDS)
rows = [r for r in event.selection.rows if r < items.height]
if not rows:
    st.info("処理する入金を表の左端で選んでください。")
    st.stop()

item = items.row(rows[0], named=True)
st.subheader(f"消込番号 {item['item_id']}: {vocabulary.RECONCILIATION_KINDS[item['kind']]}")
expected = f"{item['expected']:,}円" if item["expected"] is not None else "なし"
item_words = display.words_for(cfg)["item"]
st.markdown(
    f"会員番号 **{item['member_no'] or '—'}**・{item_words.get(item['item'], item['item'] or '—')}"
    f"・入金 **{item['amount']:,}円**（{text.jp_date(item['paid_on'])}、参照番号 {item['reference']}）"
    f"・未納額 {expected}"
)
if item["status"] != "open":
    st.info(f"この入金は処理済みです（{vocabulary.RECONCILIATION_STATUSES[item['status']]}）。")
    st.stop()

action = st.radio("処理", list(ACTIONS), format_func=ACTIONS.get, key=ACTION)
line = None
if action == "apply":
    with connection() as con:
        candidates = reconciliation.candidate_lines(con, item["item_id"])
    if candidates.is_empty():
        st.warning("この会員に未納の明細はありません。返金または処理済みにしてください。")
    else:
        labels = {
            r["billing_id"]: f"明細番号 {r['billing_id']} {r['description']}"
            f"（{r['amount'] + r['handling_fee']:,}円・請求日 {text.jp_date(r['issued_on'])}）"
            for r in candidates.iter_rows(named=True)
        }
        line = st.selectbox("充当する明細", list(labels), format_func=labels.get, key=LINE)
note = st.text_area("メモ（返金・処理済みには必須）", key=NOTE)
if st.button(ACTIONS[action], type="primary", disabled=action == "apply" and line is None):
    try:
        with connection() as con:
            if action == "apply":
                reconciliation.apply_to_line(
                    con, item["item_id"], int(line), actor=user.username, note=note or None
                )
            elif action == "refund":
                reconciliation.refund(con, item["item_id"], actor=user.username, note=note)
            else:
                reconciliation.write_off(con, item["item_id"], actor=user.username, note=note)
    except (PaymentRefused, PaymentConflict) as exc:
        st.error(exc.ja)
    else:
        for key in (PICK, NOTE, LINE):  # the next item starts with an empty form
            st.session_state.pop(key, None)
        flash(f"消込番号 {item['item_id']} を「{ACTIONS[action]}」で処理しました。")
