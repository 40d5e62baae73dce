"""Data-quality audits: each finds what it is named after, on both sides of its rule, within a
scope; every audit runs on the demo data; `audit-data` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from core.cli import cli
from core.stats import audits
from core.store import queries


def found(con, name: str, scope: str = "*") -> list[str]:
    return audits.rows(con, name, scope=scope)["member_no"].to_list()


def add_member(con, member_no: str, org: str, **values: object) -> None:
    row = {
        "family_name": "試験",
        "given_name": "太郎",
        "family_name_kana": "シケン",
        "given_name_kana": "タロウ",
        "birth_date": "1990-01-01",
        "postal_code": "420-0853",
        "prefecture": "静岡県",
        "address": f"静岡市葵区追手町{member_no[-2:]}-1",
        "phone": f"090-0000-00{member_no[-2:]}",
        "email": f"{member_no.lower()}@example.jp",
        **values,
    }
    columns = ", ".join(["member_no", "org_code", *row])
    marks = ", ".join("?" * (len(row) + 2))
    con.execute(
        f"INSERT INTO members ({columns}) VALUES ({marks})", [member_no, org, *row.values()]
    )


def test_every_audit_has_its_query_file_and_every_file_an_audit():
    files = {p.stem for p in (queries.SQL_DIR / "audits").glob("*.sql")}
    assert files == set(audits.BY_NAME)


def test_the_sample_is_clean_except_where_stated(sample):
    counts = dict(audits.counts(sample).iter_rows())
    assert counts == dict.fromkeys(audits.BY_NAME, 0)


def test_a_member_of_an_unknown_organisation_is_found_by_whole_scope_users_only(sample):
    add_member(sample, "A0000091", "SAJ-99-C404")
    assert found(sample, "members_without_organization") == ["A0000091"]
    assert found(sample, "members_without_organization", scope="SAJ-22") == []


def test_a_qualification_of_another_schemes_tree_is_found(sample):
    add_member(sample, "A0000092", "SAJ-22-C002")
    add_member(sample, "A0000093", "SAJ-22-C002")
    sample.execute(
        "INSERT INTO qualifications (member_no, scheme, qualification, valid_from, valid_until)"
        " VALUES ('A0000092', 'jptec', 'provider', '2025-01-01', '2027-12-31'),"
        " ('A0000093', 'saj', 'instructor', '2026-08-01', '2027-07-31')"
    )
    rows = audits.rows(sample, "members_outside_scheme_tree")
    assert rows.select("member_no", "scheme", "org_root_code", "scheme_root_code").rows() == [
        ("A0000092", "jptec", "SAJ", "JPTEC")
    ]


def test_a_member_number_prefix_names_the_scheme_without_a_qualification(sample):
    add_member(sample, "J0000094", "SAJ-22-C002")  # J: JPTEC's prefix, in SAJ's tree
    assert found(sample, "members_outside_scheme_tree") == ["J0000094"]


@pytest.mark.parametrize(
    ("postal_code", "prefecture", "finding"),
    [
        ("420-0853", "静岡県", None),  # agrees
        ("420-0853", "東京都", "other_prefecture"),
        ("999-9999", "静岡県", "unknown_postal_code"),
    ],
)
def test_postal_codes_are_checked_against_the_stated_prefecture(
    sample, postal_code, prefecture, finding
):
    add_member(sample, "A0000095", "SAJ-22-C002", postal_code=postal_code, prefecture=prefecture)
    rows = audits.rows(sample, "postal_code_not_matching_prefecture")
    assert rows.select("member_no", "finding").rows() == (
        [("A0000095", finding)] if finding else []
    )


def test_an_erased_member_without_contact_data_is_not_checked(sample):
    add_member(sample, "A0000096", "SAJ-22-C002", postal_code=None, prefecture=None, address=None)
    assert found(sample, "postal_code_not_matching_prefecture") == []


@pytest.mark.parametrize(("until", "flagged"), [("2026-04-01", False), ("2026-03-31", True)])
def test_a_validity_ending_the_day_before_it_starts_is_found(sample, until, flagged):
    sample.execute(
        "INSERT INTO qualifications (member_no, scheme, qualification, valid_from, valid_until)"
        " VALUES ('A0000003', 'saj', 'setter', '2026-04-01', ?)",
        [until],
    )
    assert found(sample, "qualifications_ending_before_start") == (["A0000003"] if flagged else [])


def test_the_same_person_under_two_numbers_of_one_body_is_found(sample):
    same = {"family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
            "given_name_kana": "タロウ", "birth_date": "1980-04-01"}  # fmt: skip
    add_member(sample, "A0000097", "SAJ-13-C001", **same)  # A0000001 again, in another club
    add_member(sample, "J0000098", "JPTEC-13-C01", **same)  # the same person in another body
    add_member(sample, "A0000099", "SAJ-13-C001", **{**same, "birth_date": "1980-04-02"})
    rows = audits.rows(sample, "same_person_several_member_numbers")
    assert rows.select("person", "numbers", "member_no").rows() == [
        (1, 2, "A0000001"),
        (1, 2, "A0000097"),
    ]
    # a user of the Tokyo federation sees the number in their scope, not the one in Shizuoka
    assert found(sample, "same_person_several_member_numbers", scope="SAJ-13") == ["A0000097"]


def test_contact_data_shared_across_organisations_makes_a_cluster_and_within_one_does_not(
    sample,
):
    # the same phone written differently in two clubs: a cluster
    add_member(sample, "A0000081", "SAJ-22-C002", phone="090-1234-5678")
    # the same e-mail as A0000002, in A0000002's own club: a family, not a cluster
    add_member(sample, "A0000082", "SAJ-22-C001", email="HANAKO@example.jp ")
    # A0000004's address (spaces and dashes differ) from a club in another prefecture
    add_member(sample, "A0000083", "SAJ-22-C002", postal_code="100-0001",
               prefecture="東京都", address="千代田区 千代田１－１")  # fmt: skip
    rows = audits.rows(sample, "contact_shared_across_organizations")
    assert rows.select("cluster", "shared", "members", "organizations", "member_no").rows() == [
        (1, "address", 2, 2, "A0000004"),
        (1, "address", 2, 2, "A0000083"),
        (2, "phone", 2, 2, "A0000001"),
        (2, "phone", 2, 2, "A0000081"),
    ]


def test_the_address_key_ignores_full_width_dashes_but_not_other_numbers(sample):
    add_member(sample, "A0000084", "SAJ-22-C002", postal_code="100-0001",
               prefecture="東京都", address="千代田区千代田1-11")  # fmt: skip
    assert found(sample, "contact_shared_across_organizations") == []


def test_every_audit_runs_on_the_demo_data(demo_history):
    counts = audits.counts(demo_history)
    assert counts["audit"].to_list() == [a.name for a in audits.AUDITS]
    for audit in audits.AUDITS:
        rows = audits.rows(demo_history, audit.name)
        assert rows.height == counts.filter(pl.col("audit") == audit.name)["n"].item()
    # a violation planted in the demo is found beside whatever the demo has already
    demo_history.execute(
        "UPDATE members SET prefecture = '沖縄県' WHERE member_no = (SELECT min(member_no)"
        " FROM members WHERE prefecture = '北海道' AND postal_code IS NOT NULL)"
    )
    after = audits.counts(demo_history)
    assert (after["n"] - counts["n"]).to_list() == [0, 0, 1, 0, 0, 0]
    scoped = audits.counts(demo_history, scope="SAJ-13")
    assert (scoped["n"] <= counts["n"]).all()


def test_audit_data_prints_counts_and_writes_one_audits_rows_masked(sample_path, tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(cli, ["audit-data", "--db", str(sample_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"audit": a.name, "n": 0} for a in audits.AUDITS]
    out = tmp_path / "postal.csv"
    result = runner.invoke(
        cli,
        ["audit-data", "--db", str(sample_path), "--name", "same_person_several_member_numbers",
         "--out", str(out), "--masked"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("person,numbers,")


def test_audit_data_refuses_an_unknown_audit_and_name_without_out(sample_path, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "audit-data",
            "--db",
            str(sample_path),
            "--name",
            "nope",
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert result.exit_code == 2 and "unknown audit 'nope'" in result.output
    result = runner.invoke(cli, ["audit-data", "--db", str(sample_path), "--name", "nope"])
    assert result.exit_code == 2 and "--name and --out go together" in result.output
