"""PostgreSQL as the store, behind the connection interface the product uses for DuckDB.

The product keeps each statement once, in DuckDB's dialect. On PostgreSQL a statement is
translated by SQLGlot (duckdb → postgres, parameters included: `?` → `%s`, `$name` →
`%(name)s`) the first time it is seen and cached; what SQLGlot leaves to the engine
(`arg_max`, `regexp_extract`, …) PostgreSQL gets as functions of its own
(core/store/migrations/postgres_compat.sql). `PgConnection` offers the methods the product calls
on a DuckDB connection — execute/fetchall/fetchone, executemany, sql(...).pl(),
register/unregister (a frame becomes a temporary table, filled by COPY), cursor() — so a rule
runs unchanged on either engine.

Transactions are REPEATABLE READ: like DuckDB, a transaction sees one snapshot and the second
of two writers of one row fails. PostgreSQL's serialization failures and deadlocks are raised
as `duckdb.TransactionException` (the class callers already catch for a write conflict), its
constraint violations as `duckdb.ConstraintException`, any other error as `duckdb.Error`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from itertools import count
from typing import Any, ClassVar, cast

import duckdb
import polars as pl
import psycopg
import sqlglot
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres

Frame = pl.DataFrame  # (inside PgConnection, `pl` is its method)
URL_PREFIXES = ("postgresql://", "postgres://")
logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its notes on features are for authors


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(URL_PREFIXES)


class PgConflict(duckdb.TransactionException):
    """A write conflict (serialization failure, deadlock) on PostgreSQL."""


class PgConstraint(duckdb.ConstraintException):
    """A constraint violated on PostgreSQL (unique, not null, foreign key, check)."""


class PgError(duckdb.Error):
    """Any other error PostgreSQL reported."""


# -- translation ------------------------------------------------------------------------------

_PERCENT = re.compile(r"%(?!s\b|\(\w+\)s)")


def _first_of(self: Any, e: exp.Expression, condition: str | None = None) -> str:
    """DuckDB's arg_max/arg_min (and any_value, first) as PostgreSQL says it: the first of
    the values ordered by their key, rows without a key left out as DuckDB does; `condition`
    is the aggregate's own FILTER, which must come before the [1]."""
    value = self.sql(e, "this")
    wanted = [condition] if condition else []
    order = ""
    if isinstance(e, exp.AnyValue):  # DuckDB's any_value skips NULLs
        wanted.append(f"{value} IS NOT NULL")
    if isinstance(e, exp.ArgMax | exp.ArgMin):
        key = self.sql(e, "expression")
        order = f" ORDER BY {key} {'DESC' if isinstance(e, exp.ArgMax) else 'ASC'}"
        wanted.append(f"{key} IS NOT NULL")
    where = f" FILTER (WHERE {' AND '.join(wanted)})" if wanted else ""
    return f"(ARRAY_AGG({value}{order}){where})[1]"


def _filter(self: Any, e: exp.Filter) -> str:
    if isinstance(e.this, exp.ArgMax | exp.ArgMin | exp.AnyValue | exp.First):
        return _first_of(self, e.this, self.sql(e.expression, "this"))
    return str(Postgres.Generator.filter_sql(self, e))


def _format(self: Any, e: exp.Expression) -> str:
    """DuckDB's format('{:,}', n) — a number with thousands separators, the one pattern the
    product uses — as PostgreSQL's to_char; any other pattern is refused, not mistranslated."""
    pattern = e.this.name if isinstance(e.this, exp.Literal) else None
    if pattern != "{:,}" or len(e.expressions) != 1:
        raise ValueError(f"format({pattern!r}, …) has no PostgreSQL translation")
    return f"TRIM(TO_CHAR({self.sql(e.expressions[0])}, 'FM999,999,999,999,990'))"


class StorePostgres(Postgres):
    """PostgreSQL as SQLGlot writes it, plus the DuckDB functions PostgreSQL lacks that are
    better written inline than as functions (core/store/postgres_compat.sql has the rest)."""

    class Generator(Postgres.Generator):  # type: ignore[misc,valid-type]
        TRANSFORMS: ClassVar[dict[Any, Any]] = {
            **Postgres.Generator.TRANSFORMS,
            exp.ArgMax: _first_of,
            exp.ArgMin: _first_of,
            exp.AnyValue: _first_of,
            exp.First: _first_of,
            exp.Filter: _filter,
            exp.Format: _format,
            exp.DateFromParts: lambda self, e: (
                f"MAKE_DATE(CAST({self.sql(e, 'year')} AS INT), CAST({self.sql(e, 'month')} AS INT),"
                f" CAST({self.sql(e, 'day')} AS INT))"
            ),
        }


_CAST_PLACEHOLDER = re.compile(r"\?::(\w+(?:\[\])?)")


@lru_cache(maxsize=8192)
def translate(sql: str) -> tuple[str, ...]:
    """DuckDB SQL as PostgreSQL statements, `%` outside placeholders doubled for psycopg.
    DuckDB's CREATE OR REPLACE TABLE becomes a DROP TABLE IF EXISTS and a CREATE TABLE."""
    out = []
    sql = _CAST_PLACEHOLDER.sub(r"CAST(? AS \1)", sql)  # `?::INT`, which SQLGlot cannot read
    for statement in sqlglot.parse(sql, read="duckdb"):
        if statement is None:
            continue
        replaces_table = isinstance(statement, exp.Create) and statement.args.get("replace")
        if replaces_table and str(statement.args.get("kind", "")).upper() == "TABLE":
            table = (
                statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
            )
            out.append(f"DROP TABLE IF EXISTS {table.sql(dialect=StorePostgres)}")
            statement = statement.copy()
            statement.set("replace", False)
        out.append(
            _PERCENT.sub(
                "%%", _portable(cast(exp.Expression, statement)).sql(dialect=StorePostgres)
            )
        )
    return tuple(out)


def _semi_and_anti_joins(node: exp.Expression) -> exp.Expression:
    """DuckDB's `a SEMI JOIN b ON …|USING (…)` as `WHERE EXISTS (SELECT 1 FROM b WHERE …)`
    (ANTI: NOT EXISTS); USING compares the columns of the FROM table and the joined one."""
    if not isinstance(node, exp.Select):
        return node
    source = node.args.get("from_")
    left = source.this.alias_or_name if source is not None else ""
    for join in list(node.args.get("joins") or []):
        if join.kind not in ("SEMI", "ANTI"):
            continue
        condition = join.args.get("on")
        if condition is None:
            right = join.this.alias_or_name
            condition = exp.and_(
                *(
                    exp.column(c.name, table=left).eq(exp.column(c.name, table=right))
                    for c in join.args.get("using") or []
                )
            )
        test: exp.Expression = exp.Exists(this=exp.select("1").from_(join.this).where(condition))
        if join.kind == "ANTI":
            test = exp.Not(this=test)
        join.pop()
        node.where(test, copy=False)
    return node


def _portable(statement: exp.Expression) -> exp.Expression:
    """What DuckDB allows and PostgreSQL 15 refuses, made explicit: a subquery in FROM or a
    join gets an alias, a subscript of a function's value gets parentheses, GROUP BY ALL names the columns it groups by, ORDER BY ALL numbers them, a SEMI or ANTI JOIN
    becomes [NOT] EXISTS, and unnest(range(…)) in a select list is generate_series(…)."""
    statement = statement.transform(_semi_and_anti_joins)
    for explode in list(statement.find_all(exp.Explode)):  # unnest(range(…)) in a select list
        if isinstance(explode.this, exp.GenerateSeries) and isinstance(
            explode.parent, exp.Select | exp.Alias
        ):  # is PostgreSQL's generate_series there, a set-returning function itself
            explode.replace(explode.this.copy())
    for bracket in list(statement.find_all(exp.Bracket)):  # f(x)[1] is (f(x))[1] there
        target = bracket.this
        if not isinstance(target, exp.Column | exp.Paren | exp.Identifier):
            bracket.set("this", exp.Paren(this=target.copy()))
    for n, subquery in enumerate(statement.find_all(exp.Subquery)):
        if not subquery.alias and isinstance(subquery.parent, exp.From | exp.Join):
            subquery.set("alias", exp.TableAlias(this=exp.to_identifier(f"_s{n}")))
    for select in statement.find_all(exp.Select):
        group = select.args.get("group")
        if isinstance(group, exp.Group) and group.args.get("all"):
            keys = [
                e.unalias().copy()
                for e in select.expressions
                if not e.find(exp.AggFunc)
                and not e.find(exp.Window)
                and not isinstance(e, exp.Star)
            ]
            select.set("group", exp.Group(expressions=keys) if keys else None)
        order = select.args.get("order")
        first = order.expressions[0] if isinstance(order, exp.Order) and order.expressions else None
        if (
            isinstance(first, exp.Ordered)
            and isinstance(first.this, exp.Var)
            and first.name == "ALL"
        ):
            # ORDER BY ALL [DESC]: by every column of the select list, left to right
            select.set(
                "order",
                exp.Order(
                    expressions=[
                        exp.Ordered(this=exp.Literal.number(n), desc=first.args.get("desc"))
                        for n in range(1, len(select.expressions) + 1)
                    ]
                ),
            )
    return statement


_PLACEHOLDER = re.compile(r"%s\b|%\(\w+\)s")
_cursor_numbers = count()  # names of server-side cursors, unique in the process


# -- types ------------------------------------------------------------------------------------

# PostgreSQL type OIDs → Polars types, for results (an empty result keeps its column types)
_OID_TYPES: dict[int, pl.DataType] = {
    16: pl.Boolean(),
    20: pl.Int64(),
    21: pl.Int16(),
    23: pl.Int32(),
    25: pl.String(),
    700: pl.Float32(),
    701: pl.Float64(),
    1043: pl.String(),
    1042: pl.String(),
    1082: pl.Date(),
    1114: pl.Datetime("us"),
    1184: pl.Datetime("us", "Asia/Tokyo"),
    1700: pl.Decimal(38, 6),
    1009: pl.List(pl.String()),
    1015: pl.List(pl.String()),
    1007: pl.List(pl.Int32()),
    1016: pl.List(pl.Int64()),
    1186: pl.Duration("us"),
}


def _pg_type(dtype: pl.DataType) -> str:
    """The column type a frame's column gets in its temporary table."""
    if isinstance(dtype, pl.List):
        return _pg_type(cast(pl.DataType, dtype.inner)) + "[]"
    if isinstance(dtype, pl.Decimal):
        return "numeric"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    simple = {
        pl.Int8: "smallint",
        pl.Int16: "smallint",
        pl.Int32: "integer",
        pl.Int64: "bigint",
        pl.UInt8: "smallint",
        pl.UInt16: "integer",
        pl.UInt32: "bigint",
        pl.UInt64: "bigint",
        pl.Float32: "real",
        pl.Float64: "double precision",
        pl.Boolean: "boolean",
        pl.Date: "date",
        pl.Time: "time",
        pl.Duration: "interval",
    }
    for polars_type, name in simple.items():
        if dtype == polars_type:
            return name
    return "text"


def _array_text(values: list[Any] | None) -> str | None:
    """A list as PostgreSQL's array literal ({"a","b"}), for COPY."""
    if values is None:
        return None
    items = []
    for v in values:
        if v is None:
            items.append("NULL")
        else:
            items.append('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


def _copy_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as COPY's CSV reads it: lists as array literals, times in ISO form."""
    changed = []
    for c, t in frame.schema.items():
        if isinstance(t, pl.List):
            changed.append(pl.col(c).map_elements(_array_text, return_dtype=pl.String))
        elif isinstance(t, pl.Datetime):
            zone = "%z" if t.time_zone else ""
            changed.append(pl.col(c).dt.to_string(f"%Y-%m-%dT%H:%M:%S%.f{zone}"))
    return frame.with_columns(changed) if changed else frame


def _frame(rows: Sequence[Sequence[Any]], description: Any) -> pl.DataFrame:
    names = [d.name for d in description]
    schema = {n: _OID_TYPES.get(d.type_code) for n, d in zip(names, description, strict=True)}
    if not rows:
        return pl.DataFrame(schema={n: t or pl.String() for n, t in schema.items()})
    columns = list(zip(*rows, strict=True))
    series = []
    for name, values in zip(names, columns, strict=True):
        wanted = schema[name]
        if isinstance(wanted, pl.Decimal) or any(isinstance(v, decimal.Decimal) for v in values):
            series.append(pl.Series(name, values, strict=False))
        else:
            series.append(pl.Series(name, values, dtype=wanted, strict=False))
    return pl.DataFrame(series)


# -- the connection -----------------------------------------------------------------------------


class _Relation:
    """What `con.sql(...)` returns: read as a frame or as rows."""

    def __init__(self, con: PgConnection, sql: str, params: Any):
        self.con, self.query, self.params = con, sql, params

    def pl(self) -> pl.DataFrame:
        return self.con.execute(self.query, self.params).pl()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.con.execute(self.query, self.params).fetchall()

    @property
    def columns(self) -> list[str]:
        """The names of the result's columns (no row is read)."""
        self.con.execute(f"SELECT * FROM ({self.query}) LIMIT 0", self.params)
        return [d.name for d in self.con.description]

    def to_arrow_reader(self, batch_rows: int) -> Iterator[Any]:
        """The rows as Arrow record batches of `batch_rows`, read in chunks as they are used."""
        for frame in self.con.frames(self.query, batch_rows, self.params):
            yield from frame.to_arrow().to_batches()


class PgConnection:
    """A psycopg connection that takes the product's DuckDB SQL (see the module's docstring)."""

    engine = "postgres"

    def __init__(self, raw: psycopg.Connection[Any], url: str, *, owner: bool = True):
        self.raw = raw
        self.url = url  # (the connection's own dsn leaves the password out)
        self.owner = owner
        self._cursor: psycopg.Cursor[Any] | None = None
        self._registered: set[str] = set()
        self._stale: set[str] = set()  # registered frames whose tables are still to be dropped

    # results of the last statement
    def _current(self) -> psycopg.Cursor[Any]:
        if self._cursor is None:
            raise PgError("no statement has been run on this connection")
        return self._cursor

    def execute(self, sql: str, params: Any = None) -> PgConnection:
        statements = translate(sql)
        self._drop_stale()
        given = not (params is None or (isinstance(params, list | tuple | dict) and not params))
        cursor = self.raw.cursor()
        try:
            for statement in statements:
                if given and _PLACEHOLDER.search(statement):
                    cursor.execute(statement, _adapted(params))
                else:
                    cursor.execute(statement.replace("%%", "%"))
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        self._cursor = cursor
        return self

    def executemany(self, sql: str, rows: Sequence[Any]) -> PgConnection:
        *before, statement = translate(sql)
        cursor = self.raw.cursor()
        try:
            for first in before:
                cursor.execute(first.replace("%%", "%"))
            cursor.executemany(statement, [_adapted(r) for r in rows])
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        self._cursor = cursor
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        cursor = self._current()
        if cursor.description:
            return cursor.fetchall()
        changed = _changed(cursor)
        return [] if changed is None else [(changed,)]

    def fetchone(self) -> tuple[Any, ...] | None:
        cursor = self._current()
        if cursor.description:
            return cursor.fetchone()
        changed = _changed(cursor)
        return None if changed is None else (changed,)

    @property
    def description(self) -> Any:
        return self._current().description

    def pl(self) -> pl.DataFrame:
        cursor = self._current()
        if cursor.description is None:
            return pl.DataFrame()
        return _frame(cursor.fetchall(), cursor.description)

    def sql(self, sql: str, params: Any = None) -> _Relation:
        return _Relation(self, sql, params)

    def complete(self) -> None:
        """DuckDB's way to finish a half-read result; nothing to do here."""

    def register(self, name: str, frame: Frame) -> None:
        """The frame as a temporary table `name` for this connection's statements."""
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        columns = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in frame.schema.items())
        try:
            self.raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
            self.raw.execute(f'CREATE TEMPORARY TABLE "{name}" ({columns})')
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        self.copy_in(name, frame)
        self._registered.add(name)

    def copy_in(self, table: str, frame: Frame) -> None:
        """Append a frame's rows to a table by COPY (columns by name)."""
        if not frame.height:
            return
        buffer = io.BytesIO()
        _copy_ready(frame).write_csv(buffer, include_header=False, null_value="\\N")
        names = ", ".join(f'"{c}"' for c in frame.columns)
        try:
            with self.raw.cursor().copy(
                f"COPY \"{table}\" ({names}) FROM STDIN (FORMAT csv, NULL '\\N')"
            ) as copy:
                copy.write(buffer.getvalue())
        except psycopg.Error as exc:
            raise _mapped(exc) from exc

    def frames(self, query: str, size: int = 100_000, params: Any = None) -> Iterator[Frame]:
        """A query's rows as frames of `size` rows, read by a server-side cursor so a whole
        result never sits in memory at once (DuckDB's arrow reader, on PostgreSQL)."""
        (statement,) = translate(query)
        self._drop_stale()
        given = not (params is None or (isinstance(params, list | tuple | dict) and not params))
        if not (given and _PLACEHOLDER.search(statement)):
            statement, params = statement.replace("%%", "%"), None
        idle = self.raw.info.transaction_status == TransactionStatus.IDLE
        try:  # a server-side cursor lives in a transaction: one snapshot for the whole read
            with (
                self.raw.transaction() if idle else nullcontext(),
                self.raw.cursor(name=f"frames_{next(_cursor_numbers)}") as cursor,
            ):
                cursor.execute(statement, None if params is None else _adapted(params))
                while rows := cursor.fetchmany(size):
                    yield _frame(rows, cursor.description)
        except psycopg.Error as exc:
            raise _mapped(exc) from exc

    def unregister(self, name: str) -> None:
        """Drop the frame's table; inside a failed transaction (the error is on its way up)
        the drop waits for the next statement after the rollback."""
        if name not in self._registered:
            return
        self._registered.discard(name)
        self._stale.add(name)
        self._drop_stale()

    def _drop_stale(self) -> None:
        if not self._stale or self.raw.info.transaction_status == TransactionStatus.INERROR:
            return
        try:
            for name in sorted(self._stale):
                self.raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        self._stale.clear()

    def in_transaction(self) -> bool:
        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    def run_script(self, script: str) -> None:
        """PostgreSQL's own SQL, several statements, untranslated (the compatibility functions)."""
        try:
            self.raw.execute(script.encode())
        except psycopg.Error as exc:
            raise _mapped(exc) from exc

    def cursor(self) -> PgConnection:
        """A connection of its own (DuckDB's cursor() is one to the same database)."""
        raw = psycopg.connect(self.url, autocommit=True, cursor_factory=psycopg.ClientCursor)
        _prepare(raw)
        return PgConnection(raw, self.url)

    def close(self) -> None:
        if self.owner and not self.raw.closed:
            self.raw.close()


def _changed(cursor: psycopg.Cursor[Any]) -> int | None:
    """The rows an INSERT, UPDATE or DELETE changed: DuckDB answers those statements with one
    row holding the count, which the product reads."""
    verb = (cursor.statusmessage or "").split(" ", 1)[0]
    return cursor.rowcount if verb in ("INSERT", "UPDATE", "DELETE", "MERGE") else None


def _adapted(params: Any) -> Any:
    """Parameter values as psycopg takes them (a Polars series or a tuple as a list)."""
    if isinstance(params, dict):
        return {k: _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


def _value(value: Any) -> Any:
    if isinstance(value, pl.Series):
        return value.to_list()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value
    return value


def _mapped(exc: psycopg.Error) -> duckdb.Error:
    message = str(exc).strip()
    if isinstance(
        exc,
        pg_errors.SerializationFailure | pg_errors.DeadlockDetected | pg_errors.LockNotAvailable,
    ):
        return PgConflict(f"write conflict: {message}")
    if isinstance(exc, pg_errors.IntegrityError):
        return PgConstraint(message)
    return PgError(message)


LOCK_TIMEOUT_ENV = "RENEWAL_PG_LOCK_TIMEOUT"  # seconds a statement waits for another's row


def _prepare(raw: psycopg.Connection[Any]) -> None:
    """Japan's clock, snapshot transactions, and a bounded wait for a row another
    transaction is changing: then the change fails as a write conflict, as on DuckDB."""
    raw.execute("SET TimeZone = 'Asia/Tokyo'")
    raw.execute("SET default_transaction_isolation = 'repeatable read'")
    seconds = float(os.environ.get(LOCK_TIMEOUT_ENV, "10"))
    raw.execute(f"SET lock_timeout = '{int(seconds * 1000)}ms'")


@contextmanager
def connect(url: str) -> Iterator[PgConnection]:
    """A connection for one unit of work; closed when the block ends."""
    try:
        raw = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
    except psycopg.Error as exc:
        raise _mapped(exc) from exc
    _prepare(raw)
    con = PgConnection(raw, url)
    try:
        yield con
    finally:
        con.close()


POOL_SIZE_ENV = "RENEWAL_PG_POOL_SIZE"  # connections one app process keeps (default 10)


class Pool:
    """An app process's connections to the server (psycopg_pool): a page run borrows one for
    its unit of work; it comes back without a transaction or the frames it registered."""

    def __init__(self, url: str):
        from psycopg_pool import ConnectionPool

        size = int(os.environ.get(POOL_SIZE_ENV, "10"))
        self.url = url
        self.pool: Any = ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True, "cursor_factory": psycopg.ClientCursor},
            configure=_prepare,
            reset=lambda raw: raw.execute("DISCARD TEMP"),
            open=True,
            name="renewal",
        )

    @contextmanager
    def connection(self, timeout: float = 30.0) -> Iterator[PgConnection]:
        try:
            with self.pool.connection(timeout=timeout) as raw:
                con = PgConnection(raw, self.url, owner=False)
                try:
                    # another app server may have edited the configuration since the last use
                    from core.config import edits

                    edits.refresh(con)  # type: ignore[arg-type]
                    yield con
                finally:
                    if raw.info.transaction_status != TransactionStatus.IDLE:
                        raw.rollback()  # a unit of work left a transaction open
        except psycopg.Error as exc:
            raise _mapped(exc) from exc

    def close(self) -> None:
        self.pool.close()
