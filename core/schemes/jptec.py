"""JPTEC (seed 000): instructors, pre-instructors and providers of prehospital trauma care.

- Instructor: on the day after the validity end, the courses taught over the past
  `instructor.check_period_years` years are counted; `instructor.min_courses_taught` or more
  and no unpaid fee extend it by `instructor.extension_years` years and open the renewal fee
  (`instructor.renewal_fee`); fewer lapse it. A fee left open for
  `instructor.unpaid_invalidation_months` months invalidates it.
- Provider: a renewal course extends it to the course day + `provider.extension_years` years,
  plus the remaining whole months when fewer than `provider.remaining_bonus_under_months`
  remained; without one it lapses after its end.
- An approved special extension (有効期間延長等承認申請) for one of
  `special_extension.reasons` credits an instructor's teaching record and gives a provider or
  pre-instructor `special_extension.months` more months.
- A new instructor pays `instructor.new_fee` (core.billing.acquisition).
- A non-card payment request (クレジットカード以外の納入) is refused silently unless an
  instructor fee is open and the request carries the exact validity end; accepted, it puts
  the handling fee in force that day (`non_card_handling_fee`) on the open fee line.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from core import vocabulary
from core.schemes.base import COMMON_KINDS, Kind, Reader, Refusal, Scheme

if TYPE_CHECKING:
    import duckdb

    from core.config import Config

INSTRUCTOR_FEES = ("jptec_instructor_new", "jptec_instructor_renewal")


class Jptec(Scheme):
    code = "jptec"
    short_name = "JPTEC"
    renewal_relation = "jptec_requirements"
    items: ClassVar[dict[str, str]] = {
        "jptec_instructor_new": "新規インストラクター会費",
        "jptec_instructor_renewal": "インストラクター更新会費",
    }
    kinds: ClassVar[dict[str, Kind]] = {
        **COMMON_KINDS,
        "non_card_payment": Kind(takes=("valid_until_claimed",)),
    }
    activity_kinds: ClassVar[dict[str, Kind]] = {"taught": Kind(), "renewal_course": Kind()}
    course_activity = "renewal_course"  # a completed course (core/courses) renews a provider

    def renewal_parameters(self, config: Reader) -> dict[str, Any]:
        read = config.read
        return {
            "check_years": read("jptec.instructor.check_period_years"),
            "min_courses": read("jptec.instructor.min_courses_taught"),
            "extension_years": read("jptec.instructor.extension_years"),
            "renewal_fee": read("jptec.instructor.renewal_fee"),
            "unpaid_months": read("jptec.instructor.unpaid_invalidation_months"),
            "provider_years": read("jptec.provider.extension_years"),
            "bonus_under_months": read("jptec.provider.remaining_bonus_under_months"),
            "special_months": read("jptec.special_extension.months"),
            "special_reasons": list(read("jptec.special_extension.reasons")),
            "instructor_fees": list(INSTRUCTOR_FEES),
        }

    def acquisition_fees(self, cfg: Config, on: dt.date) -> dict[str, tuple[str, int]]:
        """A new instructor pays the new instructor's fee (新規インストラクター 3,000円)."""
        return {
            "instructor": (
                "jptec_instructor_new",
                int(cfg.value("jptec.instructor.new_fee", on=on)),
            )
        }

    def reasons(self, cfg: Config, kind: str, on: dt.date) -> dict[str, str]:
        if kind == "extension":  # the special extension's reasons only (seed 000)
            codes = cfg.value("jptec.special_extension.reasons", on=on)
            return {code: vocabulary.REASONS.get(code, code) for code in codes}
        return super().reasons(cfg, kind, on)

    def intake_refusals(self, cfg: Config) -> list[Refusal]:
        """A non-card request is refused at once (and no mail is sent) unless an instructor fee
        is open and it carries the exact validity end date."""
        valid = """
            EXISTS (SELECT 1 FROM billing b
                    WHERE b.member_no = a.member_no AND b.scheme = 'jptec' AND b.status = 'open'
                      AND list_contains($instructor_fees, b.item))
            AND EXISTS (SELECT 1 FROM qualifications q
                        WHERE q.member_no = a.member_no AND q.scheme = 'jptec'
                          AND q.qualification = 'instructor'
                          AND q.valid_until = a.valid_until_claimed)
        """
        return [
            Refusal(
                where=f"a.scheme = 'jptec' AND a.kind = 'non_card_payment' AND NOT ({valid})",
                note="受付不可（会費が未納でないか、有効期限の日付が一致しません）。メールは送りません。",
                reason="会費が未納でないか、有効期限の日付が一致しません",
                params={"instructor_fees": list(INSTRUCTOR_FEES)},
            )
        ]

    def at_approval(
        self, con: duckdb.DuckDBPyConnection, *, cfg: Config, actor: str, now: dt.datetime
    ) -> None:
        """An accepted non-card request: the handling fee in force that day (0 before
        2023-10-01, 700 from then) on the member's latest open instructor fee. Set, not added."""
        fee = int(cfg.value("jptec.non_card_handling_fee", on=now.date()))
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE non_card_lines AS
            SELECT b.member_no, arg_max(b.billing_id, (b.issued_on, b.billing_id)) AS billing_id,
                   arg_max(b.handling_fee, (b.issued_on, b.billing_id)) AS old_fee,
                   any_value(a.application_ref) AS application_ref
            FROM approval_moves v JOIN applications a USING (application_id)
            JOIN billing b ON b.member_no = a.member_no AND b.scheme = 'jptec'
             AND b.status = 'open' AND list_contains($instructor_fees, b.item)
            WHERE v.next_level IS NULL AND a.kind = 'non_card_payment'
            GROUP BY b.member_no
            """,
            {"instructor_fees": list(INSTRUCTOR_FEES)},
        )
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   old_value, new_value, reason)
            SELECT $actor, 'update', 'billing', billing_id::VARCHAR, member_no, 'handling_fee',
                   old_fee::VARCHAR, $fee::VARCHAR, 'カード以外の納入 ' || application_ref
            FROM non_card_lines WHERE old_fee IS DISTINCT FROM $fee
            """,
            {"actor": actor, "fee": fee},
        )
        con.execute(
            """
            UPDATE billing SET handling_fee = $fee, updated_at = current_timestamp
            WHERE billing_id IN (SELECT billing_id FROM non_card_lines)
            """,
            {"fee": fee},
        )


SCHEME = Jptec()
