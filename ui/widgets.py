"""Shared display helpers: Japanese column labels, date formats, downloads."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core import vocabulary
from core.store import exports

DATE_FORMAT = "YYYY年M月D日"
COLUMN_LABELS = {
    "member_no": "会員番号",
    "name": "氏名",
    "kana": "フリガナ",
    "birth_date": "生年月日",
    "phone": "電話番号",
    "email": "メールアドレス",
    "status": "状態",
    "organization": "所属",
    "prefecture": "都道府県",
    "scheme": "制度",
    "qualification": "資格",
    "acquired_on": "取得日",
    "valid_from": "有効開始日",
    "valid_until": "有効期限",
    "certificate_no": "認定番号",
    "date": "日付",
    "kind": "種類",
    "category": "区分",
    "points": "ポイント",
    "hours": "時間",
    "domain": "領域",
    "course_name": "講習名",
    "score": "得点",
    "minutes_late": "遅刻（分）",
    "issued_on": "請求日",
    "item": "項目",
    "description": "内容",
    "amount": "金額",
    "handling_fee": "手数料",
    "due_on": "支払期限",
    "paid_on": "入金日",
    "changed_at": "日時",
    "actor": "実施者",
    "action": "操作",
    "table_name": "対象",
    "row_key": "キー",
    "field": "項目",
    "old_value": "変更前",
    "new_value": "変更後",
    "reason": "理由",
    "decision": "判定",
    "effective_on": "効力発生日",
    "new_valid_until": "新しい有効期限",
    "fee_item": "請求項目",
    "fee_amount": "請求額",
    "run_id": "実行番号",
    "as_of": "基準日",
    "schemes": "制度",
    "started_at": "実行日時",
    "changes": "変更内容",
    "batch_id": "監査バッチ",
    "application_ref": "申請番号",
    "season": "年度",
    "level": "段階",
    "level_org_name": "承認する組織",
    "org_name": "組織",
    "entered_by": "入力",
    "submitted_at": "申請日時",
    "level_since": "到着日時",
    "waiting_hours": "待ち時間（時間）",
    "due_at": "承認期限",
    "sla": "期限",
    "checks": "確認事項",
    "note": "備考",
    "target_org_code": "移籍先",
    "acted_at": "日時",
    "next_level": "次の段階",
    "next_org_name": "次の組織",
    "send_back_note": "差戻しメモ",
    "sent_back_by": "差戻し者",
    "sent_back_at": "差戻し日時",
    "decided_at": "決定日時",
    "reject_reason": "受付不可の理由",
    "day": "日付",
    "pending": "承認待ち",
    "median_hours": "待ち時間 中央値（時間）",
    "p95_hours": "待ち時間 95%点（時間）",
    "overdue": "期限超過",
    "billing_id": "明細番号",
    "payment_id": "入金番号",
    "method": "支払方法",
    "reference": "参照番号",
    "expected": "未納額",
    "item_id": "消込番号",
    "resolved_by": "処理者",
    "created_at": "登録日時",
}


FLASH = "flash_message"


def flash(message: str) -> None:
    """Keep a success message across the st.rerun() that shows the saved state."""
    st.session_state[FLASH] = message
    st.rerun()


def show_flash() -> None:
    """Show (once) the message a previous run kept with flash()."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


AUDIT_WORDS = {
    "action": vocabulary.AUDIT_ACTIONS,
    "table_name": vocabulary.AUDIT_TABLES,
    "field": vocabulary.AUDIT_FIELDS,
}


def audit_words(frame: pl.DataFrame) -> pl.DataFrame:
    """Audit rows with actions, tables and fields in the words staff use."""
    return frame.with_columns(
        pl.col(column).replace_strict(words, default=pl.col(column))
        for column, words in AUDIT_WORDS.items()
        if column in frame.columns
    )


def column_config(frame: pl.DataFrame) -> dict[str, object]:
    """Japanese headers, and dates shown as 2026年11月24日."""
    config: dict[str, object] = {}
    for column, dtype in frame.schema.items():
        label = COLUMN_LABELS.get(column, column)
        if dtype == pl.Date:
            config[column] = st.column_config.DateColumn(label, format=DATE_FORMAT)
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            config[column] = st.column_config.DatetimeColumn(label, format="YYYY年M月D日 HH:mm")
        elif column in ("amount", "handling_fee", "fee_amount", "expected"):
            config[column] = st.column_config.NumberColumn(label, format="%d 円")
        else:
            config[column] = st.column_config.Column(label)
    return config


def table(frame: pl.DataFrame, **kwargs: object) -> object:
    """st.dataframe with Japanese headers and dates."""
    return st.dataframe(frame, hide_index=True, column_config=column_config(frame), **kwargs)  # type: ignore[arg-type]


def downloads(frame: pl.DataFrame, stem: str, key: str) -> None:
    """CSV (UTF-8 with BOM, opens in Excel) and Excel buttons for a table."""
    left, right = st.columns(2)
    left.download_button(
        "CSVでダウンロード",
        exports.to_bytes(frame, ".csv"),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )
    right.download_button(
        "Excelでダウンロード",
        exports.to_bytes(frame, ".xlsx"),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
    )
