"""The next season's forecast (次期更新見込み): who is likely to renew, lapse, and what it brings in.

For every qualification (and SAJ membership) whose validity ends within the horizon
(`common.forecast.horizon_months`), the batch's own requirements relation is evaluated as of
the horizon's end over the data recorded so far: what each member has done toward the next
decision (courses taught, points, trainings, hours, registrations, fees paid) and what is still
missing, by when. Items are grouped by their *state* — the requirements still missing, with
the size of a numeric gap (「指導実績 あと1回」 vs 「あと2回」), and for a membership how many of the
last three seasons the member registered for — and by the months left before the validity
ends. The chance of renewing is what members in the same state, as long before, did in the
past: learned from earlier forecasts whose cycles the batch has since decided, with each level
shrunk toward the coarser one (state without months, then the qualification's own renewal
rate), so a rare state borrows from its neighbours. Expected renewals are the sum of the
chances; expected income the chances times the fee a renewal bills (the batch's renewal fee,
or for a season-billed scheme the season's billing per registered member).

A forecast is kept (forecast_runs, forecast_items, forecast_gaps) once a day, so it can be
back-tested: `backtest` compares what past forecasts expected with what the batch then did.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from core import config
from core.billing import season as season_billing
from core.members.organizations import scope_path
from core.renewals import batch
from core.store import db, queries

CONCEPT = "stats"
SHRINK = 10  # pseudo-observations a level borrows from the coarser one
FALLBACK_RATE = 0.85  # the chance assumed before the batch has decided anything (assumptions.md)
KEY = ["qualification_id", "member_no", "scheme", "qualification", "valid_until"]
MEMBERSHIP = batch.MEMBERSHIP
ITEM_COLUMNS = [
    "qualification_id", "member_no", "scheme", "qualification", "valid_until", "org_code",
    "prefecture", "state", "months_to_end", "p_renew", "fee", "missing", "deadline",
]  # fmt: skip
GAP_COLUMNS = [
    "qualification_id", "member_no", "scheme", "qualification", "valid_until", "code", "label",
    "required", "actual", "deadline",
]  # fmt: skip


@dataclass(frozen=True)
class Forecast:
    made_on: dt.date
    horizon_end: dt.date
    items: pl.DataFrame  # one row per qualification due (ITEM_COLUMNS)
    gaps: pl.DataFrame  # one row per requirement still missing (GAP_COLUMNS)


def horizon(made_on: dt.date, cfg: config.Config) -> dt.date:
    months = int(cfg.value("common.forecast.horizon_months", on=made_on))
    total = made_on.year * 12 + made_on.month - 1 + months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(made_on.day, 28))


def _bucket(months: pl.Expr) -> pl.Expr:
    """Months left, in the steps a renewal's chances change by: 0, 1–2, 3–5, 6–11, 12+."""
    return (
        pl.when(months <= 0)
        .then(0)
        .when(months <= 2)
        .then(1)
        .when(months <= 5)
        .then(3)
        .when(months <= 11)
        .then(6)
        .otherwise(12)
    )


def _state(gaps: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Each item's state: its missing requirements, sorted, a numeric gap marked by its size
    against the requirement (:1 a third or less, :2 two thirds or less, :3 more)."""
    marked = gaps.with_columns(
        pl.when(pl.col("required").cast(pl.Float64) > 1)
        .then(
            pl.col("code")
            + ":"
            + (
                (pl.col("required").cast(pl.Float64) - pl.col("actual").cast(pl.Float64)).abs()
                / pl.col("required").cast(pl.Float64)
                * 3
            )
            .ceil()
            .clip(1, 3)
            .cast(pl.Int64)
            .cast(pl.String)
        )
        .otherwise(pl.col("code"))
        .alias("mark")
    )
    states = marked.group_by(KEY).agg(
        pl.col("mark").sort().str.join("|").alias("state"),
        pl.col("code").sort().alias("missing"),
        pl.col("deadline").min().alias("deadline"),
    )
    joined = items.join(states, on=KEY, how="left", nulls_equal=True)
    return joined.with_columns(
        pl.col("state").fill_null(""),
        pl.col("missing").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )


def _seasons(
    con: duckdb.DuckDBPyConnection, made_on: dt.date, memberships: pl.DataFrame
) -> pl.DataFrame:
    """For members whose membership is due: how many of the last three seasons they registered
    for (the SAJ registrations of the last seasons)."""
    with db.registered(con, due_memberships=memberships):
        return db.frame(
            con,
            """
            SELECT a.member_no, count(DISTINCT a.season) AS seasons
            FROM applications a SEMI JOIN due_memberships USING (member_no)
            WHERE a.kind IN ('season_registration', 'new_registration')
              AND a.status = 'approved'
              AND a.submitted_at < $made_on::DATE + INTERVAL 1 DAY
              AND a.season > year($made_on::DATE) - 3
            GROUP BY a.member_no
            """,
            {"made_on": made_on},
        )


def _season_fees(
    con: duckdb.DuckDBPyConnection, cfg: config.Config, made_on: dt.date
) -> pl.DataFrame:
    """For the schemes billed by season: the last season's billing per registered member."""
    rows = []
    for owner in season_billing.season_schemes():
        last = owner.year(cfg, made_on)
        found = db.one(
            con,
            """
            SELECT coalesce(sum(b.amount), 0), count(DISTINCT b.member_no)
            FROM billing b
            WHERE b.scheme = $scheme AND b.season = $season AND b.status <> 'cancelled'
              AND b.issued_on <= $made_on
            """,
            {"scheme": owner.code, "season": last, "made_on": made_on},
        )
        billed, members = (int(found[0]), int(found[1])) if found else (0, 0)
        rows.append((owner.code, billed // members if members else 0))
    return pl.DataFrame(rows, schema={"scheme": pl.String, "season_fee": pl.Int64}, orient="row")


def compute(
    con: duckdb.DuckDBPyConnection, made_on: dt.date, *, cfg: config.Config | None = None
) -> Forecast:
    """The forecast as of `made_on` over the data recorded so far (nothing written)."""
    settings = cfg or config.current()
    end = horizon(made_on, settings)
    rows = batch.requirements(con, end, cfg=settings)
    empty = Forecast(made_on, end, pl.DataFrame(schema=ITEM_COLUMNS), pl.DataFrame())
    if rows.is_empty():
        return empty
    rows = rows.filter(
        (pl.col("decision") != "none")
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") < end))
    )
    if rows.is_empty():
        return empty
    due = batch.decisions(rows)
    with db.registered(con, due_members=due.select("member_no").unique()):
        places = db.frame(
            con,
            "SELECT m.member_no, m.org_code, coalesce(o.prefecture, m.prefecture) AS prefecture"
            " FROM members m SEMI JOIN due_members USING (member_no)"
            " LEFT JOIN organizations o USING (org_code)",
        )
    gaps = rows.filter(~pl.col("met").fill_null(False)).select(
        *KEY, "code", "label", "required", "actual",
        # by when: a requirement of the next period (registering, its fee) before this one
        # ends; one of this period by its own end, at most a month after the validity's
        pl.when(pl.col("period_from") > pl.col("valid_until"))
        .then(pl.col("valid_until"))
        .otherwise(
            pl.min_horizontal(
                pl.coalesce("period_to", "valid_until"),
                pl.col("valid_until") + pl.duration(days=30),
            )
        )
        .alias("deadline"),
    )  # fmt: skip
    items = _state(gaps, due.select(*KEY, "fee_amount").join(places, on="member_no", how="left"))
    memberships = due.filter(pl.col("qualification") == MEMBERSHIP).select("member_no")
    seasons = _seasons(con, made_on, memberships)
    items = items.join(seasons, on="member_no", how="left").with_columns(
        pl.when(pl.col("qualification") == MEMBERSHIP)
        .then(
            pl.concat_str(
                pl.col("state"), pl.lit("|seasons:"), pl.col("seasons").fill_null(0).cast(pl.String)
            )
        )
        .otherwise(pl.col("state"))
        .alias("state"),
        pl.when(pl.col("valid_until").is_null())
        .then(0)
        .otherwise(  # whole months from made_on to the validity end
            pl.col("valid_until").dt.year() * 12
            + pl.col("valid_until").dt.month()
            - (made_on.year * 12 + made_on.month)
            - (pl.col("valid_until").dt.day() < made_on.day).cast(pl.Int32)
        )
        .clip(0, None)
        .cast(pl.Int32)
        .alias("months_to_end"),
    )
    items = _with_chances(con, items, made_on, settings)
    items = _with_fees(con, items, made_on, settings)
    return Forecast(made_on, end, items.select(ITEM_COLUMNS), gaps.select(GAP_COLUMNS))


def rates(
    con: duckdb.DuckDBPyConnection, made_on: dt.date, cfg: config.Config
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """What was learned by `made_on`: (priors per scheme and qualification, counts per state,
    counts per state and months bucket) — renewed and decided items of earlier forecasts."""
    months = int(cfg.value("common.forecast.learning_months", on=made_on))
    since = made_on - dt.timedelta(days=31 * months)
    priors = db.frame(
        con,
        """
        SELECT scheme, qualification,
               count(*) FILTER (WHERE decision = 'extend') AS renewed, count(*) AS decided
        FROM renewal_outcomes
        WHERE decision <> 'open_fee' AND qualification <> $membership
          AND as_of < $made_on AND as_of >= $since
        GROUP BY ALL
        UNION ALL
        -- memberships: last season's members who registered again
        SELECT a.scheme, $membership, count(DISTINCT n.member_no), count(DISTINCT a.member_no)
        FROM applications a
        LEFT JOIN applications n
            ON n.member_no = a.member_no AND n.scheme = a.scheme AND n.season = a.season + 1
           AND n.submitted_at < $made_on::DATE AND n.status <> 'rejected'
        WHERE a.kind = 'season_registration' AND a.status = 'approved'
          AND a.season = (SELECT max(season) - 1 FROM applications
                          WHERE kind = 'season_registration' AND status = 'approved'
                            AND submitted_at < $made_on::DATE)
        GROUP BY a.scheme
        """,
        {"made_on": made_on, "since": since, "membership": MEMBERSHIP},
    ).with_columns(
        pl.when(pl.col("decided") > 0)
        .then(pl.col("renewed") / pl.col("decided"))
        .otherwise(FALLBACK_RATE)
        .alias("prior")
    )
    by_bucket = db.frame(
        con,
        f"""
        SELECT scheme, qualification, state,
               CASE WHEN months_to_end <= 0 THEN 0 WHEN months_to_end <= 2 THEN 1
                    WHEN months_to_end <= 5 THEN 3 WHEN months_to_end <= 11 THEN 6
                    ELSE 12 END AS bucket,
               count(*) AS n2, count(*) FILTER (WHERE renewed) AS r2
        FROM ({queries.query(CONCEPT, "forecast_settled")})
        GROUP BY ALL
        """,
        {"as_of": made_on, "since": since},
    ).with_columns(pl.col("bucket").cast(pl.Int32))  # the steps of _bucket
    by_state = by_bucket.group_by("scheme", "qualification", "state").agg(
        pl.col("n2").sum().alias("n1"), pl.col("r2").sum().alias("r1")
    )
    return priors.select("scheme", "qualification", "prior"), by_state, by_bucket


def _with_chances(
    con: duckdb.DuckDBPyConnection, items: pl.DataFrame, made_on: dt.date, cfg: config.Config
) -> pl.DataFrame:
    priors, by_state, by_bucket = rates(con, made_on, cfg)
    k = float(SHRINK)
    return (
        items.with_columns(_bucket(pl.col("months_to_end")).alias("bucket"))
        .join(priors, on=["scheme", "qualification"], how="left")
        .join(by_state, on=["scheme", "qualification", "state"], how="left")
        .join(by_bucket, on=["scheme", "qualification", "state", "bucket"], how="left")
        .with_columns(pl.col("prior").fill_null(FALLBACK_RATE))
        .with_columns(
            (
                (pl.col("r1").fill_null(0) + k * pl.col("prior")) / (pl.col("n1").fill_null(0) + k)
            ).alias("p_state")
        )
        .with_columns(
            ((pl.col("r2").fill_null(0) + k * pl.col("p_state")) / (pl.col("n2").fill_null(0) + k))
            .round(4)
            .alias("p_renew")
        )
    )


def _with_fees(
    con: duckdb.DuckDBPyConnection, items: pl.DataFrame, made_on: dt.date, cfg: config.Config
) -> pl.DataFrame:
    """The fee a renewal bills: the item's own (when the relation already bills it), else what
    the same qualification's renewals bill now, else what they billed in the run history; for
    a season-billed membership, the last season's billing per registered member."""
    typical = (
        items.filter(pl.col("fee_amount").is_not_null())
        .group_by("scheme", "qualification")
        .agg(pl.col("fee_amount").max().alias("typical"))
    )
    recorded = db.frame(
        con,
        "SELECT scheme, qualification, max(fee_amount) AS recorded FROM renewal_outcomes"
        " WHERE fee_amount IS NOT NULL AND as_of < ? GROUP BY ALL",
        [made_on],
    )
    season = _season_fees(con, cfg, made_on)
    return (
        items.join(typical, on=["scheme", "qualification"], how="left")
        .join(recorded, on=["scheme", "qualification"], how="left")
        .join(season, on="scheme", how="left")
        .with_columns(
            pl.when(pl.col("qualification") == MEMBERSHIP)
            .then(pl.col("season_fee"))
            .otherwise(pl.coalesce("fee_amount", "typical", "recorded"))
            .fill_null(0)
            .cast(pl.Int32)
            .alias("fee")
        )
    )


# -- keeping forecasts ---------------------------------------------------------------------------


def keep(con: duckdb.DuckDBPyConnection, forecast: Forecast, *, actor: str) -> None:
    """Store a forecast (replacing one of the same day); the gaps of older forecasts are let go
    (only the latest at-risk lists are read), their items stay for learning and the back-test."""
    with db.transaction(con), db.registered(con, fc_items=forecast.items, fc_gaps=forecast.gaps):
        day = {"day": forecast.made_on}
        for table in ("forecast_runs", "forecast_items", "forecast_gaps"):
            con.execute(f"DELETE FROM {table} WHERE made_on = $day", day)  # names from code
        con.execute(
            "INSERT INTO forecast_runs (made_on, horizon_end, actor) VALUES (?, ?, ?)",
            [forecast.made_on, forecast.horizon_end, actor],
        )
        if forecast.items.height:
            columns = ", ".join(ITEM_COLUMNS)
            con.execute(
                f"INSERT INTO forecast_items (made_on, {columns}) SELECT $day, {columns}"
                " FROM fc_items",
                day,
            )
        if forecast.gaps.height:
            columns = ", ".join(GAP_COLUMNS)
            con.execute(
                f"INSERT INTO forecast_gaps (made_on, {columns}) SELECT $day, {columns}"
                " FROM fc_gaps",
                day,
            )
        con.execute(
            "DELETE FROM forecast_gaps WHERE made_on NOT IN"
            " (SELECT made_on FROM forecast_runs ORDER BY made_on DESC LIMIT 3)"
        )


def keep_snapshot(con: duckdb.DuckDBPyConnection, day: dt.date, every_months: int = 3) -> None:
    """After a demo history run: keep the forecast as of that day, every few months."""
    if (day.year * 12 + day.month) % every_months == 0:
        keep(con, compute(con, day), actor="demo:history")


def latest(con: duckdb.DuckDBPyConnection, on: dt.date | None = None) -> dt.date | None:
    """The day of the latest forecast kept (on or before `on`)."""
    row = db.one(
        con,
        "SELECT max(made_on) FROM forecast_runs WHERE $on::DATE IS NULL OR made_on <= $on",
        {"on": on},
    )
    return row[0] if row else None


def load(con: duckdb.DuckDBPyConnection, made_on: dt.date, *, scope: str = "*") -> Forecast:
    """A kept forecast, its items and gaps within the scope."""
    found = db.one(con, "SELECT horizon_end FROM forecast_runs WHERE made_on = ?", [made_on])
    if found is None:
        raise KeyError(f"no forecast kept for {made_on.isoformat()}")
    params = {"day": made_on, "scope": scope_path(con, scope)}
    scoped = (
        "FROM {table} f LEFT JOIN organizations o ON o.org_code = f.org_code"
        " WHERE f.made_on = $day AND ($scope = '/' OR starts_with(o.path, $scope))"
    )
    items = db.frame(
        con,
        f"SELECT {', '.join('f.' + c for c in ITEM_COLUMNS)} "
        + scoped.format(table="forecast_items"),
        params,
    )
    gaps = db.frame(
        con,
        f"SELECT {', '.join('g.' + c for c in GAP_COLUMNS)} FROM forecast_gaps g"
        " JOIN members m USING (member_no) LEFT JOIN organizations o ON o.org_code = m.org_code"
        " WHERE g.made_on = $day AND ($scope = '/' OR starts_with(o.path, $scope))",
        params,
    )
    return Forecast(made_on, found[0], items, gaps)
