"""A real SMTP server on loopback for the tests (aiosmtpd): it keeps every message it accepts,
byte for byte, and can refuse recipients for now (4xx) or for good (5xx)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What arrived, and how recipients are answered."""

    refuse: set[str] = field(default_factory=set)  # 550 for these
    busy: dict[str, int] = field(default_factory=dict)  # 451 this many times for these
    on_message: Callable[[int], None] | None = None  # called with the count, before the 250
    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.busy.get(address, 0) > 0:
            self.busy[address] -= 1
            return "451 4.7.1 Please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.raw.append(bytes(envelope.original_content or envelope.content))
            count = len(self.raw)
        if self.on_message is not None:
            self.on_message(count)
        return "250 2.0.0 Ok: queued"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message_from_bytes(b, policy=policy.default) for b in self.raw]  # type: ignore[misc]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(inbox: Inbox, **options: Any) -> Iterator[int]:
    """The server on a free loopback port for the block; yields the port."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
