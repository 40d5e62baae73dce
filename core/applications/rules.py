"""The rules an application must keep before it is entered — one set for the file and the form.

applications.csv (core.imports.applications) and the entry form (core.applications.forms, a
one-row import) both check their rows here, over whole columns. What a scheme accepts comes
from the registry (core.schemes): the kinds it takes, the columns each kind needs, the reasons
and choices it offers, and rules of its own (SAJ: a transfer goes with the season's
registration). Each rule yields the rows that break it, named by column.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import schemes, vocabulary
from core.checks import Check, existing, in_set, of_members, quoted, required
from core.config import Config
from core.members import rules as member_rules
from core.store import db
from core.vocabulary import HELD_STATUSES

IS_NEW = pl.col("kind") == "new_registration"
MEMBER_COLUMNS = (
    "org_code", "family_name", "given_name", "family_name_kana", "given_name_kana",
    "birth_date", "email", "phone", "postal_code", "prefecture", "address", "category",
)  # fmt: skip
# required of a new registration only; contact columns are checked whenever present
PERSON = ("org_code", "family_name", "given_name", "family_name_kana", "given_name_kana",
          "birth_date")  # fmt: skip


def checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    """The rows with what the rules look up added, and the rules (core.imports.base.Check)."""
    today = dt.date.today()
    frame = _looked_up(con, frame, cfg, today)
    # a new registration carries a member row: the rules of members.csv, for those rows only
    frame, person_checks = member_rules.checks(con, frame, cfg)
    rules = [
        *_basics(),
        *(
            Check(c.column, (IS_NEW & c.bad) if c.column in PERSON else c.bad, c.message)
            for c in person_checks
            if c.column in MEMBER_COLUMNS
        ),
        *_organisations(),
        *_kinds(cfg, today),
    ]
    for scheme in schemes.every():
        frame, own = scheme.application_rules(con, frame)
        rules += own
    return frame, rules


def _looked_up(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config, today: dt.date
) -> pl.DataFrame:
    """The file's rows with the facts the rules need from the database."""
    known = existing(
        con,
        frame,
        "member_no",
        "SELECT member_no FROM members JOIN staged_keys USING (member_no) WHERE status <> 'erased'",
    )
    orgs = db.frame(con, "SELECT org_code, root_code, kind FROM organizations")
    member_orgs = of_members(
        con,
        frame,
        "SELECT m.member_no, m.org_code AS member_org, o.root_code AS member_root"
        " FROM members m JOIN staged_keys USING (member_no)"
        " JOIN organizations o ON o.org_code = m.org_code",
    )
    held = of_members(
        con,
        frame,
        "SELECT DISTINCT q.member_no, q.scheme, q.qualification FROM qualifications q"
        " JOIN staged_keys USING (member_no) WHERE list_contains($held, q.status)",
        {"held": list(HELD_STATUSES)},
    )
    roots = pl.DataFrame(
        {
            "scheme": list(schemes.CODES),
            "scheme_root": [str(cfg.value(f"{s}.root_org_code", on=today)) for s in schemes.CODES],
        }
    )

    def org(alias: str, root: str, kind: str | None = None) -> pl.DataFrame:
        columns = [pl.col("org_code").alias(alias), pl.col("root_code").alias(root)]
        return orgs.select(*columns, *([pl.col("kind").alias(kind)] if kind else []))

    return (
        frame.join(roots, on="scheme", how="left", maintain_order="left")
        .join(member_orgs, on="member_no", how="left", maintain_order="left")
        .join(org("target_org_code", "target_root"), on="target_org_code", how="left",
              maintain_order="left")
        .join(org("proxy_org_code", "proxy_root"), on="proxy_org_code", how="left",
              maintain_order="left")
        .join(org("org_code", "own_root", "own_kind"), on="org_code", how="left",
              maintain_order="left")
        .with_columns(
            member_known=pl.col("member_no").is_in(known.implode()),
            holds=pl.struct("member_no", "scheme", "qualification").is_in(
                held.to_struct().implode()
            ),
        )
    )  # fmt: skip


def _basics() -> list[Check]:
    """The reference, the scheme and kind, the dates, the member."""
    return [
        *required("application_ref", "scheme", "kind", "submitted_at"),
        in_set("scheme", schemes.CODES, "scheme"),
        in_set("kind", tuple(vocabulary.APPLICATION_KINDS), "kind"),
        Check(
            "submitted_at",
            pl.col("submitted_at").is_not_null() & pl.col("submitted_parsed").is_null(),
            quoted("日時（YYYY-MM-DD HH:MM）ではありません", "submitted_at"),
        ),
        Check(
            "submitted_at",
            pl.col("submitted_parsed") > pl.lit(dt.datetime.now() + dt.timedelta(days=1)),
            quoted("未来の日時です", "submitted_at"),
        ),
        Check(
            "season",
            pl.col("season").is_not_null()
            & (pl.col("season_parsed").is_null() | ~pl.col("season_parsed").is_between(1990, 2100)),
            quoted("年度は西暦4桁（例: 2026）です", "season"),
        ),
        Check(
            "member_no",
            ~IS_NEW & pl.col("kind").is_not_null() & pl.col("member_no").is_null(),
            "会員番号がありません（空欄にできるのは新規入会だけです）",
        ),
        Check(
            "member_no",
            IS_NEW & pl.col("member_no").is_not_null(),
            quoted("新規入会では会員番号を空欄にします（承認時に採番します）", "member_no"),
        ),
        Check(
            "member_no",
            pl.col("member_no").is_not_null() & ~pl.col("member_known"),
            quoted("会員番号が見つかりません（抹消済みを含む）", "member_no"),
        ),
        Check(
            "valid_until_claimed",
            pl.col("valid_until_claimed").is_not_null() & pl.col("claimed_parsed").is_null(),
            quoted("日付（YYYY-MM-DD）ではありません", "valid_until_claimed"),
        ),
        in_set("entered_by", tuple(vocabulary.ENTERED_BY), "entered_by"),
    ]


def _organisations() -> list[Check]:
    """The member's, the new member's, the proxy's and the destination's organisations."""
    return [
        Check(
            "org_code",
            IS_NEW
            & pl.col("own_root").is_not_null()
            & (pl.col("own_root") != pl.col("scheme_root")),
            quoted("この制度の組織ではありません", "org_code"),
        ),
        Check(
            "member_no",
            ~IS_NEW
            & pl.col("member_root").is_not_null()
            & (pl.col("member_root") != pl.col("scheme_root")),
            quoted("この制度の会員ではありません（所属組織が別の団体です）", "member_no"),
        ),
        Check(
            "org_code",
            IS_NEW & pl.col("own_kind").is_not_null() & (pl.col("own_kind") != "club"),
            quoted("新規入会の所属はクラブ（団体）の組織コードです", "org_code"),
        ),
        Check(
            "proxy_org_code",
            pl.col("proxy_org_code").is_not_null() & pl.col("proxy_root").is_null(),
            quoted("組織コードが見つかりません", "proxy_org_code"),
        ),
        Check(
            "proxy_org_code",
            (pl.col("entered_by") == "proxy") & pl.col("proxy_org_code").is_null(),
            "代理申請には proxy_org_code（代理申請したクラブ）が必要です",
        ),
        Check(
            "proxy_org_code",
            pl.col("proxy_root").is_not_null()
            & (pl.col("proxy_org_code") != pl.coalesce("member_org", "org_code")),
            quoted("代理申請できるのは会員の所属クラブだけです", "proxy_org_code"),
        ),
        Check(
            "target_org_code",
            pl.col("target_org_code").is_not_null() & pl.col("target_root").is_null(),
            quoted("組織コードが見つかりません", "target_org_code"),
        ),
        Check(
            "target_org_code",
            (pl.col("kind") == "transfer")
            & pl.col("target_root").is_not_null()
            & (pl.col("target_root") != pl.col("scheme_root")),
            quoted("移籍先がこの制度の組織ではありません", "target_org_code"),
        ),
        Check(
            "target_org_code",
            (pl.col("kind") == "transfer") & (pl.col("target_org_code") == pl.col("member_org")),
            quoted("移籍先が現在の所属と同じです", "target_org_code"),
        ),
    ]


def _kinds(cfg: Config, today: dt.date) -> list[Check]:
    """What each scheme accepts: its kinds, the columns each needs, its reasons and choices."""
    kind_label = pl.col("kind").replace_strict(vocabulary.APPLICATION_KINDS, default=pl.col("kind"))
    pair = pl.concat_str("scheme", pl.lit("/"), "kind")
    accepted_by: dict[str, list[str]] = {}
    needs: dict[str, list[str]] = {}  # column -> the scheme/kind pairs that need it
    found: list[Check] = []
    for scheme in schemes.every():
        for kind, rule in scheme.kinds.items():
            accepted_by.setdefault(kind, []).append(scheme.short_name)
            this = pair == f"{scheme.code}/{kind}"
            for column in rule.needs:
                needs.setdefault(column, []).append(f"{scheme.code}/{kind}")
            if "reason" in rule.columns:
                allowed = scheme.accepted_reasons(cfg, kind, today)
                found.append(
                    Check(
                        "reason",
                        this & pl.col("reason").is_not_null() & ~pl.col("reason").is_in(allowed),
                        quoted(f"reasonは {', '.join(allowed)} のいずれかです", "reason"),
                    )
                )
            for column in rule.columns:
                options = scheme.choices(cfg, column, kind, today)
                if options is None or column in ("reason", "qualification", "category"):
                    continue  # reasons above; qualifications by holding; categories as members
                found.append(
                    Check(
                        column,
                        this & pl.col(column).is_not_null() & ~pl.col(column).is_in(list(options)),
                        quoted(f"{column}は {', '.join(options)} のいずれかです", column),
                    )
                )
    for scheme in schemes.every():
        found.append(
            Check(
                "kind",
                (pl.col("scheme") == scheme.code)
                & pl.col("kind").is_in(list(vocabulary.APPLICATION_KINDS))
                & ~pl.col("kind").is_in(list(scheme.kinds)),
                pl.format(
                    "{}は{}だけの申請です: '{}'",
                    kind_label,
                    pl.col("kind").replace_strict(
                        {k: "・".join(v) for k, v in accepted_by.items()}, default="ほかの制度"
                    ),
                    pl.col("kind"),
                ),
            )
        )
    for column, pairs in needs.items():
        if column in PERSON:  # a new member's own columns: the rules of members.csv
            continue
        found.append(
            Check(
                column,
                pair.is_in(pairs) & pl.col(column).is_null(),
                pl.format(
                    "{}には {}（{}）が必要です",
                    kind_label,
                    pl.lit(column),
                    pl.lit(vocabulary.APPLICATION_FIELDS[column]),
                ),
            )
        )
    held = needs.get("qualification", [])
    found.append(
        Check(
            "qualification",
            pair.is_in(held)
            & pl.col("qualification").is_not_null()
            & pl.col("member_known")
            & ~pl.col("holds"),
            quoted("この会員はこの資格を有効な状態で持っていません", "qualification"),
        )
    )
    return found
