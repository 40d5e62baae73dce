"""Configuration edits made in the app: dated entries over the files, validated by the same
declarations, audited, optionally approved by a second admin (and the race of two approvers),
seen by every connection to the database, a later file change held back as a conflict until an
admin resolves it, and the configuration in force exported as files that load again."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import config
from core.cli import cli
from core.config import edits, loader
from core.errors import ConflictError, ValidationError
from core.store import db

D = dt.date
TODAY = D(2026, 12, 1)
KEY = "jptec.instructor.renewal_fee"


@pytest.fixture
def files():
    return loader.files()


def propose(con, files, value="2500", day=None, *, key=KEY, actor="admin", reason="理事会決定"):
    """An edit of `key` from `day` (default 2027-04-01), made on TODAY."""
    return edits.propose(con, key=key, value_text=value, effective_from=day or D(2027, 4, 1),
                         reason=reason, actor=actor, files=files, today=TODAY)  # fmt: skip


def second_approval(con, files):
    """Turn the product's second-approval setting on, itself through an edit."""
    propose(con, files, "true", TODAY, key="common.config.second_approval")


@pytest.mark.parametrize(("day", "fee"), [(D(2027, 3, 31), 2000), (D(2027, 4, 1), 2500)])
def test_an_edit_applies_from_its_day_and_the_past_stays(con, files, day, fee):
    propose(con, files)
    assert config.current().value(KEY, on=day) == fee
    assert [d.start for d in config.current().history(KEY)] == [D(1900, 1, 1), D(2027, 4, 1)]


def test_an_edit_is_audited_with_the_value_before_and_the_reason(con, files):
    propose(con, files)
    rows = con.execute(
        "SELECT actor, action, table_name, row_key, field, old_value, new_value, reason"
        " FROM audit_log WHERE table_name = 'config'"
    ).fetchall()
    assert rows == [
        ("admin", "config_set", "config", KEY, "2027-04-01", "2000", "2500", "理事会決定")
    ]


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        (KEY, "-1", "value"),  # the declaration: a whole number ≥ 0
        (KEY, '"2500"', "value"),
        ("itc.window.opens", '"4月3日"', "value"),  # month_day
        ("jptec.instructor.no_such_key", "1", "key"),
    ],
)
def test_an_edit_is_checked_by_the_same_declaration_as_the_files(con, files, key, value, field):
    with pytest.raises(ValidationError) as caught:
        propose(con, files, value, key=key)
    assert list(caught.value.errors) == [field]
    assert con.execute("SELECT count(*) FROM config_changes").fetchall() == [(0,)]


def test_an_edit_cannot_rewrite_the_past_nor_the_days_a_run_decided(con, files):
    with pytest.raises(ValidationError, match="本日以降"):
        propose(con, files, day=TODAY - dt.timedelta(days=1))
    propose(con, files, day=TODAY)  # today itself is allowed
    con.execute(
        "INSERT INTO renewal_runs (as_of, schemes, actor, counts, batch_id)"
        " VALUES ('2026-12-05', 'jptec', 'cli', '[]', 'b')"
    )
    with pytest.raises(ValidationError, match="2026年12月5日"):
        propose(con, files, day=D(2026, 12, 5))
    propose(con, files, day=D(2026, 12, 6))


def test_an_edit_needs_a_reason(con, files):
    with pytest.raises(ValidationError, match="理由"):
        propose(con, files, reason="  ")


def test_with_second_approval_an_edit_waits_for_another_admin(con, files):
    second_approval(con, files)
    change = propose(con, files)
    assert config.current().value(KEY, on=D(2027, 4, 1)) == 2000  # pending: not in force
    with pytest.raises(ValidationError):
        edits.decide(con, change, approve=True, actor="admin", note="", today=TODAY)
    edits.decide(con, change, approve=True, actor="admin2", note="確認済み", today=TODAY)
    assert config.current().value(KEY, on=D(2027, 4, 1)) == 2500
    actions = [
        r[0]
        for r in con.execute(
            "SELECT action FROM audit_log WHERE table_name = 'config' ORDER BY audit_id"
        ).fetchall()
    ]
    assert actions == ["config_set", "config_propose", "config_approve"]


def test_a_sent_back_edit_needs_a_comment_and_the_requester_may_withdraw(con, files):
    second_approval(con, files)
    first = propose(con, files)
    with pytest.raises(ValidationError):
        edits.decide(con, first, approve=False, actor="admin2", note="", today=TODAY)
    edits.decide(con, first, approve=False, actor="admin2", note="金額を再確認", today=TODAY)
    second = propose(con, files, "2400")
    edits.decide(con, second, approve=False, actor="admin", note="", today=TODAY)
    statuses = {c["change_id"]: c["status"] for c in edits.changes(con, "jptec")}
    assert (statuses[first], statuses[second]) == ("rejected", "withdrawn")
    assert config.current().value(KEY, on=D(2027, 4, 1)) == 2000
    with pytest.raises(ConflictError):
        edits.decide(con, first, approve=True, actor="admin2", note="", today=TODAY)


def test_two_admins_approving_at_the_same_moment_approve_once(db_path, files):
    with db.connect(db_path) as con:
        second_approval(con, files)
        change = propose(con, files)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve(actor: str) -> None:
        with db.connect(db_path) as con:
            barrier.wait()
            try:
                edits.decide(con, change, approve=True, actor=actor, note="", today=TODAY)
                results.append("approved")
            except ConflictError:
                results.append("conflict")

    threads = [threading.Thread(target=approve, args=(a,)) for a in ("admin2", "admin3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["approved", "conflict"]
    with db.connect(db_path) as con:
        assert con.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'config_approve'"
        ).fetchall() == [(1,)]


def test_every_connection_to_the_database_sees_the_edit(db_path, files):
    with db.connect(db_path) as con:
        propose(con, files)
    with db.connect(":memory:"):
        assert config.current().value(KEY, on=D(2027, 4, 1)) == 2000  # another database
    with db.connect(db_path):
        assert config.current().value(KEY, on=D(2027, 4, 1)) == 2500


@pytest.fixture
def scheme_dir(tmp_path: Path) -> Path:
    target = tmp_path / "schemes"
    shutil.copytree(config.SCHEMES_DIR, target)
    return target


def rewrite(folder: Path, old: str, new: str) -> None:
    path = folder / "jptec.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_file_change_after_an_edit_is_held_back_until_an_admin_resolves_it(con, scheme_dir):
    propose(con, loader.load(scheme_dir))
    # a later deployment's file: the fee is 2,200 from 2027-10-01
    rewrite(scheme_dir, "renewal_fee = 2000",
            "renewal_fee = [{ from = 1900-01-01, value = 2000 }, { from = 2027-10-01, value = 2200 }]")  # fmt: skip
    changed = loader.load(scheme_dir)
    held = edits.effective(changed)
    assert held.value(KEY, on=D(2027, 11, 1)) == 2500  # the app's value, not silently 2,200
    assert [s.key for s in edits.conflicts(changed)] == [KEY]
    # keep the app's entry over the new file: the file's later entry applies after it
    edits.resolve(con, KEY, keep_app=True, reason="理事会で確認", actor="admin", files=changed)
    kept = edits.effective(changed)
    assert [(d.start, d.value) for d in kept.history(KEY)] == [
        (D(1900, 1, 1), 2000), (D(2027, 4, 1), 2500), (D(2027, 10, 1), 2200)
    ]  # fmt: skip
    assert edits.conflicts(changed) == []


def test_following_the_file_drops_the_apps_entries_for_that_key(con, scheme_dir):
    propose(con, loader.load(scheme_dir))
    rewrite(scheme_dir, "renewal_fee = 2000", "renewal_fee = 2100")
    changed = loader.load(scheme_dir)
    edits.resolve(con, KEY, keep_app=False, reason="ファイルが正", actor="admin", files=changed)
    assert [(d.start, d.value) for d in edits.effective(changed).history(KEY)] == [
        (D(1900, 1, 1), 2100)
    ]
    with pytest.raises(ConflictError):  # nothing left to resolve
        edits.resolve(con, KEY, keep_app=True, reason="x", actor="admin", files=changed)


def test_the_configuration_in_force_exports_as_files_that_load_to_the_same_values(
    con, files, tmp_path
):
    propose(con, files)
    propose(con, files, '{ basic = { label = "基本", fee = 1600 }, standard = { label = "標準",'
            ' fee = 3000 }, premium = { label = "充実", fee = 5000 } }', key="saj.insurance.plans")  # fmt: skip
    out = tmp_path / "exported"
    out.mkdir()
    in_force = config.current()
    from core.config import toml_out
    from core.config.settings import CONFIG_FILES

    for code in CONFIG_FILES:
        (out / f"{code}.toml").write_text(toml_out.file_text(in_force, code, "test"), "utf-8")
    reloaded = loader.load(out)
    assert reloaded.values == in_force.values
    # folded back into the files, the same history is no conflict
    assert edits.conflicts(reloaded) == []


def test_config_export_writes_six_files_and_init_warns_of_a_conflict(db_path, tmp_path):
    with db.connect(db_path) as con:
        propose(con, loader.files())
        # the file's history the edit was made against, as if the file had said 1,900 then
        con.execute(
            "UPDATE config_changes SET file_basis = '[{ from = 1900-01-01, value = 1900 }]'"
        )
    runner = CliRunner()
    result = runner.invoke(
        cli, ["config-export", "--db", str(db_path), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == [
        "common.toml", "itc.toml", "jptec.toml", "jspo.toml", "saj.toml", "teacher.toml"
    ]  # fmt: skip
    assert "conflict: jptec.instructor.renewal_fee" in result.output
    result = runner.invoke(cli, ["init", "--db", str(db_path)])
    assert result.exit_code == 0 and "warning: jptec.instructor.renewal_fee" in result.output
