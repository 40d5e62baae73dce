"""Mail templates per scheme and event: `[mail.<event>]` of data/templates/<scheme>.toml.

A template is a Japanese subject and body with placeholders (`{name}`, `{valid_until}` …,
core.notify.events). `[mail] sender` is the address the body's mail comes from; its display
name is the body's name (`<scheme>.body_name`). The outbox renders a template set-based in
SQL (`render_sql`); the 送信トレイ page previews one with sample values (`preview`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from core import config, templates
from core.config import ConfigError
from core.notify.events import EVENTS, PLACEHOLDERS

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
_ADDRESS = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


@dataclass(frozen=True)
class MailTemplate:
    scheme: str
    event: str
    subject: str
    body: str


@dataclass(frozen=True)
class Mail:
    """Every scheme's sender address and templates."""

    senders: dict[str, str]  # scheme → address
    templates: dict[tuple[str, str], MailTemplate]

    def events(self, scheme: str) -> list[str]:
        """The events this scheme mails, in the order of core.notify.events."""
        return [e for e in EVENTS if (scheme, e) in self.templates]


def _check_text(path: Path, key: str, value: object, event: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: {key}: expected a non-empty text, got {value!r}")
    for name in _PLACEHOLDER.findall(value):
        if name not in EVENTS[event].allowed:
            raise ConfigError(
                f"{path}: {key}: unknown placeholder {{{name}}} for {event};"
                f" use {', '.join('{' + p + '}' for p in EVENTS[event].allowed)}"
            )
    return value.strip("\n")


def load(directory: Path | None = None) -> Mail:
    """Every scheme's mail templates, checked; ConfigError names the file and the key."""
    senders: dict[str, str] = {}
    found: dict[tuple[str, str], MailTemplate] = {}
    for scheme, (path, table) in templates.files(directory).items():
        mail = table.get("mail", {})
        sender = mail.get("sender")
        if not isinstance(sender, str) or not _ADDRESS.match(sender):
            raise ConfigError(f"{path}: mail.sender: expected a mail address, got {sender!r}")
        senders[scheme] = sender
        for event, entry in mail.items():
            if event == "sender":
                continue
            if event not in EVENTS:
                raise ConfigError(
                    f"{path}: mail.{event}: unknown event; use one of {', '.join(EVENTS)}"
                )
            if not isinstance(entry, dict) or set(entry) != {"subject", "body"}:
                raise ConfigError(f"{path}: mail.{event}: expected subject and body")
            found[(scheme, event)] = MailTemplate(
                scheme,
                event,
                _check_text(path, f"mail.{event}.subject", entry["subject"], event).strip(),
                _check_text(path, f"mail.{event}.body", entry["body"], event),
            )
    return Mail(senders, found)


def sender_line(scheme: str, mail: Mail, cfg: config.Config, on: dt.date) -> str:
    """「団体名 <address>」: the From of the scheme's mail."""
    return f"{cfg.value(f'{scheme}.body_name', on=on)} <{mail.senders[scheme]}>"


def frame(mail: Mail, cfg: config.Config, on: dt.date) -> pl.DataFrame:
    """(scheme, event, subject, body, sender, body_name, scheme_name) for the outbox's join."""
    rows = [
        (
            t.scheme,
            t.event,
            t.subject,
            t.body,
            sender_line(t.scheme, mail, cfg, on),
            str(cfg.value(f"{t.scheme}.body_name", on=on)),
            cfg.scheme_name(t.scheme),
        )
        for t in mail.templates.values()
    ]
    columns = ["scheme", "event", "subject", "body", "sender", "body_name", "scheme_name"]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def render_sql(template_column: str, values: str, names: tuple[str, ...] = PLACEHOLDERS) -> str:
    """An SQL expression: `template_column` with the placeholders `names` replaced by the
    columns of the same name of `values` (all names from code); a NULL value prints as 「—」."""
    expression = template_column
    for name in names:
        # the body's name and the scheme's come with the template, the rest with the values
        source = template_column.split(".")[0] if name in ("body_name", "scheme_name") else values
        expression = f"replace({expression}, '{{{name}}}', coalesce({source}.\"{name}\", '—'))"
    return expression


def render(text: str, values: dict[str, str]) -> str:
    """`text` with its placeholders replaced (the preview; the outbox renders in SQL)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), "—") or "—", text)


SAMPLE = {
    "name": "見本 太郎",
    "member_no": "J0000001",
    "qualification": "インストラクター",
    "valid_from": "2026年12月1日",
    "valid_until": "2028年11月30日",
    "certificate_no": "0000002001C",
    "renewal_year": "2026",
    "items": "2026年度 インストラクター更新会費 2,000円",
    "amount": "2,000円",
    "due_on": "2027年1月1日",
    "issued_on": "2026年12月1日",
    "paid_on": "2026年12月5日",
    "documents": "認定証・委嘱状",
    "application_ref": "APP-2026-000123",
    "application_kind": "会員登録（年度更新）",
    "season": "2026年度",
    "reason": "氏名の誤り",
    "note": "戸籍上の漢字をご確認ください。",
    "course_title": "教育の最新事情",
    "course_code": "T2026-001",
    "held_on": "2026年8月3日",
    "status": "予約",
    "position": "—",
}


def preview(
    scheme: str, event: str, mail: Mail, cfg: config.Config, on: dt.date
) -> tuple[str, str, str]:
    """(From, subject, body) of a template with sample values."""
    template = mail.templates[(scheme, event)]
    values = {
        **SAMPLE,
        "body_name": str(cfg.value(f"{scheme}.body_name", on=on)),
        "scheme_name": cfg.scheme_name(scheme),
    }
    return (
        sender_line(scheme, mail, cfg, on),
        render(template.subject, values),
        render(template.body, values),
    )
