"""data/templates/<scheme>.toml: each body's mail and document templates, as data.

One file per scheme, with `[mail]` (the sender) and `[mail.<event>]` (subject and body),
and `[documents.<kind>]` (title, wording, fields, issuer's signatory, seal image slot).
core.notify.templates and core.documents.templates check their sections; a problem names
the file and the key, as a bad configuration value does (core.config.ConfigError).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.config import ConfigError
from core.config.settings import SCHEME_CODES

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "data" / "templates"


@lru_cache(maxsize=4)
def _read(directory: str, stamp: tuple[float, ...]) -> dict[str, tuple[Path, dict[str, Any]]]:
    files = {}
    for code in SCHEME_CODES:
        path = Path(directory) / f"{code}.toml"
        try:
            files[code] = (path, tomllib.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"{path}: missing template file for {code}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return files


def files(directory: Path | None = None) -> dict[str, tuple[Path, dict[str, Any]]]:
    """scheme → (its file, the parsed TOML), re-read when a file changes."""
    folder = directory or TEMPLATES_DIR
    stamp = tuple(
        (folder / f"{c}.toml").stat().st_mtime if (folder / f"{c}.toml").exists() else 0.0
        for c in SCHEME_CODES
    )
    return _read(str(folder), stamp)
