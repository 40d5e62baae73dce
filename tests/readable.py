"""What a page shows people, read back from AppTest: its tables under their headers, and the
check that nothing of the machine shows through — no codes of the vocabularies, no None,
True or False, no English headers."""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from core import config, schemes, vocabulary

ENGLISH = re.compile(r"[A-Za-z]{3,}")
CODE = re.compile(r"[a-z][a-z_]{2,}")
# columns of names people chose (a user called "admin", a row key that is a user name)
IDENTIFIERS = frozenset({"実施者", "キー", "ユーザーID", "処理者", "差戻し者", "参照番号"})


def _codes() -> frozenset[str]:
    """Every code staff must never read: the keys of each vocabulary, the schemes' items,
    qualifications, reasons, payment methods and point categories."""
    found: set[str] = set()
    for value in vars(vocabulary).values():
        if isinstance(value, dict):
            found.update(k for k in value if isinstance(k, str))
    cfg = config.current()
    for scheme in schemes.every():
        found.update(scheme.items)
        found.update(scheme.activity_kinds)
        found.update(cfg.value(f"{scheme.code}.qualifications"))
        found.update(cfg.value(f"{scheme.code}.send_back_reasons"))
    found.update(cfg.value("common.payment_methods"))
    found.update(cfg.value("itc.points.categories"))
    found.update(schemes.CODES)
    return frozenset(c for c in found if CODE.fullmatch(c))


CODES = _codes()


def labelled(element: Any) -> pd.DataFrame:
    """A table as people see it: the visible columns under their headers."""
    configs = json.loads(element.proto.columns or "{}")
    frame = element.value
    hidden = [c for c, v in configs.items() if v.get("hidden") and c in frame.columns]
    frame = frame.drop(columns=hidden)
    return frame.rename(
        columns={c: (configs.get(c) or {}).get("label") or c for c in frame.columns}
    )


def problems(at: AppTest) -> list[str]:
    """What a person would stumble over in the tables and texts of a page, in words."""
    found = []
    for n, element in enumerate(at.dataframe):
        frame = labelled(element)
        where = f"table {n}"
        for header in frame.columns:
            if not re.search(r"[^\x00-\x7f]", str(header)):
                found.append(f"{where}: header {header!r} is not Japanese")
        if element.proto.editing_mode == 0 and element.proto.placeholder != "—":
            found.append(f"{where}: empty cells would read None")
        for header in frame.columns:
            column = frame[header]
            if column.dtype == bool:
                found.append(f"{where}/{header}: True/False")
                continue
            for value in column.dropna().unique().tolist():
                text = str(value)
                if text in CODES and header not in IDENTIFIERS:
                    found.append(f"{where}/{header}: raw code {text!r}")
                elif text in ("None", "True", "False", "nan", "NaN"):
                    found.append(f"{where}/{header}: {text}")
    texts = [
        *(m.value for m in at.markdown),
        *(c.value for c in at.caption),
        *(m.value for m in at.metric),
        *(m.label for m in at.metric),
        *(w.label for w in [*at.button, *at.selectbox, *at.text_input, *at.radio]),
        *(e.value for e in [*at.info, *at.warning, *at.error, *at.success]),
        *(str(o) for s in [*at.selectbox, *at.multiselect, *at.radio] for o in s.options),
    ]
    for text in texts:
        for word in re.findall(r"\b(None|True|False|nan)\b", str(text)):
            found.append(f"text {str(text)[:60]!r}: {word}")
        for word in re.findall(r"[a-z][a-z_]{2,}", str(text)):
            if word in CODES and "_" in word:
                found.append(f"text {str(text)[:60]!r}: raw code {word!r}")
    return found
