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

from core import approvals, imports, members, organizations
from core.errors import InputFileError, ValidationError
from core.imports.base import LINE

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
    if entered_by not in approvals.ENTERED_BY:
        raise ValueError(f"unknown entered_by {entered_by}")
    now = now or approvals.jst_now()
    _check_scope(con, values, scope)
    row = {
        key: (None if value is None or str(value).strip() == "" else str(value).strip())
        for key, value in values.items()
    }
    row.setdefault("application_ref", new_reference(now))
    row["submitted_at"] = f"{now:%Y-%m-%d %H:%M}"
    row["entered_by"] = entered_by
    frame = pl.DataFrame({k: [v] for k, v in row.items()}, schema=dict.fromkeys(row, pl.String))
    frame = frame.with_columns(pl.lit(2, dtype=pl.Int64).alias(LINE))
    try:
        result = imports.import_frame(con, "applications", frame, file=FORM, actor=actor)
    except InputFileError as exc:
        errors: dict[str, str] = {}
        for problem in exc.problems:
            errors.setdefault(problem.column, problem.message)
        raise ValidationError(errors) from exc
    if result.duplicates:
        raise ValidationError({"application_ref": "この申請番号はすでに受け付けています。"})
    return str(row["application_ref"])
