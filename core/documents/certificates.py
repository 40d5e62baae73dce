"""Certificates and notices (認定証, 委嘱状, 登録証, 更新結果通知 兼 資格証明 …) as PDF.

What a document says comes from its recorded row (core.documents.available: number and
content as of the day it became available) and its scheme's template (core.documents.
templates: title, wording, fields, signatory, seal). Printing one records an issue — who,
when, which copy — with an audit row, so staff see who issued what, and every copy of a
document is the same PDF. A member's document is printable while it is valid: its
qualification still held and its period not over (a season's card: the member active).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from core import config, text, vocabulary
from core.documents import available, templates
from core.documents import courses as course_documents
from core.documents.pdf import Cover
from core.documents.sheets import Sheet, render
from core.documents.templates import COURSE, FIELDS, MEMBERSHIP, DocTemplate
from core.members import organizations
from core.progress import Progress, quiet
from core.store import audit, db

KINDS = tuple(k for k in vocabulary.DOCUMENT_KINDS if k not in ("invoice", "receipt"))

_CURRENT = """
SELECT d.*
FROM documents d
JOIN members m ON m.member_no = d.member_no
LEFT JOIN qualifications q ON q.qualification_id = d.qualification_id
WHERE d.kind = $kind AND ({chosen})
  AND (d.valid_until IS NULL OR d.valid_until >= $on)
  AND (CASE WHEN d.qualification_id IS NULL THEN m.status = 'active'
            ELSE q.status IN ('active', 'renewed', 'renewal_open') END)
  AND ($posting::VARCHAR IS NULL OR coalesce(q.card_posting, 'post') = $posting)
  AND {still_wanted}
QUALIFY row_number() OVER (PARTITION BY d.member_no, d.kind, d.qualification_id, d.enrolment_id
                           ORDER BY d.valid_until DESC NULLS FIRST, d.document_id DESC) = 1
ORDER BY d.member_no, d.scheme, d.qualification, d.document_id
"""


# What a document's number is called on it, and why a member may have none to print
NUMBER_LABELS = {"application_form": "申込書番号"}
WHEN_PRINTABLE = {
    "application_form": "講習の予約があり、受講申込書がまだ届いていないときに印刷できます",
    "completion_certificate": "講習を修了したときに発行できます",
}
# printed from the course results (core.documents.courses), not from a template
COURSE_RESULTS = "completion_certificate"
PAID_AND_VALID = "資格が有効で、会費が納入済みのときに発行できます"


class NotAvailable(ValueError):
    """The member (or club) has no document of the kind that may be printed now."""


@dataclass(frozen=True)
class Printed:
    pdf: bytes
    documents: tuple[str, ...]  # document numbers, in print order
    members: int


def _validity(start: dt.date | None, end: dt.date | None) -> str:
    if end is None:
        return f"{text.jp_date(start)}〜（期限なし）"
    western = f"{text.jp_date(start)}〜{text.jp_date(end)}" if start else text.jp_date(end)
    wareki = f"{text.wareki(start)}〜{text.wareki(end)}" if start else text.wareki(end)
    return f"{western}（{wareki}）"


def sheet(row: dict[str, object], template: DocTemplate, cfg: config.Config) -> Sheet:
    """The strings of one recorded document, worded by its template."""
    issued: dt.date = row["available_on"]  # type: ignore[assignment]
    scheme = str(row["scheme"])
    code = str(row["qualification"])
    label = {MEMBERSHIP: "会員", COURSE: "講習"}.get(code) or cfg.qualification_label(scheme, code)
    start, end = row["valid_from"], row["valid_until"]
    season = f"{row['season']}年度" if row["season"] is not None else ""
    values = {
        "holder": str(row["holder_name"] or row["member_no"]),
        "holder_kana": str(row["holder_kana"] or "—"),
        "member_no": str(row["member_no"]),
        "qualification": label,
        "certificate_no": str(row["certificate_no"] or "—"),
        "validity": _validity(start, end),  # type: ignore[arg-type]
        "valid_until": text.jp_date(end, with_wareki=True),  # type: ignore[arg-type]
        "org": str(row["org_name"] or "—"),
        "season": f"{season}（{_validity(start, end)}）",  # type: ignore[arg-type]
        "held": str(row["held"] or "なし"),
        "course": str(row["course_title"] or "—"),
        "course_code": str(row["course_code"] or "—"),
        "course_held_on": text.jp_date(row["course_held_on"], with_wareki=True),  # type: ignore[arg-type]
        "course_hours": f"{row['course_hours']}時間" if row["course_hours"] is not None else "—",
        "course_fee": f"{row['course_fee']:,}円" if row["course_fee"] is not None else "—",
        "reserved_on": text.jp_date(start, with_wareki=True),  # type: ignore[arg-type]
        "form_due": text.jp_date(row["course_form_due"], with_wareki=True)  # type: ignore[arg-type]
        if row["course_form_due"] is not None
        else "—",
        # filled in by hand: the certifier confirms the applicant may take the course
        "applicant_category": "",
        "certifier": "",
        "certifier_seal": "",
    }
    wording = {
        "qualification": label,
        "season": season,
        "renewal_year": str(start.year) if isinstance(start, dt.date) else "",
    }
    return Sheet(
        title=templates.wording(template.title, wording),
        number_line=f"{NUMBER_LABELS.get(template.kind, '証書番号')} {row['document_no']}",
        rows=tuple((FIELDS[f], values[f]) for f in template.fields),
        lead=templates.wording(template.lead, wording),
        date_line=f"発行日 {text.jp_date(issued)}（{text.wareki(issued)}）",
        issuer=str(cfg.value(f"{scheme}.body_name", on=issued)),
        issuer_detail=f"{cfg.value(f'{scheme}.issuer.address', on=issued)}"
        f"　TEL {cfg.value(f'{scheme}.issuer.phone', on=issued)}",
        signatory=template.signatory,
        closing=templates.wording(template.closing, wording),
        seal=template.seal,
        issued_on=issued,
    )


def current(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    *,
    member_no: str | None = None,
    org_code: str | None = None,
    on: dt.date,
    posting: str | None = None,
) -> pl.DataFrame:
    """The printable documents of a kind for one member or an organisation's own members
    (each qualification's latest); `posting` limits JSPO cards to those to post or not."""
    chosen = "d.member_no = $who" if member_no is not None else "m.org_code = $who"
    return db.frame(
        con,
        _CURRENT.format(chosen=chosen, still_wanted=available.STILL_WANTED),
        {"kind": kind, "who": member_no if member_no is not None else org_code, "on": on,
         "posting": posting},
    )  # fmt: skip


def _record_issues(
    con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, actor: str, batch_id: str | None
) -> None:
    """One issue row and one audit row per printed document, numbered by copy."""
    with db.registered(
        con, printed_documents=rows.select("document_id", "document_no", "member_no", "kind")
    ):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE new_issues AS
            SELECT p.document_id, p.document_no, p.member_no, p.kind,
                   1 + (SELECT count(*) FROM document_issues i
                        WHERE i.document_id = p.document_id) AS copy_no
            FROM printed_documents p
            """
        )
    con.execute(
        "INSERT INTO document_issues (document_id, copy_no, issued_by, batch_id)"
        " SELECT document_id, copy_no, $actor, $batch FROM new_issues",
        {"actor": actor, "batch": batch_id},
    )
    labels = pl.DataFrame(
        list(vocabulary.DOCUMENT_KINDS.items()), schema={"kind": pl.String, "label": pl.String},
        orient="row",
    )  # fmt: skip
    with db.registered(con, issue_kind_labels=labels):
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   new_value, reason, batch_id)
            SELECT $actor, 'issue', 'documents', n.document_no, n.member_no, 'copy_no',
                   n.copy_no::VARCHAR,
                   l.label || 'を発行' || CASE WHEN n.copy_no > 1
                       THEN '（' || n.copy_no::VARCHAR || '回目の印刷）' ELSE '' END,
                   $batch
            FROM new_issues n JOIN issue_kind_labels l USING (kind)
            """,
            {"actor": actor, "batch": batch_id},
        )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown document {kind}; choose one of {', '.join(KINDS)}")


def issue(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    kind: str,
    *,
    actor: str,
    on: dt.date | None = None,
    cfg: config.Config | None = None,
) -> Printed:
    """A member's documents of a kind (each licence's card, each qualification's
    certificate) in one PDF, recorded as issued; NotAvailable says why there is none.
    Completion certificates are the course results' (core.documents.courses: one page per
    course completed, dated the day it was first issued)."""
    _check_kind(kind)
    day = on or dt.date.today()
    settings = cfg or config.current()
    if kind == COURSE_RESULTS:
        if db.one(con, "SELECT 1 FROM members WHERE member_no = ?", [member_no]) is None:
            raise ValueError(f"unknown member {member_no}")
        pdf, numbers = course_documents.member_certificates(con, member_no, actor=actor,
                                                            cfg=settings)  # fmt: skip
        if not numbers:
            raise NotAvailable(
                f"会員 {member_no} には発行できる{vocabulary.DOCUMENT_KINDS[kind]}がありません"
                f"（{WHEN_PRINTABLE[kind]}）。"
            )
        return Printed(pdf, numbers, 1)
    found = templates.load()
    with db.transaction(con):
        if db.one(con, "SELECT 1 FROM members WHERE member_no = ?", [member_no]) is None:
            raise ValueError(f"unknown member {member_no}")
        if not any(k == kind for _, k in found):
            raise NotAvailable(f"{vocabulary.DOCUMENT_KINDS[kind]}を発行する制度はありません。")
        available.for_members(con, [member_no], on=day, cfg=settings)
        rows = current(con, kind, member_no=member_no, on=day)
        if rows.is_empty():
            raise NotAvailable(
                f"会員 {member_no} には発行できる{vocabulary.DOCUMENT_KINDS[kind]}がありません"
                f"（{WHEN_PRINTABLE.get(kind, PAID_AND_VALID)}）。"
            )
        _record_issues(con, rows, actor, None)
    sheets = [sheet(r, found[(r["scheme"], kind)], settings) for r in rows.iter_rows(named=True)]
    return Printed(render(sheets), tuple(rows["document_no"]), 1)


def reprint(
    con: duckdb.DuckDBPyConnection,
    document_no: str,
    *,
    actor: str,
    cfg: config.Config | None = None,
) -> Printed:
    """Another copy of a recorded document, the same PDF as the first (recorded as issued)."""
    settings = cfg or config.current()
    rows = db.frame(con, "SELECT * FROM documents WHERE document_no = ?", [document_no])
    if rows.is_empty():
        raise NotAvailable(f"証書番号 {document_no} の記録はありません。")
    row = rows.row(0, named=True)
    template = templates.load()[(row["scheme"], row["kind"])]
    with db.transaction(con):
        _record_issues(con, rows, actor, None)
    return Printed(render([sheet(row, template, settings)]), (document_no,), 1)


def club_batch(
    con: duckdb.DuckDBPyConnection,
    org_code: str,
    kind: str,
    *,
    actor: str,
    on: dt.date | None = None,
    posting: str | None = None,
    cfg: config.Config | None = None,
    progress: Progress = quiet,
) -> Printed:
    """One PDF for an organisation's own members: a cover page listing every document,
    then each document; all recorded as issued under one batch id."""
    _check_kind(kind)
    if kind == COURSE_RESULTS:
        raise NotAvailable(
            "修了証明書は講習ごと（講習の名簿）または会員ごとに発行します（団体単位の一括発行はありません）。"
        )
    day = on or dt.date.today()
    settings = cfg or config.current()
    found = templates.load()
    organizations.scope_path(con, org_code)  # KeyError for an unknown organisation
    org_name = organizations.name_of(con, org_code)
    batch_id = audit.new_batch_id()
    progress(0.0, "発行できる証明書を確認しています")
    with db.transaction(con):
        available.for_org(con, org_code, on=day, cfg=settings)
        rows = current(con, kind, org_code=org_code, on=day, posting=posting)
        if rows.is_empty():
            raise NotAvailable(
                f"{org_name}（{org_code}）には発行できる{vocabulary.DOCUMENT_KINDS[kind]}がありません。"
            )
        _record_issues(con, rows, actor, batch_id)
    sheets = [sheet(r, found[(r["scheme"], kind)], settings) for r in rows.iter_rows(named=True)]
    title = vocabulary.DOCUMENT_KINDS[kind]
    cover = Cover(
        title=f"{title} 一括発行 一覧",
        subtitle_lines=(
            f"{org_name}（{org_code}）",
            f"発行日 {text.jp_date(day)}（{text.wareki(day)}）",
        ),
        headings=("会員番号", "氏名", "証書番号", "", "有効期限"),
        rows=tuple(
            (
                r["member_no"],
                r["holder_name"] or "—",
                r["document_no"],
                "",
                text.jp_date(r["valid_until"]),
            )
            for r in rows.iter_rows(named=True)
        ),
        total_line=f"{rows['member_no'].n_unique():,} 名　{rows.height:,} 通",
    )
    pdf = render(sheets, cover, progress)
    return Printed(pdf, tuple(rows["document_no"]), rows["member_no"].n_unique())


def member_documents(
    con: duckdb.DuckDBPyConnection, member_no: str, on: dt.date | None = None
) -> pl.DataFrame:
    """Every document recorded for a member, newest first, with how often it was printed
    and whether it may be printed now (qualification only for a qualification's document:
    a season's card has its season, a course's form its course title)."""
    return db.frame(
        con,
        f"""
        SELECT d.document_no, d.kind, d.scheme,
               CASE WHEN d.qualification NOT IN ('membership', 'course') THEN d.qualification
               END AS qualification, d.season, d.course_title, d.valid_from,
               d.valid_until, d.available_on,
               (SELECT count(*) FROM document_issues i WHERE i.document_id = d.document_id)
                   AS issued,
               (SELECT max(i.issued_at) FROM document_issues i
                WHERE i.document_id = d.document_id) AS last_issued_at,
               (d.valid_until IS NULL OR d.valid_until >= $on) AND {available.STILL_WANTED}
                   AS printable
        FROM documents d WHERE d.member_no = $member
        ORDER BY d.available_on DESC, d.document_id DESC
        """,
        {"member": member_no, "on": on or dt.date.today()},
    )


def set_posting(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    qualification: str,
    posting: str,
    *,
    actor: str,
) -> None:
    """Record whether the licence's registration card is posted (郵送する/しない), audited."""
    if posting not in vocabulary.CARD_POSTING:
        raise ValueError(f"posting must be one of {', '.join(vocabulary.CARD_POSTING)}")
    with db.transaction(con):
        row = db.one(
            con,
            "SELECT q.qualification_id, q.card_posting FROM qualifications q"
            " WHERE q.member_no = ? AND q.qualification = ?",
            [member_no, qualification],
        )
        if row is None:
            raise ValueError(f"member {member_no} holds no {qualification}")
        if row[1] == posting:
            return
        con.execute(
            "UPDATE qualifications SET card_posting = ?, updated_at = current_timestamp"
            " WHERE qualification_id = ?",
            [posting, row[0]],
        )
        audit.record_changes(
            con, actor=actor, action="update", table="qualifications", row_key=str(row[0]),
            changes={"card_posting": (row[1], posting)}, member_no=member_no,
            reason="登録証の郵送希望",
        )  # fmt: skip


def posting_choices(templates_found: dict[tuple[str, str], DocTemplate]) -> set[str]:
    """The schemes whose members choose whether their card is posted."""
    return {t.scheme for t in templates_found.values() if t.posting_choice}
