"""Rules for applications.csv (FORMATS.md): who applies for what, checked before any row is
written; a reference seen before is reported and skipped, never entered twice.

The same rules check an application typed into the app (core.approvals_intake), so the form
and the file accept exactly the same applications.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import approvals, db, text
from core.config import Config
from core.config_settings import SCHEME_CODES
from core.imports import members as member_rules
from core.imports.base import (
    SKIP,
    Check,
    TableSpec,
    existing,
    in_set,
    quoted,
    required,
)

REASONS = (
    "disaster",
    "pregnancy_childbirth",
    "childcare",
    "illness",
    "care",
    "study_abroad",
    "overseas_work",
    "graduate_study",
    "other",
)
# teacher exemption categories and postponement causes (docs/assumptions.md)
TEACHER_REASONS = ("principal", "chief_teacher", "superintendent", "lecturer", "awarded",
                   "maternity")  # fmt: skip
NEEDS_QUALIFICATION = ("qualification_return", "extension", "postponement", "suspension")
NEEDS_REASON = ("extension", "postponement", "suspension", "exemption")
# SAJ changes made only with the season's registration, fixed once SAJ approved it
WITH_REGISTRATION = ("transfer", "qualification_return")
COMPETITOR = ("saj_alpine", "fis_alpine")
YEARLY = ("saj", "itc")  # schemes renewed by a yearly application (SAJ season, ITC window)
MEMBER_COLUMNS = (
    "org_code", "family_name", "given_name", "family_name_kana", "given_name_kana",
    "birth_date", "email", "phone", "postal_code", "prefecture", "address", "category",
)  # fmt: skip
# required of a new registration only; contact columns are checked whenever present
PERSON = ("org_code", "family_name", "given_name", "family_name_kana", "given_name_kana",
          "birth_date")  # fmt: skip
OPTIONAL = (
    "member_no", "season", "proxy_org_code", "qualification", "target_org_code", "reason",
    "valid_until_claimed", "note", *MEMBER_COLUMNS, "insurance_plan", "competitor",
    "joined_on", "status", "gender", "entered_by",
)  # fmt: skip
COLUMNS = [
    "application_ref", "member_no", "scheme", "kind", "season", "submitted_at",
    "proxy_org_code", "qualification", "target_org_code", "reason", "valid_until_claimed",
    "note", "entered_by", *MEMBER_COLUMNS, "insurance_plan", "competitor",
]  # fmt: skip
IS_NEW = pl.col("kind") == "new_registration"


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    frame = member_rules._member_clean(frame)
    stamp = pl.col("submitted_at").str.normalize("NFKC").str.strip_chars().str.replace_all("/", "-")
    return frame.with_columns(
        pl.col("application_ref").str.strip_chars(),
        pl.col("scheme").str.strip_chars().str.to_lowercase(),
        pl.col("kind").str.strip_chars().str.to_lowercase(),
        pl.coalesce(
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M", strict=False),
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
        ).alias("submitted_parsed"),
        pl.col("season").str.strip_chars().cast(pl.Int32, strict=False).alias("season_parsed"),
        text.date_expr("valid_until_claimed").alias("claimed_parsed"),
    )


def _checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    today = dt.date.today()
    seen = existing(
        con,
        frame,
        "application_ref",
        "SELECT application_ref FROM applications JOIN staged_keys USING (application_ref)",
    )
    known_members = existing(
        con,
        frame,
        "member_no",
        "SELECT member_no FROM members JOIN staged_keys USING (member_no) WHERE status <> 'erased'",
    )
    orgs = db.frame(con, "SELECT org_code, root_code, kind FROM organizations")
    member_orgs = _member_orgs(con, frame)
    held = _held(con, frame)
    open_registrations = _registrations(con, frame, ("pending", "sent_back"))
    roots = pl.DataFrame(
        {
            "scheme": list(SCHEME_CODES),
            "scheme_root": [str(cfg.value(f"{s}.root_org_code", on=today)) for s in SCHEME_CODES],
        }
    )
    plans = list(cfg.value("saj.insurance.plans", on=today))
    frame = (
        frame.with_columns(
            _skip(seen).alias(SKIP),
            entered_by=pl.coalesce(
                pl.col("entered_by"),
                pl.when(pl.col("proxy_org_code").is_not_null()).then(pl.lit("proxy")),
                pl.lit("member"),
            ),
        )
        .join(roots, on="scheme", how="left", maintain_order="left")
        .join(member_orgs, on="member_no", how="left", maintain_order="left")
        .join(
            orgs.select(pl.col("org_code").alias("target_org_code"),
                        pl.col("root_code").alias("target_root")),
            on="target_org_code", how="left", maintain_order="left",
        )
        .join(
            orgs.select(pl.col("org_code").alias("proxy_org_code"),
                        pl.col("root_code").alias("proxy_root")),
            on="proxy_org_code", how="left", maintain_order="left",
        )
        .join(
            orgs.select("org_code", pl.col("root_code").alias("own_root"),
                        pl.col("kind").alias("own_kind")),
            on="org_code", how="left", maintain_order="left",
        )
        .with_columns(
            pl.struct("member_no", "scheme", "qualification").is_in(held.to_struct().implode())
            .alias("holds"),
            pl.struct("member_no", pl.col("season_parsed").alias("season"))
            .is_in(open_registrations.to_struct().implode())
            .alias("registration_open"),
            pl.struct("member_no", pl.col("season_parsed").alias("season"))
            .is_in(_registrations(con, frame, ("pending", "sent_back", "approved")).to_struct().implode())
            .alias("registered_any"),
        )
    )  # fmt: skip
    in_file_registration = (
        frame.filter((pl.col("scheme") == "saj") & (pl.col("kind") == "season_registration"))
        .select("member_no", pl.col("season_parsed").alias("season"))
        .to_struct()
        .implode()
    )
    registration_with_it = pl.col("registration_open") | pl.struct(
        "member_no", pl.col("season_parsed").alias("season")
    ).is_in(in_file_registration)
    # a new registration carries a member row: the rules of members.csv, for those rows only
    frame, person_checks = member_rules._member_checks(con, frame, cfg)
    member_checks = [
        Check(c.column, (IS_NEW & c.bad) if c.column in PERSON else c.bad, c.message)
        for c in person_checks
        if c.column in MEMBER_COLUMNS
    ]
    return frame, [
        *required("application_ref", "scheme", "kind", "submitted_at"),
        in_set("scheme", SCHEME_CODES, "scheme"),
        in_set("kind", tuple(approvals.KINDS), "kind"),
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
            "season",
            pl.col("season").is_null() & (pl.col("kind") == "season_registration")
            | (IS_NEW & (pl.col("scheme") == "saj") & pl.col("season").is_null()),
            "年度の会員登録・新規入会には season（年度）が必要です",
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
            pl.col("member_no").is_not_null() & ~pl.col("member_no").is_in(known_members.implode()),
            quoted("会員番号が見つかりません（抹消済みを含む）", "member_no"),
        ),
        *member_checks,
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
            "qualification",
            pl.col("kind").is_in(NEEDS_QUALIFICATION) & pl.col("qualification").is_null(),
            "資格の返上・延長・延期・休止には qualification（資格）が必要です",
        ),
        Check(
            "qualification",
            pl.col("kind").is_in(NEEDS_QUALIFICATION)
            & pl.col("qualification").is_not_null()
            & pl.col("member_no").is_in(known_members.implode())
            & ~pl.col("holds"),
            quoted("この会員はこの資格を有効な状態で持っていません", "qualification"),
        ),
        Check(
            "target_org_code",
            (pl.col("kind") == "transfer") & pl.col("target_org_code").is_null(),
            "移籍には target_org_code（移籍先）が必要です",
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
        Check(
            "reason",
            pl.col("kind").is_in(NEEDS_REASON) & pl.col("reason").is_null(),
            "延長・延期・休止・免除には reason（事由）が必要です",
        ),
        in_set("reason", (*REASONS, *TEACHER_REASONS), "reason"),
        Check(
            "valid_until_claimed",
            pl.col("valid_until_claimed").is_not_null() & pl.col("claimed_parsed").is_null(),
            quoted("日付（YYYY-MM-DD）ではありません", "valid_until_claimed"),
        ),
        Check(
            "kind",
            (pl.col("kind") == "non_card_payment") & (pl.col("scheme") != "jptec"),
            quoted("カード以外の納入申請はJPTECだけです", "kind"),
        ),
        Check(
            "kind",
            (pl.col("kind") == "season_registration") & ~pl.col("scheme").is_in(YEARLY),
            quoted("年度の会員登録（更新申請）はSAJとITCだけです", "kind"),
        ),
        Check(
            "kind",
            (pl.col("kind") == "exemption") & (pl.col("scheme") != "teacher"),
            quoted("更新免除の申請は教員免許状更新だけです", "kind"),
        ),
        Check(
            "kind",
            (pl.col("scheme") == "saj")
            & pl.col("kind").is_in(WITH_REGISTRATION)
            & pl.col("member_no").is_in(known_members.implode())
            & ~registration_with_it,
            quoted(
                "SAJの移籍・資格返上は年度の会員登録と一緒に申請します"
                "（SAJ承認後は変更できません）",
                "kind",
            ),
        ),
        Check(
            "competitor",
            (pl.col("kind") == "competitor_registration") & pl.col("competitor").is_null(),
            "競技者登録には competitor（saj_alpine または fis_alpine）が必要です",
        ),
        Check(
            "kind",
            (pl.col("kind") == "competitor_registration")
            & (
                (pl.col("scheme") != "saj")
                | pl.col("season_parsed").is_null()
                | ~pl.col("registered_any")
            ),
            quoted("競技者登録の追加は、その年度の会員登録があるSAJ会員だけです", "kind"),
        ),
        in_set("entered_by", tuple(approvals.ENTERED_BY), "entered_by"),
        in_set("insurance_plan", plans, "insurance_plan"),
        in_set("competitor", COMPETITOR, "competitor"),
    ]


def _skip(seen: pl.Series) -> pl.Expr:
    """References already entered, or repeated in the file: reported, not entered again."""
    ref = pl.col("application_ref")
    return ref.is_in(seen.implode()) | (
        ref.is_not_null() & ref.is_duplicated() & ~ref.is_first_distinct()
    )


def _of_members(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    sql: str,
    params: dict[str, object] | None = None,
) -> pl.DataFrame:
    """`sql` over `staged_keys`: the member numbers the file names."""
    keys = frame.select(pl.col("member_no").drop_nulls().unique())
    with db.registered(con, staged_keys=keys):
        return db.frame(con, sql, params)


def _member_orgs(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    return _of_members(
        con,
        frame,
        "SELECT m.member_no, m.org_code AS member_org, o.root_code AS member_root"
        " FROM members m JOIN staged_keys USING (member_no)"
        " JOIN organizations o ON o.org_code = m.org_code",
    )


def _held(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """(member_no, scheme, qualification) held in a state that can be returned or extended."""
    return _of_members(
        con,
        frame,
        "SELECT DISTINCT q.member_no, q.scheme, q.qualification FROM qualifications q"
        " JOIN staged_keys USING (member_no)"
        " WHERE q.status IN ('active', 'renewed', 'renewal_open', 'suspended')",
    )


def _registrations(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, statuses: tuple[str, ...]
) -> pl.DataFrame:
    """(member_no, season) of the file's members' SAJ season registrations in `statuses`."""
    return _of_members(
        con,
        frame,
        "SELECT DISTINCT a.member_no, a.season FROM applications a"
        " JOIN staged_keys USING (member_no)"
        " WHERE a.scheme = 'saj' AND a.kind IN ('season_registration', 'new_registration')"
        " AND list_contains($statuses, a.status)",
        {"statuses": list(statuses)},
    )


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        submitted_at=pl.col("submitted_parsed"),
        season=pl.col("season_parsed"),
        valid_until_claimed=pl.col("claimed_parsed"),
        birth_date=pl.col("birth_parsed"),
        postal_code=pl.col("postal_clean"),
        org_code=pl.when(IS_NEW).then(pl.col("org_code")),
    )


def _after(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file: str) -> None:
    ids = db.frame(
        con,
        "SELECT application_id FROM applications JOIN staged_rows USING (application_ref)",
    )
    approvals.start(con, ids, actor=f"import:{file}", now=approvals.jst_now())


SPEC = TableSpec(
    required=("application_ref", "scheme", "kind", "submitted_at"),
    optional=OPTIONAL,
    columns=COLUMNS,
    key="application_ref",
    member_column="member_no",
    clean=_clean,
    checks=_checks,
    finish=_finish,
    after=_after,
)
