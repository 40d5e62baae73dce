"""Commands for the configuration: the files in force with the app's edits, written out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from core.cli import DB_OPTION, cli, handled


@cli.command(name="config-export")
@DB_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the six files (jptec.toml … common.toml).",
)
@handled
def config_export(db_file: Path | None, out: Path) -> None:
    """Write the configuration in force — data/schemes with the edits made in the app — as
    TOML files a deployment can start from (docs/configuration.md).

    Example: python -m core config-export --out exported-schemes
    """
    from core import config
    from core.config import edits, loader, toml_out
    from core.config.settings import CONFIG_FILES
    from core.store import db

    with db.connect(db_file, read_only=True) as con:
        changed = edits.approved(con)
        conflicts = edits.conflicts(loader.files(), changed)
        cfg = config.current()
    out.mkdir(parents=True, exist_ok=True)
    today = dt.date.today().isoformat()
    for code in CONFIG_FILES:
        header = (
            f"{cfg.value(f'{code}.name')}: the configuration in force, written {today}\n"
            "by config-export: data/schemes with the edits made in the app."
        )
        (out / f"{code}.toml").write_text(toml_out.file_text(cfg, code, header), encoding="utf-8")
    edited = len({c.key for c in changed if c.kind == "set"})
    click.echo(
        f"wrote {len(CONFIG_FILES)} files to {out}; {edited} keys carry edits made in the app"
    )
    for state in conflicts:
        click.echo(
            f"conflict: {state.key} changed in the file after it was edited in the app;"
            " the app's values are written (resolve it on 制度設定)",
            err=True,
        )
