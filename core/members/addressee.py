"""請求書・領収証宛名: the addressee on every invoice and receipt of a member (ITC lets its
members edit it: a company name instead of their own, for example). Empty means the
member's name with 様."""

from __future__ import annotations

import duckdb

from core.errors import ValidationError
from core.store import audit, db

MAX_LENGTH = 60


def set_invoice_addressee(
    con: duckdb.DuckDBPyConnection, member_no: str, value: str, *, actor: str, reason: str
) -> bool:
    """Change the member's addressee (audited with the reason); False when unchanged."""
    cleaned = " ".join(value.split()) or None
    if cleaned is not None and len(cleaned) > MAX_LENGTH:
        raise ValidationError({"invoice_addressee": f"{MAX_LENGTH}文字以内で入力してください。"})
    if not reason.strip():
        raise ValidationError({"reason": "変更理由を入力してください。"})
    with db.transaction(con):
        row = db.one(con, "SELECT invoice_addressee FROM members WHERE member_no = ?", [member_no])
        if row is None:
            raise ValidationError({"member_no": f"会員番号 {member_no} はありません。"})
        if row[0] == cleaned:
            return False
        con.execute(
            "UPDATE members SET invoice_addressee = ?, updated_at = current_timestamp"
            " WHERE member_no = ?",
            [cleaned, member_no],
        )
        audit.record_changes(
            con,
            actor=actor,
            action="update",
            table="members",
            row_key=member_no,
            changes={"invoice_addressee": (row[0], cleaned)},
            reason=reason.strip(),
            member_no=member_no,
        )
    return True
