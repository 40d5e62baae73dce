"""Exports (docs/formats.md): CSV (UTF-8 with BOM, so Excel opens it; formulas neutralised),
Parquet or Excel by extension; personal data masked for analysts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from core.masking import mask_history, mask_personal
from core.store import db

EXCEL_MAX_ROWS = 1_048_575  # one sheet, below the header
# What each table exports: the contract columns first (FORMATS.md), then the rest.
QUERIES = {
    "members": "SELECT member_no, org_code, family_name, given_name, family_name_kana,"
    " given_name_kana, birth_date, gender, email, phone, postal_code, prefecture, address,"
    " category, status, joined_on FROM members ORDER BY member_no",
    "organizations": "SELECT org_code, name, kind, parent_code, prefecture FROM organizations"
    " ORDER BY path",
    "qualifications": "SELECT member_no, scheme, qualification, valid_from, valid_until, status,"
    " acquired_on, certificate_no FROM qualifications ORDER BY member_no, scheme, qualification",
    "activities": "SELECT member_no, scheme, kind, date, qualification, category, points, hours,"
    " domain, course_name, score, minutes_late FROM activities ORDER BY member_no, date",
    "billing": "SELECT member_no, scheme, item, description, amount, handling_fee, issued_on,"
    " due_on, paid_on, status, tax_class FROM billing ORDER BY issued_on, member_no, item",
    "payments": "SELECT member_no, scheme, item, amount, method, paid_on, reference, handling_fee,"
    " payer_org_code, recorded_by FROM payments ORDER BY paid_on, reference",
    "reconciliation": "SELECT r.item_id, r.kind, r.status, r.member_no, r.scheme, r.item, r.amount,"
    " r.expected, p.method, p.paid_on, p.reference, r.billing_id, r.note, r.resolved_at,"
    " r.resolved_by FROM reconciliation r JOIN payments p USING (payment_id) ORDER BY r.item_id",
    "refunds": "SELECT refund_id, billing_id, item_id, payment_id, member_no, scheme, amount, reason,"
    " note, refunded_on, recorded_by FROM refunds ORDER BY refund_id",
    "applications": "SELECT application_ref, member_no, scheme, kind, season, submitted_at,"
    " proxy_org_code, qualification, target_org_code, reason, valid_until_claimed, note, status,"
    " entered_by, level, level_org_code, level_since, decided_at, insurance_plan, competitor,"
    " duplicate_of, same_person_as, address_problem, reject_reason"
    " FROM applications ORDER BY submitted_at, application_ref",
    "courses": "SELECT course_code, scheme, title, held_on, hours, domain, capacity,"
    " materials_fee FROM courses ORDER BY held_on, course_code",
    "enrolments": "SELECT member_no, course_code, reserved_at, form_received_on, status,"
    " billing_id FROM enrolments ORDER BY reserved_at, enrolment_id",
    "outbox": "SELECT event, member_no, scheme, recipient, subject, status, created_at, sent_at,"
    " message_id, status_reason, attempts, resent_from, created_by FROM outbox ORDER BY outbox_id",
    "documents": "SELECT document_no, member_no, scheme, kind, qualification, season, valid_from,"
    " valid_until, available_on, (SELECT count(*) FROM document_issues i"
    " WHERE i.document_id = d.document_id) AS issued FROM documents d ORDER BY document_id",
    "audit_log": "SELECT changed_at, actor, action, table_name, row_key, member_no, field,"
    " old_value, new_value, reason, batch_id FROM audit_log ORDER BY audit_id",
}
FORMATS = (".csv", ".parquet", ".xlsx")


def table_frame(
    con: duckdb.DuckDBPyConnection, table: str, *, masked: bool = False
) -> pl.DataFrame:
    """The rows an export of `table` writes; personal data masked for analysts."""
    if table not in QUERIES:
        raise ValueError(f"cannot export {table}; choose one of {', '.join(QUERIES)}")
    frame = db.frame(con, QUERIES[table])
    if not masked or table == "organizations":  # an organisation's name is not a person's
        return frame
    if table == "outbox":  # the recipient is the member's address
        frame = frame.with_columns(
            pl.when(pl.col("recipient").is_null())
            .then(None)
            .otherwise(pl.lit("＊＊＊"))
            .alias("recipient")
        )
    return mask_history(frame) if table == "audit_log" else mask_personal(frame)


# A cell a spreadsheet would run as a formula (CSV injection, OWASP): =, +, -, @, tab or CR
# first. In a CSV a person opens, such a cell gets a leading apostrophe, Excel's mark for
# text; the imports take the apostrophe off again, so an export can be imported unchanged.
FORMULA_START = r"^[=+\-@\t\r]"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that would start a formula, prefixed with an apostrophe."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then("'" + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def excel_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Excel has no time zones: timestamps become Japan wall-clock time."""
    zoned = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    return frame.with_columns(
        pl.col(c).dt.convert_time_zone("Asia/Tokyo").dt.replace_time_zone(None) for c in zoned
    )


def write_frame(frame: pl.DataFrame, out: Path) -> None:
    """Write by extension: .csv (UTF-8 with BOM), .parquet or .xlsx."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{out}: the extension must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        neutralised(frame).write_csv(out, include_bom=True)
    elif suffix == ".parquet":
        frame.write_parquet(out)
    else:
        if frame.height > EXCEL_MAX_ROWS:
            raise ValueError(
                f"{out}: {frame.height:,} rows do not fit one Excel sheet"
                f" ({EXCEL_MAX_ROWS:,}); export .csv or .parquet instead"
            )
        excel_ready(frame).write_excel(out, autofit=frame.height <= 10_000)


def export_table(
    con: duckdb.DuckDBPyConnection, table: str, out: Path, *, masked: bool = False
) -> int:
    """Export one table to a file; returns the row count."""
    frame = table_frame(con, table, masked=masked)
    write_frame(frame, out)
    return frame.height


def to_bytes(frame: pl.DataFrame, suffix: str, *, people: bool = False) -> bytes:
    """A frame as a download for the pages: .csv (with BOM) or .xlsx. For `people`, dates
    read 2026/11/24 and times 2026/11/24 13:05 (a frame from ui.display.for_people)."""
    import io

    buffer = io.BytesIO()
    if suffix == ".csv":
        neutralised(frame).write_csv(
            buffer,
            include_bom=True,
            date_format="%Y/%m/%d" if people else None,
            datetime_format="%Y/%m/%d %H:%M" if people else None,
        )
    else:
        excel_ready(frame).write_excel(
            buffer,
            autofit=True,
            dtype_formats={pl.Date: "yyyy/mm/dd", pl.Datetime: "yyyy/mm/dd hh:mm"}
            if people
            else None,
        )
    return buffer.getvalue()
