"""The five renewal schemes, one module each, found through this registry.

- jptec.py   JPTEC instructors, pre-instructors and providers (seed 000)
- itc.py     ITC coordinators: a yearly renewal with practical points (seed 001)
- jspo.py    JSPO coach licences (seed 002)
- saj.py     SAJ membership through prefectural federations and clubs (seed 003)
- teacher.py teacher licence renewal courses (seed 004)

Each module holds what its body does differently — its renewal query and the configuration
it reads, its billing items, the application kinds it accepts and what each needs, its
reasons, its year, its approval chain and what an approval changes — behind the interface
of `core.schemes.base.Scheme`. The batch, explain, the what-if, the application form and
import, billing and the pages ask the registry and name no scheme themselves.

Importing this package is cheap: a scheme module is imported when it is first asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from core.config.settings import SCHEME_CODES

if TYPE_CHECKING:
    from core.schemes.base import Scheme

CODES = SCHEME_CODES  # one module each, with one configuration file each


def get(code: str) -> Scheme:
    """The scheme with this code; ValueError names the codes there are."""
    if code not in CODES:
        raise ValueError(f"unknown scheme {code!r}; choose one of {', '.join(CODES)}")
    scheme: Scheme = importlib.import_module(f"core.schemes.{code}").SCHEME
    return scheme


def every() -> Iterator[Scheme]:
    """Every scheme, in the order of CODES."""
    for code in CODES:
        yield get(code)
