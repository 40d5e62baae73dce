"""1,000 certificates as one PDF: a club's batch (`documents --org ORG --kind certificate`).

Usage: python bench/bench_certificates.py --db bench/out/full.duckdb [--count 1000]

On a copy of the database (a temporary folder under bench/out, removed at the end, also on
failure), 1,000 holders of a valid JPTEC provider qualification are moved into one club, then
`certificates.club_batch` for that club is timed: their certificates recorded as available,
each one recorded as issued (with its audit row) and the PDF made — a cover listing them, then
a page each. Then a second batch of the same club, every certificate printed again.
Checked: 1,000 documents in the PDF, 1,000 issue rows of the batch's own, the PDF's pages
are the cover's plus 1,000, and the second batch is the same 1,000 documents.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from common import OUT, record

from core.documents import certificates
from core.store import db

ON = dt.date(2026, 12, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        path = Path(tmp) / "certificates.duckdb"
        shutil.copyfile(args.db, path)
        with db.connect(path) as con:
            club = "JPTEC-BENCH"  # a club of its own, holding only the 1,000
            con.execute(
                "INSERT INTO organizations (org_code, name, kind, parent_code, root_code, path)"
                " SELECT $club, 'ベンチマーク指定地域組織', 'club', org_code, root_code,"
                " path || $club || '/' FROM organizations WHERE org_code = 'JPTEC'",
                {"club": club},
            )
            con.execute(
                """
                UPDATE members SET org_code = $club WHERE member_no IN (
                    SELECT q.member_no FROM qualifications q
                    WHERE q.scheme = 'jptec' AND q.qualification = 'provider'
                      AND q.status = 'active' AND q.valid_until >= $on
                      AND NOT EXISTS (SELECT 1 FROM qualifications o
                                      WHERE o.member_no = q.member_no
                                        AND o.qualification = 'instructor')
                    ORDER BY hash(q.member_no) LIMIT $n)
                """,
                {"club": club, "on": ON, "n": args.count},
            )
            started = time.perf_counter()
            printed = certificates.club_batch(con, club, "certificate", actor="bench", on=ON)
            seconds = time.perf_counter() - started
            issued = db.one(con, "SELECT count(*), count(DISTINCT batch_id) FROM document_issues")
            started = time.perf_counter()
            again = certificates.club_batch(con, club, "certificate", actor="bench", on=ON)
            again_seconds = time.perf_counter() - started
        pages = printed.pdf.count(b"/Type /Page") - printed.pdf.count(b"/Type /Pages")
    held = len(printed.documents)
    assert held == args.count, f"{held} certificates"
    assert issued == (held, 1), issued
    assert again.documents == printed.documents
    cover = pages - held
    assert 1 <= cover <= 40, f"{pages} pages for {held} certificates"
    record(
        "certificates",
        {
            "certificates": held,
            "members": printed.members,
            "seconds": round(seconds, 1),
            "again_seconds": round(again_seconds, 1),
            "pages": pages,
            "mb": round(len(printed.pdf) / 2**20, 1),
        },
    )


if __name__ == "__main__":
    main()
