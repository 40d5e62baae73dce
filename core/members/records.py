"""Members as staff find them: search within a scope, the member record and what hangs on it
(qualifications, activities, billing), and personal data masked for roles that may not see it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from core import text
from core.members.organizations import scope_path
from core.store import db

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

MASKED_SEARCH_FIELDS = ("member_no",)


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
    # the user may not see personal data (masking): personal data is no search key either,
    # or a name or a telephone number typed would tell whether that person is a member
    masked: bool = False
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


def searchable_fields(masked: bool) -> dict[str, str]:
    """The search fields a user may choose: by member number alone where personal data is
    masked."""
    if masked:
        return {f: SEARCH_FIELDS[f] for f in MASKED_SEARCH_FIELDS}
    return dict(SEARCH_FIELDS)


def _keyword_condition(
    keyword: str, search_field: str, *, masked: bool = False
) -> tuple[str, list[Any]]:
    chosen = detect_field(keyword) if search_field == "auto" else search_field
    if masked and chosen not in MASKED_SEARCH_FIELDS:
        chosen = "member_no"  # a name typed matches no member number
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
        condition, values = _keyword_condition(
            query.keyword, query.search_field, masked=query.masked
        )
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
