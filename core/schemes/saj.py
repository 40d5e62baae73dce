"""SAJ (seed 003): yearly membership of the ski federation, through clubs and prefectures.

- Season S (「S年度」) runs from `season.starts` of S to `season.ends` of S+1. A member applies
  for each season (`season_registration`; a new member by `new_registration`), approved by the
  club, the regional body where one exists, the prefectural federation (県連, within
  `approval.prefecture_sla_hours` hours) and SAJ (`approval.chain`).
- At the prefecture's approval the qualified members' difference is billed (県連会費有資格者差額:
  `fee.qualified_prefecture_total` less the prefecture part of the yearly fee); at SAJ's, the
  yearly fee by category (`fee.<category>.saj` + `.prefecture`), `fee.qualification_registration`
  per qualification category kept, the certified instructor's fee, the insurance plan
  (`insurance.plans`) and the competitor registration (`fee.competitor.*`).
- A transfer or a qualification return is applied for together with the season's
  registration (SAJ approval fixes it); a competitor registration may be added later.
- The renewal batch erases members who did not register for the season once it has begun
  (personal data cleared, the number never reused) and a returned qualification is erased too.
  A registered member's qualification runs on once its yearly fee is paid; unpaid past its due
  date, it lapses.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from core.schemes.base import COMMON_KINDS, PERSON, Kind, Reader, Scheme, month_day

if TYPE_CHECKING:
    import duckdb

    from core.checks import Check
    from core.config import Config

# SAJ qualification → its 資格登録料 category; certified instructors pay a fee of their own
FEE_CATEGORY = {
    "instructor": "education_instructor",
    "examiner": "education_examiner",
    "setter": "competition_setter",
}
COMPETITOR_CLASSES = {
    "saj_alpine": "SAJ競技者登録料 アルペン",
    "fis_alpine": "FIS競技者登録料 アルペン",
}
REGISTRATIONS = ("season_registration", "new_registration")
# changes made only with the season's registration, fixed once SAJ approved it
WITH_REGISTRATION = ("transfer", "qualification_return")


class Saj(Scheme):
    code = "saj"
    short_name = "SAJ"
    renewal_relation = "saj_requirements"
    items: ClassVar[dict[str, str]] = {
        "saj_annual_fee": "年会費",
        "saj_qualification_registration": "資格登録料",
        "saj_prefecture_qualified": "県連会費有資格者差額",
        "saj_certified_instructor": "認定指導員登録料",
        "saj_insurance": "スキー保険",
        "saj_competitor": "競技者登録料",
    }
    kinds: ClassVar[dict[str, Kind]] = {
        **COMMON_KINDS,
        "season_registration": Kind(needs=("season",), takes=("insurance_plan", "competitor")),
        "new_registration": Kind(
            needs=(*PERSON, "season"),
            takes=(*COMMON_KINDS["new_registration"].takes, "insurance_plan", "competitor"),
        ),
        "transfer": Kind(needs=("target_org_code", "season")),
        "qualification_return": Kind(needs=("qualification", "season")),
        "competitor_registration": Kind(needs=("competitor", "season")),
    }
    erases_members = True
    returned_status = "erased"
    year_starts_key = "saj.season.starts"
    season_relation = "saj_season_lines"

    def renewal_parameters(self, config: Reader) -> dict[str, Any]:
        start = month_day(config.read("saj.season.starts"))
        end = month_day(config.read("saj.season.ends"))
        return {"start_month": start[0], "start_day": start[1],
                "end_month": end[0], "end_day": end[1]}  # fmt: skip

    def sla(self, cfg: Config, on: dt.date) -> dict[str, tuple[int | None, int | None]]:
        """The prefecture approves within `approval.prefecture_sla_hours` hours of arrival."""
        hours = int(cfg.value("saj.approval.prefecture_sla_hours", on=on))
        return {"prefecture": (hours, None), **super().sla(cfg, on)}

    def choices(self, cfg: Config, column: str, kind: str, on: dt.date) -> dict[str, str] | None:
        if column == "insurance_plan":
            plans: dict[str, dict[str, Any]] = cfg.value("saj.insurance.plans", on=on)
            return {code: str(plan["label"]) for code, plan in plans.items()}
        if column == "competitor":
            return dict(COMPETITOR_CLASSES)
        if column == "category":
            return dict(cfg.value("saj.categories", on=on))
        return super().choices(cfg, column, kind, on)

    # -- prices ------------------------------------------------------------------------------

    def season_prices(self, cfg: Config, seasons: list[int]) -> dict[str, pl.DataFrame]:
        """Per season, every price as configured on the season's first day: the relations
        season_bounds, season_fee_bands and season_items that core.billing.season joins."""
        bands, items, bounds = [], [], []
        for season in seasons:
            on = self.year_start(cfg, season)
            bounds.append((season, self.year_start(cfg, season + 1)))
            total = int(cfg.value("saj.fee.qualified_prefecture_total", on=on))
            for code, label in cfg.value("saj.categories", on=on).items():
                saj = int(cfg.value(f"saj.fee.{code}.saj", on=on))
                pref = int(cfg.value(f"saj.fee.{code}.prefecture", on=on))
                bands.append((season, code, saj + pref, max(total - pref, 0), f"{label}会員会費"))
            fee_labels = cfg.value("saj.fee.qualification_categories", on=on)
            per_category = int(cfg.value("saj.fee.qualification_registration", on=on))
            items += [
                (season, f"qualification:{q}", "saj_qualification_registration",
                 f"資格登録料（{fee_labels[c]}）", per_category)
                for q, c in FEE_CATEGORY.items()
            ]  # fmt: skip
            items.append((season, "qualification:certified_instructor", "saj_certified_instructor",
                          "認定指導員登録料", int(cfg.value("saj.fee.certified_instructor", on=on))))  # fmt: skip
            items += [
                (season, f"insurance:{code}", "saj_insurance", str(p["label"]), int(p["fee"]))
                for code, p in cfg.value("saj.insurance.plans", on=on).items()
            ]
            items += [(season, f"competitor:{code}", "saj_competitor", label,
                       int(cfg.value(f"saj.fee.competitor.{code}", on=on)))
                      for code, label in COMPETITOR_CLASSES.items()]  # fmt: skip
        return {
            "season_bounds": pl.DataFrame(
                bounds, schema={"season": pl.Int32, "next_start": pl.Date}, orient="row"
            ),
            "season_fee_bands": pl.DataFrame(
                bands,
                schema={"season": pl.Int32, "category": pl.String, "yearly": pl.Int32,
                        "difference": pl.Int32, "label": pl.String},
                orient="row",
            ),
            "season_items": pl.DataFrame(
                items,
                schema={"season": pl.Int32, "code": pl.String, "item": pl.String,
                        "label": pl.String, "amount": pl.Int32},
                orient="row",
            ),
        }  # fmt: skip

    # -- applications --------------------------------------------------------------------------

    def application_rules(
        self, con: duckdb.DuckDBPyConnection, frame: pl.DataFrame
    ) -> tuple[pl.DataFrame, list[Check]]:
        """A transfer or return needs the season's registration, open or in the same file; a
        competitor registration needs a registration of that season (approved included)."""
        from core.checks import Check, of_members, quoted

        def registrations(statuses: tuple[str, ...]) -> pl.Expr:
            found = of_members(
                con,
                frame,
                "SELECT DISTINCT a.member_no, a.season FROM applications a"
                " JOIN staged_keys USING (member_no)"
                " WHERE a.scheme = 'saj' AND list_contains($kinds, a.kind)"
                " AND list_contains($statuses, a.status)",
                {"kinds": list(REGISTRATIONS), "statuses": list(statuses)},
            )
            return pl.struct("member_no", pl.col("season_parsed").alias("season")).is_in(
                found.to_struct().implode()
            )

        in_file = (
            frame.filter((pl.col("scheme") == "saj") & (pl.col("kind") == "season_registration"))
            .select("member_no", pl.col("season_parsed").alias("season"))
            .to_struct()
            .implode()
        )
        frame = frame.with_columns(
            (
                registrations(("pending", "sent_back"))
                | pl.struct("member_no", pl.col("season_parsed").alias("season")).is_in(in_file)
            ).alias("saj_registration_with_it"),
            registrations(("pending", "sent_back", "approved")).alias("saj_registered"),
        )
        ours = pl.col("scheme") == "saj"
        return frame, [
            Check(
                "kind",
                ours
                & pl.col("kind").is_in(WITH_REGISTRATION)
                & pl.col("member_known")
                & ~pl.col("saj_registration_with_it"),
                quoted(
                    "SAJの移籍・資格返上は年度の会員登録と一緒に申請します"
                    "（SAJ承認後は変更できません）",
                    "kind",
                ),
            ),
            Check(
                "kind",
                ours
                & (pl.col("kind") == "competitor_registration")
                & pl.col("season_parsed").is_not_null()
                & ~pl.col("saj_registered"),
                quoted("競技者登録の追加は、その年度の会員登録があるSAJ会員だけです", "kind"),
            ),
        ]

    def at_withdrawal(
        self, con: duckdb.DuckDBPyConnection, record: dict[str, Any], *, actor: str
    ) -> None:
        """A withdrawn registration: its season's unpaid lines are cancelled (audited) unless
        another registration of the member for that season is still live."""
        if record["kind"] not in REGISTRATIONS:
            return
        params = {"member": record["member_no"], "season": record["season"],
                  "kinds": list(REGISTRATIONS)}  # fmt: skip
        lines = """
            FROM billing b
            WHERE b.member_no = $member AND b.scheme = 'saj' AND b.season = $season
              AND b.status = 'open'
              AND NOT EXISTS (SELECT 1 FROM applications a
                              WHERE a.member_no = $member AND a.scheme = 'saj'
                                AND a.season = $season AND list_contains($kinds, a.kind)
                                AND a.status IN ('pending', 'sent_back', 'approved'))
        """
        con.execute(
            f"""
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   old_value, new_value, reason)
            SELECT $actor, 'update', 'billing', b.billing_id::VARCHAR, b.member_no, 'status',
                   'open', 'cancelled', $why
            {lines}
            """,
            {**params, "actor": actor, "why": f"申請取下げ {record['application_ref']}"},
        )
        con.execute(
            f"""
            UPDATE billing SET status = 'cancelled', updated_at = current_timestamp
            WHERE billing_id IN (SELECT b.billing_id {lines})
            """,
            params,
        )


SCHEME = Saj()
