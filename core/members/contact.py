"""Contact data (住所・電話・メール): checked against Japan Post's postal table, corrected with a
reason and an audit row per field, never half-written."""

from __future__ import annotations

import unicodedata
from typing import Any

import duckdb

from core import text
from core.errors import ConflictError, ValidationError
from core.members.records import get
from core.store import audit
from core.vocabulary import CONTACT_LABELS

CONTACT_FIELDS = ("postal_code", "prefecture", "address", "phone", "email")


def prefectures(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The 47 prefectures in JIS order (北海道 … 沖縄県)."""
    rows = con.execute(
        "SELECT prefecture FROM ref_postal_codes GROUP BY prefecture ORDER BY min(prefecture_code)"
    ).fetchall()
    return [r[0] for r in rows]


def postal_lookup(con: duckdb.DuckDBPyConnection, code: str) -> dict[str, str] | None:
    """Japan Post's prefecture, city and town for a postal code, or None."""
    normalised = text.postal_code(code)
    if normalised is None:
        return None
    row = con.execute(
        "SELECT prefecture, city, town FROM ref_postal_codes WHERE postal_code = ? LIMIT 1",
        [normalised],
    ).fetchone()
    if row is None:
        return None
    return {"postal_code": normalised, "prefecture": row[0], "city": row[1], "town": row[2] or ""}


def validate_contact(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> dict[str, Any]:
    """Cleaned contact values, or ValidationError naming each bad field in Japanese."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    raw_postal = (values.get("postal_code") or "").strip()
    found = None
    if not raw_postal:
        errors["postal_code"] = "郵便番号を入力してください。"
    elif text.postal_code(raw_postal) is None:
        errors["postal_code"] = "郵便番号は7桁の数字（例: 100-0001）で入力してください。"
    else:
        found = postal_lookup(con, raw_postal)
        if found is None:
            errors["postal_code"] = (
                f"郵便番号 {text.postal_code(raw_postal)} は日本郵便のデータにありません。"
            )
        else:
            cleaned["postal_code"] = found["postal_code"]
    prefecture = (values.get("prefecture") or "").strip()
    if not prefecture:
        errors["prefecture"] = "都道府県を選んでください。"
    elif found and found["prefecture"] != prefecture:
        errors["prefecture"] = (
            f"郵便番号 {found['postal_code']} は{found['prefecture']}の番号です"
            f"（選択: {prefecture}）。"
        )
    else:
        cleaned["prefecture"] = prefecture
    address = unicodedata.normalize("NFC", (values.get("address") or "").strip())
    if address.startswith(prefecture) and prefecture:
        address = address[len(prefecture) :]
    if not address:
        errors["address"] = "住所を入力してください。"
    elif found and not address.startswith(found["city"]):
        errors["address"] = f"住所が郵便番号の市区町村（{found['city']}）で始まっていません。"
    else:
        cleaned["address"] = text.widen_kana(address)
    phone_raw = (values.get("phone") or "").strip()
    if phone_raw:
        phone = text.phone(phone_raw)
        if phone is None:
            errors["phone"] = (
                "電話番号は0から始まる10〜11桁（例: 03-1234-5678）で入力してください。"
            )
        else:
            cleaned["phone"] = phone
    else:
        cleaned["phone"] = None
    email_raw = (values.get("email") or "").strip()
    if email_raw:
        email = text.email(email_raw)
        if email is None:
            errors["email"] = "メールアドレスの形式が正しくありません（例: name@example.jp）。"
        else:
            cleaned["email"] = email
    else:
        cleaned["email"] = None
    if errors:
        raise ValidationError(errors)
    return cleaned


def correct_contact(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: str,
    member_no: str,
    values: dict[str, str],
    expected: dict[str, Any],
    reason: str,
    actor: str,
) -> dict[str, tuple[Any, Any]]:
    """Change contact fields with a reason; returns field -> (old, new) for what changed.

    `expected` holds the values the form showed: if the stored ones differ, someone else
    changed the member meanwhile and ConflictError is raised. All or nothing.
    """
    if not reason.strip():
        raise ValidationError({"reason": "変更理由を入力してください。"})
    cleaned = validate_contact(con, values)
    con.execute("BEGIN TRANSACTION")
    try:
        current = get(con, scope, member_no)
        if current is None:
            raise ValidationError({"member_no": f"会員番号 {member_no} は担当範囲にありません。"})
        if current["status"] == "erased":
            raise ValidationError({"member_no": "抹消済みの会員は変更できません。"})
        stale = [f for f in CONTACT_FIELDS if current.get(f) != expected.get(f)]
        if stale:
            raise ConflictError(
                "他の担当者がこの会員の連絡先を変更しました（"
                + "、".join(CONTACT_LABELS[f] for f in stale)
                + "）。画面を読み込み直してから入力してください。"
            )
        changes = {
            f: (current.get(f), cleaned[f]) for f in CONTACT_FIELDS if current.get(f) != cleaned[f]
        }
        if changes:
            assignments = ", ".join(f"{f} = ?" for f in changes)
            con.execute(
                f"UPDATE members SET {assignments}, phone_key = ?, updated_at = current_timestamp"
                " WHERE member_no = ?",
                [
                    *(new for _, new in changes.values()),
                    text.phone_digits(cleaned["phone"] or ""),
                    member_no,
                ],
            )
            audit.record_changes(
                con,
                actor=actor,
                action="update",
                table="members",
                row_key=member_no,
                member_no=member_no,
                changes=changes,
                reason=reason.strip(),
            )
        con.execute("COMMIT")
    except duckdb.TransactionException as exc:
        con.execute("ROLLBACK")
        raise ConflictError("他の担当者が同時に更新しました。もう一度お試しください。") from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return changes
