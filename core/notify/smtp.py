"""Where mail goes, and each outbox row as the message a mail client reads.

The server comes from the environment (`RENEWAL_SMTP_HOST`, `RENEWAL_SMTP_PORT`,
`RENEWAL_SMTP_USER`, `RENEWAL_SMTP_PASSWORD`, `RENEWAL_SMTP_STARTTLS`, and
`RENEWAL_SMTP_CAFILE` for a private certificate authority), else from the `[smtp]` table of
.streamlit/secrets.toml (git-ignored): secrets are never in the repository.

Messages are UTF-8 (ISO-2022-JP cannot carry names such as 髙橋 or 﨑山): the subject and the
sender's name as RFC 2047 encoded words, the body base64-encoded text/plain, so the message
is 7-bit clean for any relay and every current Japanese mail client shows it. The Date is
when the row was written and the Message-ID the row's own: sending a row again sends the
same message.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from core.store.db import ROOT

SECRETS = ROOT / ".streamlit" / "secrets.toml"
ENV = "RENEWAL_SMTP_"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Server:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    cafile: str | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:  # never print the password
        return f"Server({self.host}:{self.port}, user={self.user!r}, starttls={self.starttls})"


def server(environ: dict[str, str] | None = None, secrets: Path | None = None) -> Server:
    """The configured server; ValueError says what is missing."""
    env = os.environ if environ is None else environ
    table: dict[str, Any] = {}
    path = secrets or SECRETS
    if path.exists():
        with path.open("rb") as handle:
            table = tomllib.load(handle).get("smtp", {})

    def get(name: str) -> Any:
        value = env.get(ENV + name.upper())
        return value if value not in (None, "") else table.get(name)

    host = get("host")
    if not host:
        raise ValueError(
            f"no mail server: set {ENV}HOST (and {ENV}PORT, {ENV}USER, {ENV}PASSWORD,"
            f" {ENV}STARTTLS) or [smtp] host in {path}"
        )
    port = get("port")
    try:
        number = int(port) if port not in (None, "") else 25
    except ValueError:
        raise ValueError(f"{ENV}PORT: expected a port number, got {port!r}") from None
    starttls = get("starttls")
    return Server(
        host=str(host),
        port=number,
        user=get("user") or None,
        password=get("password") or None,
        starttls=starttls is True or str(starttls).lower() in _TRUE,
        cafile=get("cafile") or None,
    )


def message(row: dict[str, Any]) -> EmailMessage:
    """The message of an outbox row (recipient, sender, subject, body, message_id,
    created_at): the same bytes however often it is built."""
    msg = EmailMessage(policy=policy.SMTP)
    name, address = parseaddr(row["sender"])
    user, _, domain = address.partition("@")
    msg["From"] = Address(display_name=name, username=user, domain=domain)
    msg["To"] = row["recipient"]
    msg["Subject"] = row["subject"]
    created: dt.datetime = row["created_at"]
    msg["Date"] = format_datetime(created if created.tzinfo else created.astimezone())
    msg["Message-ID"] = row["message_id"]
    msg.set_content(row["body"], charset="utf-8", cte="base64")
    return msg
