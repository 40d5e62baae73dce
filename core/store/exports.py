"""Exports (docs/formats.md): CSV (UTF-8 with BOM, so Excel opens it; formulas neutralised),
Parquet or Excel by extension; personal data masked for analysts."""

from __future__ import annotations

from collections.abc import Iterator
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
    " materials_fee, min_to_open, recruit_from, recruit_until, extra_from, extra_until, venue,"
    " lecturer, held_until, starts_at, ends_at, notes, qualification, status"
    " FROM courses ORDER BY held_on, course_code",
    # the contract's columns come from core.courses.roster.export (statuses, waitlist places),
    # registered as `enrolment_rows` while an export of enrolments is written (stream_table)
    "enrolments": "SELECT * FROM enrolment_rows",
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
    if table == "enrolments":
        from core.courses import roster  # the roster's statuses and places, decided once

        frame = roster.export(con)
    else:
        frame = db.frame(con, QUERIES[table])
    return _masked(frame, masking_for(table, masked))


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


# Which rows of a table a user of an organisation scope may export: those of members beneath
# it (or, for tables without members, of organisations beneath it). `scoped_members` and
# `scoped_orgs` are defined by `table_query`. Tables without members or organisations (courses)
# are the same for every scope.
SCOPE_FILTERS = {
    "members": "q.org_code IN (SELECT org_code FROM scoped_orgs)",
    "organizations": "q.org_code IN (SELECT org_code FROM scoped_orgs)",
    "qualifications": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "activities": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "billing": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "payments": "q.member_no IN (SELECT member_no FROM scoped_members)"
    " OR q.payer_org_code IN (SELECT org_code FROM scoped_orgs)",
    "reconciliation": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "refunds": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "applications": "q.member_no IN (SELECT member_no FROM scoped_members)"
    " OR q.proxy_org_code IN (SELECT org_code FROM scoped_orgs)",
    "courses": "true",
    "enrolments": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "audit_log": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "outbox": "q.member_no IN (SELECT member_no FROM scoped_members)",
    "documents": "q.member_no IN (SELECT member_no FROM scoped_members)",
}
BATCH_ROWS = 50_000


def table_query(table: str, scope_prefix: str = "/") -> tuple[str, dict[str, object]]:
    """The export query of `table` within an organisation scope (a path prefix; '/' = all)."""
    if table not in QUERIES:
        raise ValueError(f"cannot export {table}; choose one of {', '.join(QUERIES)}")
    if scope_prefix == "/":
        return QUERIES[table], {}
    sql = (
        "WITH scoped_orgs AS (SELECT org_code FROM organizations WHERE starts_with(path, $scope)),"
        " scoped_members AS (SELECT member_no FROM members"
        "  WHERE org_code IN (SELECT org_code FROM scoped_orgs))"
        f" SELECT q.* FROM ({QUERIES[table]}) q WHERE {SCOPE_FILTERS[table]}"
    )
    return sql, {"scope": scope_prefix}


def masking_for(table: str, masked: bool) -> str | None:
    """How a table is masked for a role that may not see personal data (None: not at all)."""
    if not masked or table == "organizations":
        return None
    return "history" if table == "audit_log" else "personal"


def _masked(frame: pl.DataFrame, masking: str | None) -> pl.DataFrame:
    if masking == "history":
        return mask_history(frame)
    if masking == "personal":
        if "recipient" in frame.columns:  # an outbox row's recipient is the member's address
            frame = frame.with_columns(
                pl.when(pl.col("recipient").is_null())
                .then(None)
                .otherwise(pl.lit("＊＊＊"))
                .alias("recipient")
            )
        return mask_personal(frame)
    return frame


class TooManyRowsForExcel(ValueError):
    """A result larger than one Excel sheet, refused before a row is read."""

    def __init__(self, out: Path, total: int):
        super().__init__(
            f"{out}: {total:,} rows do not fit one Excel sheet ({EXCEL_MAX_ROWS:,});"
            " export .csv or .parquet instead"
        )
        self.total = total


def count_rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    """How many rows a query returns, without loading them."""
    row = db.one(con, f"SELECT count(*) FROM ({sql})", params or None)
    return int(row[0]) if row else 0


def _batches(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, object],
    masking: str | None,
    headers: dict[str, str] | None,
) -> Iterator[pl.DataFrame]:
    con.complete()
    reader = con.sql(sql, params=params or None).to_arrow_reader(BATCH_ROWS)
    for batch in reader or ():
        frame = _masked(pl.from_arrow(batch), masking)  # type: ignore[arg-type]
        if headers:  # after masking, which knows the columns by their codes
            frame = frame.rename({c: headers[c] for c in frame.columns if c in headers})
        yield frame


def stream(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, object],
    out: Path,
    *,
    masking: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Write a query's rows to a file batch by batch (memory stays flat whatever the size):
    .csv (UTF-8 with BOM, formulas guarded), .parquet or .xlsx. A result too large for one
    Excel sheet is refused before anything is read. `headers` renames columns for people.
    Returns the rows written."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{out}: the extension must be one of {', '.join(FORMATS)}")
    total = 0
    if suffix == ".xlsx":
        total = count_rows(con, sql, params)
        if total > EXCEL_MAX_ROWS:
            raise TooManyRowsForExcel(out, total)
    out.parent.mkdir(parents=True, exist_ok=True)
    batches = _batches(con, sql, params, masking, headers)
    if suffix == ".csv":
        return _csv(batches, out)
    if suffix == ".parquet":
        return _parquet(batches, out)
    columns = con.sql(f"SELECT * FROM ({sql}) LIMIT 0", params=params or None).columns
    header = [(headers or {}).get(c, c) for c in columns]
    return _xlsx(batches, out, header, total)


def _csv(batches: Iterator[pl.DataFrame], out: Path) -> int:
    written = 0
    with out.open("wb") as handle:
        for frame in batches:
            neutralised(frame).write_csv(
                handle, include_header=written == 0, include_bom=written == 0
            )
            written += frame.height
        if written == 0:  # no rows: the header alone (the query's columns)
            return 0
    return written


def _parquet(batches: Iterator[pl.DataFrame], out: Path) -> int:
    import pyarrow.parquet as pq

    writer = None
    written = 0
    try:
        for frame in batches:
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            writer.write_table(table.cast(writer.schema))
            written += frame.height
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pl.DataFrame().write_parquet(out)
    return written


def _xlsx(batches: Iterator[pl.DataFrame], out: Path, header: list[str], total: int) -> int:
    from core.store import xlsx

    return xlsx.write(out, header, (excel_ready(frame) for frame in batches), total)


def export_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    out: Path,
    *,
    masked: bool = False,
    scope_prefix: str = "/",
) -> int:
    """Export one table to a file, streamed; returns the row count."""
    return stream_table(con, table, out, masked=masked, scope_prefix=scope_prefix)


def stream_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    out: Path,
    *,
    masked: bool = False,
    scope_prefix: str = "/",
    headers: dict[str, str] | None = None,
) -> int:
    """One table's export within a scope, written batch by batch (see `stream`)."""
    sql, params = table_query(table, scope_prefix)
    masking = masking_for(table, masked)
    if table != "enrolments":
        return stream(con, sql, params, out, masking=masking, headers=headers)
    from core.courses import roster  # the roster's statuses and places, decided once

    with db.registered(con, enrolment_rows=roster.export(con)):
        return stream(con, sql, params, out, masking=masking, headers=headers)


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
