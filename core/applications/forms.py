"""Applications typed into the app by staff (代理申請 or entry from the admin side).

A form's values go through exactly the rules of applications.csv (core.imports.applications)
as a one-row import, so the app and the file accept the same applications; a broken rule
comes back as ValidationError keyed by the form field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import duckdb
import polars as pl

from core import imports, text, vocabulary
from core.applications import approvals, records
from core.errors import InputFileError, ValidationError
from core.imports.base import LINE
from core.members import organizations
from core.members import records as members

FORM = "入力フォーム"


def new_reference(now: dt.datetime) -> str:
    """A reference for an application entered in the app: W + time + a random suffix."""
    return f"W{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6].upper()}"


def _check_scope(con: duckdb.DuckDBPyConnection, values: dict[str, Any], scope: str) -> None:
    if scope == organizations.ALL_SCOPE:
        return
    errors = {}
    member_no = str(values.get("member_no") or "").strip()
    if member_no and members.get(con, scope, member_no) is None:
        errors["member_no"] = f"会員番号 {member_no} は担当範囲の会員ではありません。"
    for field in ("org_code", "proxy_org_code"):
        code = str(values.get(field) or "").strip()
        if code and not organizations.in_scope(con, scope, code):
            errors[field] = f"組織 {code} は担当範囲にありません。"
    if errors:
        raise ValidationError(errors)


def submit(
    con: duckdb.DuckDBPyConnection,
    values: dict[str, Any],
    *,
    actor: str,
    entered_by: str,
    scope: str = organizations.ALL_SCOPE,
    now: dt.datetime | None = None,
) -> str:
    """Enter one application; returns its reference. `entered_by`: proxy (a club's proxy
    application, with proxy_org_code) or admin (staff entry from the admin side). The member
    and the organisations named must lie within the user's `scope` (a transfer's
    destination may lie outside it)."""
    if entered_by not in vocabulary.ENTERED_BY:
        raise ValueError(f"unknown entered_by {entered_by}")
    now = now or text.jst_now()
    _check_scope(con, values, scope)
    row = {
        key: (None if value is None or str(value).strip() == "" else str(value).strip())
        for key, value in values.items()
    }
    row.setdefault("application_ref", new_reference(now))
    row["submitted_at"] = f"{now:%Y-%m-%d %H:%M}"
    row["entered_by"] = entered_by
    try:
        result = imports.import_frame(con, "applications", _one_row(row), file=FORM, actor=actor)
    except InputFileError as exc:
        raise _field_errors(exc) from exc
    if result.duplicates:
        raise ValidationError({"application_ref": "この申請番号はすでに受け付けています。"})
    return str(row["application_ref"])


def resubmit(
    con: duckdb.DuckDBPyConnection,
    application_id: int,
    version: int,
    corrections: dict[str, Any],
    *,
    actor: str,
    scope: str = organizations.ALL_SCOPE,
    now: dt.datetime | None = None,
) -> None:
    """Correct a sent-back application and resubmit it: the corrected application must pass
    the same rules as a new one (and lie within the user's scope)."""
    record = records.get_by_id(con, application_id)
    if record is None:
        raise ValidationError({"application": f"申請 {application_id} はありません。"})
    approvals.check_correctable(corrections)
    merged = {
        column: _text(record.get(column))
        for column in imports.SPECS["applications"].columns
        if record.get(column) is not None
    }
    merged.update({k: _text(v) for k, v in corrections.items()})
    _check_scope(con, merged, scope)
    # checked as a new row under a reference of its own: the stored one is "seen before"
    merged["application_ref"] = f"{record['application_ref']}#resubmit"
    try:
        checked, _ = imports.check_frame(con, "applications", _one_row(merged), file=FORM)
    except InputFileError as exc:
        raise _field_errors(exc) from exc
    cleaned = imports.SPECS["applications"].finish(checked).row(0, named=True)
    approvals.resubmit(
        con,
        application_id,
        version,
        corrections={k: cleaned[k] for k in corrections},
        actor=actor,
        now=now,
    )


def _text(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value).strip()


def _one_row(row: dict[str, Any]) -> pl.DataFrame:
    frame = pl.DataFrame({k: [v] for k, v in row.items()}, schema=dict.fromkeys(row, pl.String))
    return frame.with_columns(pl.lit(2, dtype=pl.Int64).alias(LINE))


def _field_errors(exc: InputFileError) -> ValidationError:
    """A file's problems as form errors: the first message for each field."""
    errors: dict[str, str] = {}
    for problem in exc.problems:
        errors.setdefault(problem.column, problem.message)
    return ValidationError(errors)
