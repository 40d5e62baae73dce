"""Members: search within a scope, the member record, contact corrections with audit."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from core import audit, db, text
from core.errors import ConflictError, ValidationError
from core.organizations import scope_path

STATUSES = {"active": "在籍", "withdrawn": "退会", "erased": "抹消"}
QUALIFICATION_STATUSES = {
    "active": "有効",
    "renewal_open": "更新手続中",
    "renewed": "更新済",
    "lapsed": "失効",
    "invalidated": "無効（会費未納）",
    "suspended": "休止",
    "returned": "返上・返納",
    "erased": "抹消",
}
CATEGORIES = {"general": "一般", "university": "大学生", "high_school": "高校生"}
CONTACT_FIELDS = ("postal_code", "prefecture", "address", "phone", "email")
CONTACT_LABELS = {
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
}
PERSONAL_COLUMNS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "email",
    "phone",
    "postal_code",
    "address",
    "name",
    "kana",
)
MASK = "＊＊＊"
# What erasure clears (SAJ, seed 003): the person; the number, club and dates stay.
ERASED_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "gender",
    "email",
    "phone",
    "postal_code",
    "address",
    "name_key",
    "kana_key",
    "phone_key",
)
SEARCH_FIELDS = {
    "auto": "自動判定",
    "member_no": "会員番号",
    "name": "氏名（漢字）",
    "kana": "フリガナ",
    "phone": "電話番号",
    "email": "メールアドレス",
}


@dataclass(frozen=True)
class MemberQuery:
    """What staff typed and picked on the lookup page."""

    keyword: str = ""
    search_field: str = "auto"
    org_code: str | None = None
    scheme: str | None = None
    qualification: str | None = None
    qualification_status: str | None = None
    status: str | None = None
    page: int = 1
    page_size: int = 25
    extra: dict[str, Any] = field(default_factory=dict)


def detect_field(keyword: str) -> str:
    """Which field a free keyword most likely means."""
    value = unicodedata.normalize("NFKC", keyword).strip()
    if "@" in value:
        return "email"
    if re.fullmatch(r"[A-Za-z]{0,3}\d+", value) and not value.startswith("0"):
        return "member_no"
    if re.fullmatch(r"0[\d\-]{3,}", value):
        return "phone"
    if re.fullmatch(r"[ぁ-ゖァ-ヶー・\s]+", value):
        return "kana"
    return "name"


def _keyword_condition(keyword: str, search_field: str) -> tuple[str, list[Any]]:
    chosen = detect_field(keyword) if search_field == "auto" else search_field
    value = unicodedata.normalize("NFKC", keyword).strip()
    if chosen == "member_no":
        return "upper(m.member_no) LIKE upper(?) || '%'", [value]
    if chosen == "kana":
        return "contains(m.kana_key, ?)", [text.katakana(keyword)]
    if chosen == "phone":
        return "contains(m.phone_key, ?)", [text.phone_digits(keyword)]
    if chosen == "email":
        return "contains(lower(m.email), lower(?))", [value]
    return "contains(m.name_key, ?)", [text.name_key(keyword)]


def search(
    con: duckdb.DuckDBPyConnection, scope: str, query: MemberQuery
) -> tuple[int, pl.DataFrame]:
    """One page of members beneath `scope` that match; returns (total matches, page)."""
    where = ["starts_with(o.path, ?)"]
    params: list[Any] = [scope_path(con, scope)]
    if query.keyword.strip():
        condition, values = _keyword_condition(query.keyword, query.search_field)
        where.append(condition)
        params += values
    if query.org_code:
        where.append("starts_with(o.path, ?)")
        params.append(scope_path(con, query.org_code))
    if query.status:
        where.append("m.status = ?")
        params.append(query.status)
    if query.scheme or query.qualification or query.qualification_status:
        q_where = ["q.member_no = m.member_no"]
        for column, value in (
            ("scheme", query.scheme),
            ("qualification", query.qualification),
            ("status", query.qualification_status),
        ):
            if value:
                q_where.append(f"q.{column} = ?")
                params.append(value)
        where.append(f"EXISTS (SELECT 1 FROM qualifications q WHERE {' AND '.join(q_where)})")
    offset = max(query.page - 1, 0) * query.page_size
    # Two steps in one query: find the page's member numbers and the total over the key
    # columns only, then fetch the shown columns for those rows alone.
    page = db.frame(
        con,
        f"""
        WITH hits AS (
            SELECT m.member_no, m.kana_key, count(*) OVER () AS total
            FROM members m JOIN organizations o USING (org_code)
            WHERE {" AND ".join(where)}
            ORDER BY m.kana_key NULLS LAST, m.member_no
            LIMIT ? OFFSET ?
        )
        SELECT m.member_no, m.family_name || ' ' || m.given_name AS name,
               m.family_name_kana || ' ' || m.given_name_kana AS kana,
               m.birth_date, m.phone, m.email, m.status, o.name AS organization,
               m.prefecture, h.total
        FROM hits h JOIN members m USING (member_no) JOIN organizations o USING (org_code)
        ORDER BY h.kana_key NULLS LAST, h.member_no
        """,
        [*params, query.page_size, offset],
    )
    if page.is_empty():
        total = 0
        if offset:  # past the last page: count without paging
            row = con.execute(
                f"SELECT count(*) FROM members m JOIN organizations o USING (org_code)"
                f" WHERE {' AND '.join(where)}",
                params,
            ).fetchall()
            total = int(row[0][0])
        return total, page.drop("total")
    return int(page["total"][0]), page.drop("total")


def get(con: duckdb.DuckDBPyConnection, scope: str, member_no: str) -> dict[str, Any] | None:
    """The member record with organisation, or None if absent or outside the scope."""
    cursor = con.execute(
        """
        SELECT m.*, o.name AS organization, o.path AS org_path
        FROM members m JOIN organizations o USING (org_code)
        WHERE m.member_no = ? AND starts_with(o.path, ?)
        """,
        [member_no, scope_path(con, scope)],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    columns = [d[0] for d in cursor.description]
    return dict(zip(columns, row, strict=True))


def qualifications(con: duckdb.DuckDBPyConnection, member_no: str) -> pl.DataFrame:
    return db.frame(
        con,
        "SELECT qualification_id, scheme, qualification, status, acquired_on, valid_from,"
        " valid_until, certificate_no FROM qualifications WHERE member_no = ?"
        " ORDER BY scheme, qualification",
        [member_no],
    )


def activities(con: duckdb.DuckDBPyConnection, member_no: str, limit: int = 500) -> pl.DataFrame:
    return db.frame(
        con,
        "SELECT date, scheme, kind, qualification, category, points, hours, domain,"
        " course_name, score, minutes_late FROM activities WHERE member_no = ?"
        " ORDER BY date DESC LIMIT ?",
        [member_no, limit],
    )


def billing(con: duckdb.DuckDBPyConnection, member_no: str) -> pl.DataFrame:
    return db.frame(
        con,
        "SELECT billing_id, issued_on, scheme, item, description, amount, handling_fee, due_on,"
        " paid_on, status FROM billing WHERE member_no = ? ORDER BY issued_on DESC, billing_id",
        [member_no],
    )


def mask_personal(frame: pl.DataFrame) -> pl.DataFrame:
    """Personal data hidden for roles that may not see it (analysts): names, birth, contact."""
    replacements = []
    for column in frame.columns:
        if column not in PERSONAL_COLUMNS:
            continue
        if column == "birth_date":
            replacements.append((pl.col(column).dt.year().cast(pl.String) + "年").alias(column))
        elif column in ("family_name", "name"):
            replacements.append((pl.col(column).str.slice(0, 1) + pl.lit("＊＊")).alias(column))
        else:
            replacements.append(
                pl.when(pl.col(column).is_null()).then(None).otherwise(pl.lit(MASK)).alias(column)
            )
    return frame.with_columns(replacements) if replacements else frame


def mask_history(frame: pl.DataFrame) -> pl.DataFrame:
    """Audit rows with the old and new values of personal fields hidden."""
    personal = pl.col("field").is_in(list(PERSONAL_COLUMNS) + list(CONTACT_FIELDS))
    return frame.with_columns(
        pl.when(personal & pl.col(c).is_not_null()).then(pl.lit(MASK)).otherwise(pl.col(c)).alias(c)
        for c in ("old_value", "new_value")
    )


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    """`mask_personal` for one member record."""
    masked = mask_personal(pl.DataFrame([record], infer_schema_length=None))
    return masked.row(0, named=True)


# --- contact corrections ------------------------------------------------------------


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
