"""Which certificates and notices a member may have, recorded as they become available.

A document becomes available with the event that earns it — the renewal batch's extension,
the payment of the fee, a season's approved and paid registration, a course reservation
that waits for its signed application form (受講申込書) — in that event's
transaction (`record`), or when staff first ask for it (`for_member`, `for_org`: members whose
data came from another system). Its row holds the number and the content as of that day, so
every later copy prints the same document; core.documents.certificates prints it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import config, schemes
from core.courses import policy
from core.documents import templates
from core.store import db, queries

# A 受講申込書 is printed while its reservation waits for the signed form: once the form has
# arrived or the reservation is cancelled, there is nothing left to print it for.
STILL_WANTED = """(d.kind <> 'application_form' OR EXISTS (
    SELECT 1 FROM enrolments e WHERE e.enrolment_id = d.enrolment_id
      AND e.status = 'reserved' AND e.form_received_on IS NULL))"""


def qualification_labels(cfg: config.Config, on: dt.date) -> pl.DataFrame:
    """(scheme, qualification, label) as configured on a day."""
    rows = [
        (s, q, label)
        for s in schemes.CODES
        for q, label in cfg.value(f"{s}.qualifications", on=on).items()
    ]
    return pl.DataFrame(
        rows,
        schema={"scheme": pl.String, "qualification": pl.String, "label": pl.String},
        orient="row",
    )


def seasons(cfg: config.Config, on: dt.date) -> pl.DataFrame:
    """(scheme, season, season_from, season_until): each scheme's 年度 on a day."""
    rows = []
    for s in schemes.every():
        year = s.year(cfg, on)
        first = s.year_start(cfg, year)
        rows.append((s.code, year, first, s.year_start(cfg, year + 1) - dt.timedelta(days=1)))
    return pl.DataFrame(
        rows,
        schema={"scheme": pl.String, "season": pl.Int32, "season_from": pl.Date,
                "season_until": pl.Date},
        orient="row",
    )  # fmt: skip


def course_fees(cfg: config.Config, on: dt.date) -> pl.DataFrame:
    """(scheme, per_hour): the fee per course hour on a day, for schemes that bill by the hour."""
    rows = [(s.code, terms[0]) for s in schemes.every() if (terms := s.course_fees(cfg, on))]
    return pl.DataFrame(rows, schema={"scheme": pl.String, "per_hour": pl.Int64}, orient="row")


def record(
    con: duckdb.DuckDBPyConnection,
    candidates: str,
    *,
    on: dt.date,
    batch_id: str | None = None,
    cfg: config.Config | None = None,
) -> int:
    """Record the documents that have become available to the members of `candidates` (a
    code-named relation with member_no and scheme, and qualification_id to limit it to
    those qualifications' documents); returns how many. Each gets its number
    (prefix-year-id) and its content as of `on`. Runs in the caller's transaction."""
    settings = cfg or config.current()
    found = templates.load()
    if not found:
        return 0
    chosen = con.sql(f'SELECT * FROM "{candidates}"').pl()
    listed = "qualification_id" in chosen.columns
    with db.registered(
        con,
        doc_candidates=chosen.select(
            "member_no",
            "scheme",
            pl.col("qualification_id").cast(pl.Int64)
            if listed
            else pl.lit(None, pl.Int64).alias("qualification_id"),
        ),
        doc_templates=templates.frame(found),
        doc_seasons=seasons(settings, on),
        doc_labels=qualification_labels(settings, on),
        doc_course_fees=course_fees(settings, on),
        doc_course_policies=policy.frame(settings, on).select("scheme", "form_due_days"),
    ):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE documents_new AS "
            + queries.query("documents", "available"),
            {"on": on, "listed": listed},
        )
        con.execute(
            """
            INSERT INTO documents (document_id, document_no, member_no, scheme, kind,
                                   qualification_id, season, enrolment_id, holder_name,
                                   holder_kana,
                                   qualification, certificate_no, valid_from, valid_until,
                                   org_name, held, course_code, course_title,
                                   course_held_on, course_hours, course_fee, course_form_due,
                                   available_on, batch_id)
            SELECT id, n.number_prefix || '-' || strftime($on::DATE, '%Y') || '-'
                       || lpad(id::VARCHAR, 7, '0'),
                   n.member_no, n.scheme, n.kind, n.qualification_id, n.season, n.enrolment_id,
                   trim(concat_ws(' ', m.family_name, m.given_name)),
                   trim(concat_ws(' ', m.family_name_kana, m.given_name_kana)),
                   n.qualification, n.certificate_no, n.valid_from, n.valid_until, o.name,
                   n.held, n.course_code, n.course_title, n.course_held_on, n.course_hours,
                   n.course_fee, n.course_form_due, $on::DATE, $batch
            FROM (SELECT nextval('document_id_seq') AS id, * FROM documents_new) n
            JOIN members m ON m.member_no = n.member_no
            LEFT JOIN organizations o ON o.org_code = m.org_code
            """,
            {"on": on, "batch": batch_id},
        )
    row = db.one(con, "SELECT count(*) FROM documents_new")
    return int(row[0]) if row else 0


def for_members(
    con: duckdb.DuckDBPyConnection,
    member_nos: list[str],
    *,
    on: dt.date,
    cfg: config.Config | None = None,
) -> int:
    """Record what has become available to these members (every scheme they are in)."""
    chosen = pl.DataFrame(
        [(m, s) for m in member_nos for s in schemes.CODES],
        schema={"member_no": pl.String, "scheme": pl.String},
        orient="row",
    )
    with db.registered(con, doc_members=chosen):
        return record(con, "doc_members", on=on, cfg=cfg)


def for_org(
    con: duckdb.DuckDBPyConnection, org_code: str, *, on: dt.date, cfg: config.Config | None = None
) -> int:
    """Record what has become available to an organisation's own members."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE doc_org_members AS"
        " SELECT m.member_no, s.scheme FROM members m,"
        " (SELECT unnest($codes::VARCHAR[]) AS scheme) s WHERE m.org_code = $org",
        {"org": org_code, "codes": list(schemes.CODES)},
    )
    return record(con, "doc_org_members", on=on, cfg=cfg)


def kinds_available(con: duckdb.DuckDBPyConnection, relation: str, on: dt.date) -> str:
    """A temp table (member_no, scheme, documents): the kinds of document each member of
    `relation` may download on `on`, in words (「認定証・委嘱状」), for the mail that says so."""
    from core.vocabulary import DOCUMENT_KINDS

    labels = pl.DataFrame(
        list(DOCUMENT_KINDS.items()), schema={"kind": pl.String, "label": pl.String}, orient="row"
    )
    with db.registered(con, doc_kind_labels=labels):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE member_documents AS
            SELECT d.member_no, d.scheme,
                   string_agg(DISTINCT l.label, '・' ORDER BY l.label) AS documents
            FROM documents d
            JOIN (SELECT DISTINCT member_no, scheme FROM "{relation}") r
              ON r.member_no = d.member_no AND r.scheme = d.scheme
            JOIN doc_kind_labels l ON l.kind = d.kind
            WHERE (d.valid_until IS NULL OR d.valid_until >= $on) AND {STILL_WANTED}
            GROUP BY d.member_no, d.scheme
            """,
            {"on": on},
        )
    return "member_documents"
