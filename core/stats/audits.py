"""Data-quality audits: one query per file in core/sql/audits/, named after what it finds.

Each query returns the rows that break a rule (SQLMesh's audits), within an organisation
scope (`$scope`, a path prefix; '/' for every organisation). A clean store returns no rows;
the 架空登録 signal of the SAJ guide (contact data shared across clubs) is a list for people to
look at, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from core import config, schemes
from core.members.organizations import scope_path
from core.store import db, queries

CONCEPT = "audits"


@dataclass(frozen=True)
class Audit:
    name: str  # core/sql/audits/<name>.sql
    title: str  # Japanese, for the page
    explanation: str  # what the rows mean and what to do about them


AUDITS: tuple[Audit, ...] = (
    Audit(
        "members_without_organization",
        "所属組織のない会員",
        "所属組織コードが組織ツリーにない会員です。組織を登録するか、会員の所属を直してください。",
    ),
    Audit(
        "members_outside_scheme_tree",
        "制度の組織ツリー外に所属する会員",
        "資格（または会員番号の接頭辞）の制度と、所属組織の属するツリーが一致しない会員です。",
    ),
    Audit(
        "postal_code_not_matching_prefecture",
        "郵便番号と都道府県の不一致",
        "日本郵便の郵便番号データにない郵便番号、または別の都道府県の郵便番号を持つ会員です。",
    ),
    Audit(
        "qualifications_ending_before_start",
        "有効期限が有効開始日より前の資格",
        "有効期限（最終日）が有効開始日より前になっている資格です。",
    ),
    Audit(
        "same_person_several_member_numbers",
        "同一人物の複数の会員番号",
        "同じ団体で、氏名・フリガナ・生年月日が同じ会員番号が複数あります（会員番号は再利用しません）。",
    ),
    Audit(
        "contact_shared_across_organizations",
        "複数の組織で共有される連絡先（架空登録の疑い）",
        "電話番号・メールアドレス・住所が同じ会員が、2つ以上の組織にまたがっています。"
        "SAJの手引きが県連に確認を求める架空登録の兆候です。所属クラブに確認してください。",
    ),
)
BY_NAME = {a.name: a for a in AUDITS}


def _roots(cfg: config.Config) -> pl.DataFrame:
    """Each scheme's tree and member-number prefix, as configured today."""
    return pl.DataFrame(
        [
            (
                code,
                str(cfg.value(f"{code}.root_org_code")),
                str(cfg.value(f"{code}.member_no_prefix")),
            )
            for code in schemes.CODES
        ],
        schema={"scheme": pl.String, "root_code": pl.String, "prefix": pl.String},
        orient="row",
    )


def _audit(name: str) -> Audit:
    found = BY_NAME.get(name)
    if found is None:
        raise ValueError(f"unknown audit {name!r}; choose one of {', '.join(BY_NAME)}")
    return found


def rows(
    con: duckdb.DuckDBPyConnection, name: str, *, scope: str = "*", cfg: config.Config | None = None
) -> pl.DataFrame:
    """The rows one audit finds within the scope."""
    audit = _audit(name)
    with db.registered(con, scheme_roots=_roots(cfg or config.current())):
        return db.frame(con, queries.query(CONCEPT, audit.name), {"scope": scope_path(con, scope)})


def counts(
    con: duckdb.DuckDBPyConnection, *, scope: str = "*", cfg: config.Config | None = None
) -> pl.DataFrame:
    """Every audit with the number of rows it finds within the scope (audit, n)."""
    prefix = scope_path(con, scope)
    found = []
    with db.registered(con, scheme_roots=_roots(cfg or config.current())):
        for audit in AUDITS:
            sql = f"SELECT count(*) FROM ({queries.query(CONCEPT, audit.name)})"
            row = db.one(con, sql, {"scope": prefix})
            found.append((audit.name, int(row[0]) if row else 0))
    return pl.DataFrame(found, schema={"audit": pl.String, "n": pl.Int64}, orient="row")
