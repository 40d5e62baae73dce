"""Configuration values written back as TOML, in the form data/schemes/*.toml takes.

Used to keep an edit's value and the file's history beside it (core.config.edits) and to
export the configuration in force as files a deployment can start from. Everything the loader
accepts has a spelling here: whole numbers, decimals, text, true/false, dates, lists, tables
(inline), and effective-dated lists of `{ from = …, value = … }`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from core.config.loader import Config, Dated
from core.config.settings import SETTINGS

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def value(item: Any) -> str:
    """One value as a TOML literal."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, Decimal):
        text = format(item, "f")
        return text if "." in text else text + ".0"
    if isinstance(item, float):
        return repr(item)
    if isinstance(item, dt.datetime):
        raise TypeError("timestamps are not configuration values")
    if isinstance(item, dt.date):
        return item.isoformat()
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)  # a TOML basic string is a JSON string
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, dict):
        if not item:
            return "{}"
        return "{ " + ", ".join(f"{_key(str(k))} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"cannot write {item!r} as TOML")


def history(entries: Iterable[Dated]) -> str:
    """A key's values over time: one plain value when it never changed since 1900-01-01,
    else the dated list the loader reads."""
    listed = list(entries)
    if len(listed) == 1 and listed[0].start == dt.date(1900, 1, 1):
        return value(listed[0].value)
    return (
        "[\n"
        + "".join(
            f"    {{ from = {d.start.isoformat()}, value = {value(d.value)} }},\n" for d in listed
        )
        + "]"
    )


def dated_list(entries: Iterable[Dated]) -> str:
    """Always the dated form on one line (what an edit keeps as the file's history)."""
    return (
        "["
        + ", ".join(
            f"{{ from = {d.start.isoformat()}, value = {value(d.value)} }}" for d in entries
        )
        + "]"
    )


def file_text(cfg: Config, code: str, header: str) -> str:
    """One configuration file (`code`: a scheme or common) with every key's history in force,
    as dotted keys in the order the settings are declared."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append("")
    for setting in SETTINGS:
        if not setting.key.startswith(code + "."):
            continue
        name = ".".join(_key(part) for part in setting.key[len(code) + 1 :].split("."))
        lines.append(f"{name} = {history(cfg.history(setting.key))}")
    return "\n".join(lines) + "\n"
