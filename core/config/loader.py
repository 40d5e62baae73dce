"""Scheme configuration: load data/schemes/*.toml, validate, answer "value of X on date D".

A value is either plain (`min_courses_taught = 2`) or effective-dated, a list of
`{from = 2023-10-01, value = 700}` tables: the value on a date is the one with the
latest `from` not after it. Code asks ``config.value("jptec.non_card_handling_fee",
on=day)`` and never compares dates itself.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.config.settings import BY_KEY, CONFIG_FILES, SETTINGS, Setting

SCHEMES_DIR = Path(__file__).resolve().parents[2] / "data" / "schemes"
_EPOCH = dt.date(1900, 1, 1)
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_REGISTRATION_NO = re.compile(r"^T\d{13}$")


TAX_CLASSES = ("taxable", "non_taxable", "out_of_scope")  # 課税 / 非課税 / 不課税


class ConfigError(ValueError):
    """A configuration file breaks a declaration; the message names the file and the key."""


@dataclass(frozen=True)
class Dated:
    """One effective-dated value: in force from `start` until the next one's start."""

    start: dt.date
    value: Any


@dataclass(frozen=True)
class Config:
    """All schemes' validated configuration."""

    values: dict[str, tuple[Dated, ...]]
    files: dict[str, Path]

    def value(self, key: str, on: dt.date | None = None) -> Any:
        """The value of `key` in force on `on` (default today)."""
        if key not in self.values:
            raise KeyError(f"unknown configuration key {key!r}")
        day = on or dt.date.today()
        current = None
        for dated in self.values[key]:
            if dated.start <= day:
                current = dated
        if current is None:
            raise KeyError(f"{key} has no value in force on {day.isoformat()}")
        return current.value

    def history(self, key: str) -> tuple[Dated, ...]:
        """Every value `key` has had, oldest first."""
        return self.values[key]

    def scheme_name(self, scheme: str) -> str:
        return str(self.value(f"{scheme}.name"))

    def qualification_label(self, scheme: str, qualification: str) -> str:
        labels: dict[str, str] = self.value(f"{scheme}.qualifications")
        return labels.get(qualification, qualification)

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """A copy where each key in `overrides` has that one value on every date (what-if).

        Each value is checked against its declaration; ConfigError names the key.
        """
        values = dict(self.values)
        for key, raw in overrides.items():
            setting = BY_KEY.get(key)
            if setting is None:
                raise ConfigError(f"what-if: {key}: unknown key")
            values[key] = (Dated(_EPOCH, _check(setting, raw, "what-if")),)
        return Config(values, self.files)

    def snapshot(self, prefix: str, on: dt.date) -> list[dict[str, Any]]:
        """Rows for the admin page: every key of one file with its value on `on`."""
        rows = []
        for setting in SETTINGS:
            if not setting.key.startswith(prefix + "."):
                continue
            history = self.values[setting.key]
            in_force = [d for d in history if d.start <= on]
            rows.append(
                {
                    "key": setting.key,
                    "help": setting.help,
                    "value": in_force[-1].value if in_force else None,
                    "unit": setting.unit,
                    "in_force_from": in_force[-1].start if in_force else None,
                    "changes": len(history),
                }
            )
        return rows


def _flatten(table: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Nested TOML tables become dotted keys, except where a declaration stops them."""
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict) and key not in BY_KEY:
            flat.update(_flatten(value, key))
        else:
            flat[key] = value
    return flat


def _check(setting: Setting, raw: Any, where: str) -> Any:
    """Convert one raw TOML value to the declared type or raise ConfigError."""

    def fail(expected: str) -> ConfigError:
        return ConfigError(f"{where}: {setting.key}: expected {expected}, got {raw!r}")

    kind = setting.type
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise fail("a whole number")
        if raw < 0:
            raise fail("a number ≥ 0")
        return raw
    if kind == "decimal":
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
            raise fail("a number")
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            raise fail("a number") from None
        if number < 0:
            raise fail("a number ≥ 0")
        return number
    if kind == "str":
        if not isinstance(raw, str) or not raw.strip():
            raise fail("a non-empty text")
        return raw
    if kind == "text":  # may be empty ("" = none)
        if not isinstance(raw, str):
            raise fail("a text (may be empty)")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise fail("true or false")
        return raw
    if kind == "date":
        if not isinstance(raw, dt.date) or isinstance(raw, dt.datetime):
            raise fail("a date such as 2022-07-01")
        return raw
    if kind == "month_day":
        if not isinstance(raw, str) or not _MONTH_DAY.match(raw):
            raise fail('a month and day such as "05-31"')
        return raw
    if kind == "time":
        if not isinstance(raw, str) or not _TIME.match(raw):
            raise fail('a time such as "13:00"')
        return raw
    if kind == "registration_no":
        if not isinstance(raw, str) or not (raw == "" or _REGISTRATION_NO.match(raw)):
            raise fail('"T" and 13 digits such as "T1234567890123", or "" for none')
        return raw
    if kind == "list":
        if not isinstance(raw, list) or not raw:
            raise fail("a non-empty list")
        return tuple(raw)
    if kind == "bands":
        return _bands(setting, raw, where)
    if kind == "reasons":  # labels that may be empty: an empty table means "never"
        if not isinstance(raw, dict):
            raise fail("a table of code = label (empty for none)")
        for code, label in raw.items():
            if not isinstance(label, str) or not label:
                raise ConfigError(f"{where}: {setting.key}.{code}: expected a label, got {label!r}")
        return dict(raw)
    if kind == "tax_classes":  # billing item code -> taxable | non_taxable | out_of_scope
        if not isinstance(raw, dict):
            raise fail("a table of item = tax class")
        for code, tax in raw.items():
            if tax not in TAX_CLASSES:
                raise ConfigError(
                    f"{where}: {setting.key}.{code}: expected one of {', '.join(TAX_CLASSES)},"
                    f" got {tax!r}"
                )
        return dict(raw)
    if kind == "labels":
        if not isinstance(raw, dict) or not raw:
            raise fail("a table of code = label")
        for code, label in raw.items():
            if not isinstance(label, str) or not label:
                raise ConfigError(f"{where}: {setting.key}.{code}: expected a label, got {label!r}")
        return dict(raw)
    if kind in ("records", "reminders"):  # reminders: records that may be none ({})
        if not isinstance(raw, dict) or (not raw and kind == "records"):
            raise fail("a table of records")
        records = {}
        for code, record in raw.items():
            if not isinstance(record, dict):
                raise ConfigError(f"{where}: {setting.key}.{code}: expected a table")
            missing = set(setting.fields) - set(record)
            extra = set(record) - set(setting.fields)
            if missing or extra:
                problem = f"missing {sorted(missing)}" if missing else f"unknown {sorted(extra)}"
                raise ConfigError(f"{where}: {setting.key}.{code}: {problem}")
            records[code] = {
                name: _check(
                    Setting(f"{setting.key}.{code}.{name}", ftype, ""), record[name], where
                )
                for name, ftype in setting.fields.items()
            }
        return records
    raise AssertionError(f"undeclared type {kind}")


def _bands(setting: Setting, raw: Any, where: str) -> tuple[dict[str, int], ...]:
    """Fee bands: a list (maybe empty) of {up_to, fee}, up_to strictly ascending."""
    if not isinstance(raw, list):
        raise ConfigError(
            f"{where}: {setting.key}: expected a list of {{up_to = yen, fee = yen}}, got {raw!r}"
        )
    bands = []
    previous = -1
    for number, band in enumerate(raw, start=1):
        if not isinstance(band, dict) or set(band) != {"up_to", "fee"}:
            raise ConfigError(f"{where}: {setting.key}[{number}]: expected {{up_to, fee}}")
        up_to, fee = band["up_to"], band["fee"]
        for name, value in (("up_to", up_to), ("fee", fee)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(
                    f"{where}: {setting.key}[{number}].{name}: expected a whole number ≥ 0,"
                    f" got {value!r}"
                )
        if up_to <= previous:
            raise ConfigError(f"{where}: {setting.key}[{number}]: up_to must be ascending")
        previous = up_to
        bands.append({"up_to": up_to, "fee": fee})
    return tuple(bands)


def _is_dated(raw: Any) -> bool:
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(item, dict) and set(item) == {"from", "value"} for item in raw)
    )


def _dated(setting: Setting, raw: Any, where: str) -> tuple[Dated, ...]:
    if not _is_dated(raw):
        return (Dated(_EPOCH, _check(setting, raw, where)),)
    entries = []
    for item in raw:
        start = item["from"]
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise ConfigError(f"{where}: {setting.key}: 'from' must be a date, got {start!r}")
        entries.append(Dated(start, _check(setting, item["value"], where)))
    starts = [e.start for e in entries]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise ConfigError(f"{where}: {setting.key}: 'from' dates must be distinct and ascending")
    return tuple(entries)


def load(directory: Path | None = None) -> Config:
    """Read and validate every configuration file; raise ConfigError on the first problem."""
    folder = directory or SCHEMES_DIR
    values: dict[str, tuple[Dated, ...]] = {}
    files: dict[str, Path] = {}
    for code in CONFIG_FILES:
        path = folder / f"{code}.toml"
        if not path.exists():
            raise ConfigError(f"{path}: missing configuration file for {code}")
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        files[code] = path
        flat = _flatten(table, code)
        for key, raw in flat.items():
            setting = BY_KEY.get(key)
            if setting is None:
                raise ConfigError(
                    f"{path}: {key}: unknown key (not declared in core/config_settings.py)"
                )
            values[key] = _dated(setting, raw, str(path))
        for setting in SETTINGS:
            if setting.key.startswith(code + ".") and setting.key not in values:
                raise ConfigError(f"{path}: {setting.key}: missing")
    return Config(values, files)


@lru_cache(maxsize=4)
def _cached(directory: str, stamp: tuple[float, ...]) -> Config:
    return load(Path(directory))


def files(directory: Path | None = None) -> Config:
    """The configuration files alone, reloaded when a file under data/schemes changes."""
    folder = directory or SCHEMES_DIR
    stamp = tuple(
        (folder / f"{c}.toml").stat().st_mtime
        for c in CONFIG_FILES
        if (folder / f"{c}.toml").exists()
    )
    return _cached(str(folder), stamp)


def current(directory: Path | None = None) -> Config:
    """The configuration in force: the files (reloaded when one changes) with the edits made
    in the app laid over them (core.config.edits, for the database last opened)."""
    from core.config import edits

    return edits.effective(files(directory))
