"""The scheme registry: every scheme answers the same questions, and every declared setting is
read by the product (a setting nobody reads would mislead the admin who changes it)."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from core import config, schemes, vocabulary
from core.config.settings import BY_KEY, SETTINGS
from core.schemes.base import Reader

ROOT = Path(__file__).resolve().parent.parent
# production code: what runs for users (the demo generator is a tool, not the product)
PRODUCTION = [
    p
    for folder in ("core", "ui", "views")
    for p in (ROOT / folder).rglob("*.py")
    if "demo" not in p.relative_to(ROOT).parts
] + [ROOT / "app.py"]
READERS = {"value", "history", "read"}  # cfg.value(key, on), cfg.history(key), reader.read(key)
DAY = dt.date(2026, 12, 1)


def _pattern(node: ast.expr) -> tuple[str, re.Pattern[str]] | None:
    """A string (or f-string, its fields as one name each) as a pattern over keys."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, re.compile(f"^{re.escape(node.value)}$")
    if isinstance(node, ast.JoinedStr):
        literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if not re.search(r"[a-z]", str(literal)):
            return None  # all fields and dots: it names no key in particular
        parts = [
            re.escape(v.value) if isinstance(v, ast.Constant) else r"[a-z_]+" for v in node.values
        ]
        return ast.unparse(node), re.compile("^" + "".join(parts) + "$")
    return None


def _strings(*, readers_only: bool) -> list[tuple[Path, int, str, re.Pattern[str]]]:
    """Strings of production code that name a key: every string (`readers_only=False`, where a
    key may be built before it is read), or only the keys given to cfg.value / history /
    read (`readers_only=True`)."""
    found = []
    for path in PRODUCTION:
        if path == ROOT / "core" / "config" / "settings.py":
            continue  # the declarations themselves
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if readers_only:
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name not in READERS:
                    continue
                node = node.args[0]
            named = _pattern(node) if isinstance(node, ast.expr) else None
            if (
                named
                and "." in named[0]
                and not (isinstance(node, ast.Constant) and " " in named[0])
            ):
                found.append((path, node.lineno, *named))
    return found


def test_every_declared_setting_is_read_by_production_code():
    patterns = [p for *_, p in _strings(readers_only=False)]
    unread = [s.key for s in SETTINGS if not any(p.match(s.key) for p in patterns)]
    assert unread == [], "declared but read by nothing (remove them or use them)"


def test_every_key_the_code_reads_is_declared():
    undeclared = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path, line, text, pattern in _strings(readers_only=True)
        if not any(pattern.match(key) for key in BY_KEY)
    ]
    assert undeclared == []


@pytest.mark.parametrize("code", schemes.CODES)
def test_each_scheme_renewal_reads_only_declared_keys_and_its_query_exists(code):
    scheme = schemes.get(code)
    assert scheme.code == code
    keys = scheme.renewal_keys(config.current(), DAY)
    assert keys and all(k in BY_KEY and k.startswith(f"{code}.") for k in keys)
    assert (ROOT / "core" / "sql" / "renewals" / f"{scheme.renewal_relation}.sql").exists()


@pytest.mark.parametrize("code", schemes.CODES)
def test_each_scheme_names_every_item_it_taxes(code):
    scheme = schemes.get(code)
    taxed = set(config.current().value(f"{code}.tax_classes", DAY))
    assert taxed <= set(scheme.items), "a tax class for an item the scheme does not bill"
    assert all(label and not label.isascii() for label in scheme.items.values())


@pytest.mark.parametrize("code", schemes.CODES)
def test_each_scheme_kind_is_in_the_vocabulary_and_its_columns_have_labels(code):
    for kind, rule in schemes.get(code).kinds.items():
        assert kind in vocabulary.APPLICATION_KINDS
        assert all(column in vocabulary.APPLICATION_FIELDS for column in rule.columns)


@pytest.mark.parametrize(
    ("code", "day", "year"),
    [
        ("jptec", dt.date(2026, 3, 31), 2025),
        ("jptec", dt.date(2026, 4, 1), 2026),
        ("itc", dt.date(2026, 3, 31), 2025),  # itc.fiscal_year_starts = 04-01
        ("itc", dt.date(2026, 4, 1), 2026),
        ("saj", dt.date(2026, 7, 31), 2025),  # saj.season.starts = 08-01
        ("saj", dt.date(2026, 8, 1), 2026),
        ("teacher", dt.date(2027, 1, 15), 2026),
    ],
)
def test_the_year_of_each_scheme_turns_on_its_first_day(code, day, year):
    scheme = schemes.get(code)
    assert scheme.year(config.current(), day) == year
    assert scheme.year(config.current(), scheme.year_start(config.current(), year)) == year


def test_the_reasons_offered_come_from_the_schemes_configuration():
    cfg = config.current()
    teacher = schemes.get("teacher")
    assert teacher.reasons(cfg, "exemption", DAY) == dict(cfg.value("teacher.exempt_categories"))
    assert teacher.reason_label(cfg, "maternity", DAY) == "産前産後の休業"
    jptec = schemes.get("jptec")
    assert set(jptec.reasons(cfg, "extension", DAY)) == set(
        cfg.value("jptec.special_extension.reasons")
    )
    # a file may still give any of FORMATS.md's reasons
    assert "other" in jptec.accepted_reasons(cfg, "extension", DAY)
    assert schemes.get("itc").reasons(cfg, "transfer", DAY) == {}


def test_only_saj_erases_members_and_counts_erasures():
    assert [s.code for s in schemes.every() if "erase" in s.outcomes()] == ["saj"]


def test_an_unknown_scheme_is_named():
    with pytest.raises(ValueError, match="unknown scheme 'ski'"):
        schemes.get("ski")


def test_a_reader_remembers_each_key_once():
    reader = Reader(config.current(), DAY)
    reader.read("itc.fee")
    reader.read("itc.fee")
    assert reader.keys == ["itc.fee"]
