"""Rules for organizations.csv: the forest of bodies, prefectures, regions and clubs."""

from __future__ import annotations

import duckdb
import polars as pl

from core import text
from core.checks import (
    Check,
    duplicate_in_file,
    existing,
    in_set,
    known,
    prefectures,
    quoted,
    required,
)
from core.config import Config
from core.errors import FileProblem, InputFileError
from core.imports.base import LINE, TableSpec
from core.members.organizations import refresh_paths
from core.store import db
from core.vocabulary import ORG_KINDS as KINDS


def _org_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    taken = existing(
        con,
        frame,
        "org_code",
        "SELECT org_code FROM organizations JOIN staged_keys USING (org_code)",
    )
    codes = pl.concat(
        [
            db.frame(con, "SELECT org_code FROM organizations").to_series(),
            frame["org_code"].drop_nulls(),
        ]
    )
    return frame, [
        *required("org_code", "name", "kind"),
        Check(
            "org_code",
            pl.col("org_code").str.contains("/", literal=True),
            quoted("組織コードに / は使えません", "org_code"),
        ),
        duplicate_in_file("org_code", "組織コード"),
        Check(
            "org_code",
            pl.col("org_code").is_in(taken.implode()),
            quoted("既に登録済みの組織コードです", "org_code"),
        ),
        in_set("kind", tuple(KINDS), "kind"),
        Check(
            "parent_code",
            (pl.col("kind") == "national") & pl.col("parent_code").is_not_null(),
            "本部（national）に親組織は指定できません",
        ),
        Check(
            "parent_code",
            (pl.col("kind") != "national") & pl.col("parent_code").is_null(),
            "親組織コードがありません",
        ),
        known("parent_code", codes, "親組織コードが見つかりません"),
        Check(
            "prefecture",
            pl.col("prefecture").is_not_null() & ~pl.col("prefecture").is_in(prefectures(con)),
            quoted("都道府県名ではありません", "prefecture"),
        ),
    ]


def _org_clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(text.widen_kana_expr("name"))


def _org_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(root_code=pl.lit(""), path=pl.lit(""))


def _org_after(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file: str, actor: str) -> None:
    # A prefecture body's prefecture, when the file leaves it out, is the one its name starts with.
    con.execute(
        """
        UPDATE organizations o SET prefecture = p.prefecture
        FROM (SELECT DISTINCT prefecture FROM ref_postal_codes) p
        WHERE o.kind = 'prefecture' AND o.prefecture IS NULL AND starts_with(o.name, p.prefecture)
        """
    )
    if refresh_paths(con):
        orphans = db.frame(con, "SELECT org_code FROM organizations WHERE path = ''").to_series()
        bad = frame.filter(pl.col("org_code").is_in(orphans.implode()))
        raise InputFileError(
            [
                FileProblem(
                    file, line, "parent_code", "親をたどっても本部（national）に届きません（循環）"
                )
                for line in bad[LINE].head(20)
            ],
            bad.height,
        )


SPEC = TableSpec(
    required=("org_code", "name", "kind", "parent_code"),
    optional=("prefecture",),
    columns=["org_code", "name", "kind", "parent_code", "prefecture", "root_code", "path"],
    key="org_code",
    member_column=None,
    clean=_org_clean,
    checks=_org_checks,
    finish=_org_finish,
    after=_org_after,
)
