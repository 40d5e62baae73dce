"""Document templates per scheme: `[documents.<kind>]` of data/templates/<scheme>.toml.

A template says which qualifications get the document (`membership` for a season's member
card, `course` for a course reservation's application form), whether it waits for the fee (`requires_paid`: no open line for the qualification or
the season), whether the holder chooses to have it posted (`posting_choice`, JSPO), the
number's prefix, and its wording: title and lead (placeholders `{qualification}`, `{season}`,
`{renewal_year}`), the fields printed (FIELDS), the closing line, the signatory and the seal
image (a PNG path relative to the project, or "" for none). Code draws every kind the same
way (core.documents.certificates); a new kind is a new section, not new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from core import templates
from core.config import ConfigError
from core.store.db import ROOT

MEMBERSHIP = "membership"  # the qualification list entry of a season's membership card
COURSE = "course"  # the qualification list entry of a course reservation's application form
# The fields a document may print, code → label (the order is the template's)
FIELDS = {
    "holder": "氏名",
    "holder_kana": "フリガナ",
    "member_no": "会員番号",
    "qualification": "資格",
    "certificate_no": "認定番号",
    "validity": "有効期間",
    "valid_until": "資格有効期限",
    "org": "所属",
    "season": "年度",
    "held": "登録資格",
    "course": "講習名",
    "course_code": "講習番号",
    "course_held_on": "開講日",
    "course_hours": "時間数",
    "course_fee": "受講料（教材費を含む）",
    "reserved_on": "申込予約日",
    "form_due": "提出期限",
    "applicant_category": "受講対象者の区分",
    "certifier": "証明者の職・氏名",
    "certifier_seal": "証明者の印",
}
WORDING_PLACEHOLDERS = ("qualification", "season", "renewal_year")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
_KEYS = {
    "title": str, "qualifications": list, "requires_paid": bool, "posting_choice": bool,
    "number_prefix": str, "lead": str, "fields": list, "closing": str, "signatory": str,
    "seal": str,
}  # fmt: skip


@dataclass(frozen=True)
class DocTemplate:
    scheme: str
    kind: str
    title: str
    qualifications: tuple[str, ...]
    requires_paid: bool
    posting_choice: bool
    number_prefix: str
    lead: str
    fields: tuple[str, ...]
    closing: str
    signatory: str
    seal: Path | None


def _check(path: Path, kind: str, entry: object, qualifications: set[str]) -> dict[str, object]:
    where = f"{path}: documents.{kind}"
    if not isinstance(entry, dict) or set(entry) != set(_KEYS):
        found = set(entry) if isinstance(entry, dict) else set()
        problem = sorted(set(_KEYS) - found) or sorted(found - set(_KEYS))
        raise ConfigError(f"{where}: expected the keys {', '.join(_KEYS)} (check {problem})")
    for key, kind_of in _KEYS.items():
        if not isinstance(entry[key], kind_of):
            raise ConfigError(f"{where}.{key}: expected {kind_of.__name__}, got {entry[key]!r}")
    for key in ("title", "lead", "closing"):
        for name in _PLACEHOLDER.findall(str(entry[key])):
            if name not in WORDING_PLACEHOLDERS:
                raise ConfigError(f"{where}.{key}: unknown placeholder {{{name}}}")
    unknown = [f for f in entry["fields"] if f not in FIELDS]
    if unknown:
        raise ConfigError(f"{where}.fields: unknown field {unknown[0]!r}; use {', '.join(FIELDS)}")
    strange = [q for q in entry["qualifications"] if q not in qualifications]
    if strange or not entry["qualifications"]:
        raise ConfigError(f"{where}.qualifications: unknown qualification {strange[:1]}")
    seal = str(entry["seal"])
    if seal and not (ROOT / seal).is_file():
        raise ConfigError(f"{where}.seal: no image file {seal}")
    return entry


def load(directory: Path | None = None) -> dict[tuple[str, str], DocTemplate]:
    """(scheme, kind) → template, checked; ConfigError names the file and the key."""
    from core import config
    from core.vocabulary import DOCUMENT_KINDS

    cfg = config.current()
    found = {}
    for scheme, (path, table) in templates.files(directory).items():
        known = {*cfg.value(f"{scheme}.qualifications"), MEMBERSHIP, COURSE}
        for kind, raw in table.get("documents", {}).items():
            if kind not in DOCUMENT_KINDS or kind in ("invoice", "receipt"):
                raise ConfigError(f"{path}: documents.{kind}: unknown document kind")
            entry = _check(path, kind, raw, known)
            seal = str(entry["seal"])
            found[(scheme, kind)] = DocTemplate(
                scheme=scheme,
                kind=kind,
                title=str(entry["title"]),
                qualifications=tuple(entry["qualifications"]),  # type: ignore[arg-type]
                requires_paid=bool(entry["requires_paid"]),
                posting_choice=bool(entry["posting_choice"]),
                number_prefix=str(entry["number_prefix"]),
                lead=str(entry["lead"]),
                fields=tuple(entry["fields"]),  # type: ignore[arg-type]
                closing=str(entry["closing"]),
                signatory=str(entry["signatory"]),
                seal=ROOT / seal if seal else None,
            )
    return found


def frame(found: dict[tuple[str, str], DocTemplate]) -> pl.DataFrame:
    """One row per scheme, kind and qualification: what the availability query joins."""
    rows = [
        (t.scheme, t.kind, q, t.requires_paid, t.number_prefix)
        for t in found.values()
        for q in t.qualifications
    ]
    return pl.DataFrame(
        rows,
        schema={"scheme": pl.String, "kind": pl.String, "qualification": pl.String,
                "requires_paid": pl.Boolean, "number_prefix": pl.String},
        orient="row",
    )  # fmt: skip


def wording(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)
