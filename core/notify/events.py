"""The events that write mail, and the placeholders each event's templates may use.

Every template may use the COMMON placeholders; an event adds its own. A template that names
a placeholder its event does not give is refused when the templates are loaded, so a typo
never reaches a member as 「{vaild_until}」.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.vocabulary import MAIL_EVENTS

COMMON = ("name", "member_no", "body_name", "scheme_name")


@dataclass(frozen=True)
class Event:
    code: str
    placeholders: tuple[str, ...]  # beyond COMMON

    @property
    def label(self) -> str:
        return MAIL_EVENTS[self.code]

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*COMMON, *self.placeholders)


_QUALIFICATION = ("qualification", "valid_from", "valid_until", "certificate_no")
_LINES = ("items", "amount", "due_on")

_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    # the renewal batch opened a fee (JPTEC 「会費納入」, ITC 更新料 after the application)
    "fee_opened": (*_QUALIFICATION, *_LINES, "renewal_year"),
    # lines billed outside the renewal batch (season billing, course fees, new instructors)
    "invoice_issued": _LINES,
    "payment_complete": ("items", "amount", "paid_on", "documents"),
    # the batch extended a qualification (ITC 更新結果通知 兼 資格証明, JSPO 更新完了)
    "renewal_complete": (*_QUALIFICATION, "renewal_year", "documents"),
    "application_approved": ("application_ref", "application_kind", "season"),
    "application_sent_back": ("application_ref", "application_kind", "reason", "note"),
    # courses: core.notify.course_mail, in the transaction that takes or moves the reservation
    "reservation_received": ("course_title", "course_code", "held_on", "status", "position"),
    "waitlist_promoted": ("course_title", "course_code", "held_on"),
    # reminders (core.notify.reminders), scheduled as `<scheme>.reminders`
    "reminder_window_opened": _QUALIFICATION,
    "reminder_window_closing": _QUALIFICATION,
    "reminder_fee_unpaid": (*_QUALIFICATION, *_LINES, "issued_on"),
}
EVENTS: dict[str, Event] = {code: Event(code, p) for code, p in _PLACEHOLDERS.items()}
assert set(EVENTS) == set(MAIL_EVENTS), "every event has a label in core.vocabulary"
PLACEHOLDERS = tuple(dict.fromkeys(p for e in EVENTS.values() for p in e.allowed))
