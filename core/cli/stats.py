"""Commands for analysts: renewal statistics, the next season's forecast, data-quality audits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from core.cli import AS_OF, DATE, DB_OPTION, cli, handled
from core.config.settings import SCHEME_CODES as SCHEMES

OUT_FILE = click.Path(dir_okay=False, path_type=Path)


@cli.command(name="audit-data")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help='Print [{"audit", "n"}] as JSON.')
@click.option("--name", default=None, help="One audit: write its rows to --out.")
@click.option("--out", type=OUT_FILE, default=None, help="File for --name: .csv, .parquet, .xlsx.")
@click.option("--masked", is_flag=True, help="Mask personal data in --out, as analysts see it.")
@handled
def audit_data(
    db_file: Path | None, as_json: bool, name: str | None, out: Path | None, masked: bool
) -> None:
    """Every data-quality audit with the number of rows it finds; --name writes one's rows.

    Audits: members without an organisation or outside their scheme's tree, postal codes of
    another prefecture, validity ending before it starts, one person under several member
    numbers, contact data shared across organisations (the 架空登録 signal).

    Example: python -m core audit-data --json
    Example: python -m core audit-data --name contact_shared_across_organizations --out shared.csv
    """
    from core.masking import mask_personal
    from core.stats import audits
    from core.store import db, exports

    if (name is None) != (out is None):
        raise ValueError("--name and --out go together")
    with db.connect(db_file, read_only=True) as con:
        if name is not None and out is not None:
            found = audits.rows(con, name)
            exports.write_frame(mask_personal(found) if masked else found, out)
            click.echo(f"{name}: wrote {found.height:,} rows to {out}")
            return
        counts = audits.counts(con)
    if as_json:
        click.echo(json.dumps(counts.to_dicts(), ensure_ascii=False))
        return
    for audit, n in counts.iter_rows():
        click.echo(f"{audit:40} {n:>10,}")


CONTRACT_KEYS = ("due", "renewed", "lapsed", "invalidated", "returned", "erased", "renewal_rate")


@cli.command()
@DB_OPTION
@click.option("--from", "start", type=DATE, required=True, help="First day of the period.")
@click.option("--to", "end", type=DATE, required=True, help="Last day of the period.")
@click.option(
    "--by",
    "dimension",
    type=click.Choice(
        ["scheme", "qualification", "prefecture", "org", "age_band", "month", "cohort"]
    ),
    default="scheme",
    show_default=True,
    help="Break the counts down by this (always per scheme too).",
)
@click.option("--scheme", "codes", multiple=True, type=click.Choice(SCHEMES), help="Only these.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON (FORMATS.md).")
@handled
def stats(
    db_file: Path | None,
    start: dt.datetime,
    end: dt.datetime,
    dimension: str,
    codes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Renewal outcomes that happened in the period, from the batch's history and the audit trail:
    due, renewed, lapsed, invalidated, returned, erased and the renewal rate per scheme.

    Example: python -m core stats --from 2026-04-01 --to 2027-03-31 --by prefecture --json
    """
    from core.stats import outcomes
    from core.store import db, migrations

    if end < start:
        raise ValueError("--to is before --from")
    period = outcomes.Period(start.date(), end.date(), codes or SCHEMES)
    with db.connect(db_file) as con:
        migrations.migrate(con)  # the run history's tables (renewal_outcomes)
        frame = outcomes.by(con, period, dimension)
    keys = ["scheme"] + ([] if dimension == "scheme" else [dimension])
    ordered = [*keys, *CONTRACT_KEYS]
    frame = frame.select(*ordered, *(c for c in frame.columns if c not in ordered))
    if as_json:
        click.echo(json.dumps(frame.to_dicts(), ensure_ascii=False, default=str))
        return
    click.echo(f"renewal outcomes {period.start} to {period.end}")
    for record in frame.iter_rows(named=True):
        rate = record["renewal_rate"]
        click.echo(
            "  ".join(str(record[k]) for k in keys)
            + f"  due {record['due']:,}  renewed {record['renewed']:,}"
            f"  lapsed {record['lapsed']:,}  invalidated {record['invalidated']:,}"
            f"  returned {record['returned']:,}  erased {record['erased']:,}"
            f"  rate {'-' if rate is None else f'{rate:.1%}'}"
        )


@cli.command()
@DB_OPTION
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print the totals per scheme as JSON.")
@click.option("--out", type=OUT_FILE, default=None, help="Write the members at risk here.")
@click.option("--keep", is_flag=True, help="Keep the forecast (as the page does, once a day).")
@handled
def forecast(
    db_file: Path | None, as_of: dt.datetime | None, as_json: bool, out: Path | None, keep: bool
) -> None:
    """The next cycle per scheme: qualifications due, expected renewals, lapses and fee income,
    from each member's progress toward the requirements; --out lists the members at risk.

    Example: python -m core forecast --json --out at_risk.csv
    """
    from core.stats import forecast as expected
    from core.stats import forecast_report
    from core.store import db, exports, migrations

    day = as_of.date() if as_of else dt.date.today()
    with db.connect(db_file) as con:
        migrations.migrate(con)  # the kept forecasts it learns from (forecast_items)
        made = expected.compute(con, day)
        if keep:
            expected.keep(con, made, actor="cli:forecast")
        totals = forecast_report.summary(con, made, "scheme")
        risky = forecast_report.at_risk(con, made) if out is not None else None
    if risky is not None and out is not None:
        exports.write_frame(
            risky.select("member_no", "scheme", "qualification", "missing", "deadline",
                         "missing_words", "p_renew"),
            out,
        )  # fmt: skip
    rows = totals.to_dicts()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        click.echo(f"forecast as of {day} for validities ending before {made.horizon_end}")
        for r in rows:
            click.echo(
                f"{r['scheme']:8} due {r['due']:>9,}  renewals {r['expected_renewals']:>11,.1f}"
                f"  lapses {r['expected_lapses']:>10,.1f}  income {r['expected_income']:>14,} yen"
            )
    if risky is not None:
        click.echo(f"wrote {risky.height:,} members at risk to {out}", err=as_json)
