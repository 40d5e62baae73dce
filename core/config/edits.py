"""Configuration edits made in the app (制度設定), layered over the files.

The files under data/schemes/ are what a deployment starts from. An admin's edit never
rewrites them or the past: it is a new dated entry (`{from = day, value = …}`) for one key,
validated by the same declaration as the files (core.config.settings), with a reason, kept in
the database (`config_changes`, so every app server and the command line see it and a backup
keeps it) and audited. With `common.config.second_approval` another admin approves it before
it takes effect.

The configuration in force is the files' history of each key with the approved edits laid over
it (an edit wins over a file entry of the same day). Each edit remembers the file's history of
its key when it was made (`file_basis`). When a file later changes a key that was edited in the
app, that change is *not* applied silently: the key keeps the history the edit was made
against, and the conflict is listed (制度設定, `init`, `config-export`) until an admin resolves
it — keeping the app's entries over the new file (`keep_file`) or following the file again
(`adopt_file`), each with a reason and audited. A file that already holds what the app holds
(the exported TOML folded back into the repository) is no conflict.

`refresh(con)` loads the approved edits of the database just opened (core.store.db.connect
calls it), and `core.config.current()` returns the files with those edits applied.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import tomllib
from dataclasses import dataclass
from typing import Any

import duckdb

from core.config import toml_out
from core.config.loader import Config, ConfigError, Dated, _dated
from core.config.settings import BY_KEY, Setting
from core.errors import ConflictError, ValidationError

KINDS = ("set", "keep_file", "adopt_file")
TYPE_WORDS = {
    "int": "0以上の整数",
    "decimal": "0以上の数",
    "str": "空でない文字",
    "text": "文字（空欄可）",
    "bool": "はい・いいえ",
    "date": "日付（例 2027-04-01）",
    "month_day": "月日（例 05-31）",
    "time": "時刻（例 13:00）",
    "registration_no": "T と13桁の数字（未登録は空欄）",
    "list": '値の一覧（例 ["a", "b"]）',
    "labels": 'コードと名称の表（例 { a = "名称" }）',
    "reasons": "コードと名称の表（空なら {}）",
    "tax_classes": "請求項目と税区分の表",
    "records": "コードごとの項目の表",
    "bands": "金額帯の一覧（例 [{ up_to = 2999, fee = 160 }]）",
}


@dataclass(frozen=True)
class Change:
    change_id: int
    key: str
    kind: str  # set | keep_file | adopt_file
    effective_from: dt.date | None
    value_toml: str | None
    file_basis: str


_lock = threading.Lock()
_overlay: tuple[Change, ...] = ()


def _table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'config_changes'"
        " AND table_catalog = current_database() AND table_schema = current_schema()"
    ).fetchall()
    return bool(rows[0][0])


def approved(con: duckdb.DuckDBPyConnection) -> tuple[Change, ...]:
    """The approved edits of a database, oldest first."""
    if not _table_exists(con):
        return ()
    rows = con.execute(
        "SELECT change_id, key, kind, effective_from, value_toml, file_basis FROM config_changes"
        " WHERE status = 'approved' ORDER BY change_id"
    ).fetchall()
    return tuple(Change(*row) for row in rows)


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Make the approved edits of this database the ones `config.current()` applies."""
    global _overlay
    found = approved(con)
    with _lock:
        _overlay = found


def overlay() -> tuple[Change, ...]:
    return _overlay


# -- the configuration in force ------------------------------------------------------------------


def parse_value(setting: Setting, text: str, where: str = "制度設定") -> Any:
    """A value typed as TOML, checked against its declaration (ConfigError names the key)."""
    try:
        raw = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: {setting.key}: not a TOML value ({exc})") from None
    return _dated(setting, raw, where)[0].value


def _basis_history(setting: Setting, basis: str) -> tuple[Dated, ...]:
    raw = tomllib.loads(f"value = {basis}")["value"]
    return _dated(setting, raw, "config_changes.file_basis")


@dataclass(frozen=True)
class KeyState:
    """How one edited key stands against its file."""

    key: str
    history: tuple[Dated, ...]  # in force: the base history with the app's entries over it
    file_history: tuple[Dated, ...]  # what the file says now
    basis_history: tuple[Dated, ...]  # what the file said when the app last touched the key
    conflict: bool  # the file changed since, and differs from what the app holds


def _merge(base: tuple[Dated, ...], entries: list[Dated]) -> tuple[Dated, ...]:
    by_day = {d.start: d for d in base}
    for entry in entries:  # oldest first: a later edit for the same day wins
        by_day[entry.start] = entry
    return tuple(by_day[day] for day in sorted(by_day))


def key_states(files: Config, changes: tuple[Change, ...]) -> dict[str, KeyState]:
    """Every key the app has edited, merged with its file."""
    states = {}
    keys = dict.fromkeys(c.key for c in changes)
    for key in keys:
        setting = BY_KEY.get(key)
        if setting is None or key not in files.values:
            continue  # a key no longer declared: the loader would refuse the files anyway
        mine = [c for c in changes if c.key == key]
        last_adopt = max((i for i, c in enumerate(mine) if c.kind == "adopt_file"), default=-1)
        live = mine[last_adopt + 1 :]
        file_history = files.history(key)
        basis_text = mine[-1].file_basis
        basis = _basis_history(setting, basis_text)
        entries = [
            Dated(c.effective_from, parse_value(setting, c.value_toml, "config_changes"))
            for c in live
            if c.kind == "set" and c.effective_from is not None and c.value_toml is not None
        ]
        held = _merge(basis, entries)
        changed = toml_out.dated_list(file_history) != basis_text
        folded = toml_out.dated_list(file_history) == toml_out.dated_list(held)
        conflict = changed and not folded and bool(entries)
        in_force = held if conflict else _merge(file_history, entries)
        states[key] = KeyState(key, in_force, file_history, basis, conflict)
    return states


_merged: dict[tuple[int, tuple[Change, ...]], tuple[Config, Config]] = {}


def effective(files: Config) -> Config:
    """The files with the approved edits of the database last opened laid over them."""
    changes = _overlay
    if not changes:
        return files
    cache_key = (id(files), changes)
    found = _merged.get(cache_key)
    if found is not None and found[0] is files:
        return found[1]
    states = key_states(files, changes)
    values = dict(files.values)
    for key, state in states.items():
        values[key] = state.history
    merged = Config(values, files.files)
    with _lock:
        if len(_merged) > 8:
            _merged.clear()
        _merged[cache_key] = (files, merged)
    return merged


def conflicts(files: Config, changes: tuple[Change, ...] | None = None) -> list[KeyState]:
    """The edited keys whose file changed after the edit (held at the app's history)."""
    states = key_states(files, _overlay if changes is None else changes)
    return [s for s in states.values() if s.conflict]


# -- writing edits ---------------------------------------------------------------------------------


def _last_run(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    row = con.execute("SELECT max(as_of) FROM renewal_runs").fetchall()
    return row[0][0] if row else None


def check_day(con: duckdb.DuckDBPyConnection, effective_from: dt.date, today: dt.date) -> None:
    """An edit applies from today or later, and after the last renewal run's date (the values
    a run decided with are history)."""
    last = _last_run(con)
    if effective_from < today:
        raise ValidationError(
            {"effective_from": "施行日は本日以降の日付にしてください（過去は変更できません）"}
        )
    if last is not None and effective_from <= last:
        raise ValidationError(
            {
                "effective_from": f"施行日は最後の更新処理の基準日（{last:%Y年%-m月%-d日}）より後にしてください"
            }
        )


def validate(files: Config, key: str, text: str, effective_from: dt.date) -> tuple[Setting, Any]:
    """The key's declaration and the value checked against it; ValidationError in words."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise ValidationError({"key": "この設定キーはありません"})
    try:
        checked = parse_value(setting, text.strip())
    except ConfigError:
        raise ValidationError(
            {
                "value": f"値の形式が違います。{TYPE_WORDS.get(setting.type, setting.type)}で入力してください"
            }
        ) from None
    return setting, checked


def _audit(
    con: duckdb.DuckDBPyConnection, actor: str, action: str, key: str, field: str | None,
    old: str | None, new: str | None, reason: str,
) -> None:  # fmt: skip
    from core.store import audit

    audit.record_changes(
        con, actor=actor, action=action, table="config", row_key=key,
        changes={field or "value": (old, new)}, reason=reason,
    )  # fmt: skip


def propose(
    con: duckdb.DuckDBPyConnection,
    *,
    key: str,
    value_text: str,
    effective_from: dt.date,
    reason: str,
    actor: str,
    files: Config,
    today: dt.date | None = None,
) -> int:
    """Record an edit: approved at once, or pending another admin's approval when
    `common.config.second_approval` is on. Returns its id."""
    day = today or dt.date.today()
    if not reason.strip():
        raise ValidationError({"reason": "変更の理由を入力してください"})
    _, checked = validate(files, key, value_text, effective_from)
    check_day(con, effective_from, day)
    text = toml_out.value(checked)
    in_force = effective(files)
    before = toml_out.value(in_force.value(key, effective_from))
    second_approval = bool(in_force.value("common.config.second_approval", on=day))
    status = "pending" if second_approval else "approved"
    con.execute("BEGIN TRANSACTION")
    try:
        row = con.execute(
            "INSERT INTO config_changes (key, kind, effective_from, value_toml, reason, file_basis,"
            " status, requested_by, decided_by, decided_at)"
            " VALUES (?, 'set', ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? THEN current_timestamp END)"
            " RETURNING change_id",
            [key, effective_from, text, reason.strip(), toml_out.dated_list(files.history(key)),
             status, actor, None if second_approval else actor, not second_approval],
        ).fetchall()  # fmt: skip
        _audit(con, actor, "config_set" if not second_approval else "config_propose", key,
               effective_from.isoformat(), before, text, reason.strip())  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    refresh(con)
    return int(row[0][0])


def decide(
    con: duckdb.DuckDBPyConnection,
    change_id: int,
    *,
    approve: bool,
    actor: str,
    note: str,
    today: dt.date | None = None,
) -> None:
    """Another admin approves or rejects a pending edit (the requester may only withdraw)."""
    found = con.execute(
        "SELECT key, effective_from, value_toml, requested_by, status FROM config_changes"
        " WHERE change_id = ?",
        [change_id],
    ).fetchall()
    if not found or found[0][4] != "pending":
        raise ConflictError("この変更はすでに処理されています。画面を更新してください。")
    key, effective_from, text, requested_by, _ = found[0]
    withdraw = actor == requested_by
    if withdraw and approve:
        raise ValidationError({"actor": "自分の変更は承認できません。別の管理者が承認します"})
    if approve:
        check_day(con, effective_from, today or dt.date.today())
    status = "approved" if approve else ("withdrawn" if withdraw else "rejected")
    if not approve and not withdraw and not note.strip():
        raise ValidationError({"note": "差し戻す理由を入力してください"})
    con.execute("BEGIN TRANSACTION")
    try:
        updated = con.execute(
            "UPDATE config_changes SET status = ?, decided_by = ?, decided_at = current_timestamp,"
            " decision_note = ? WHERE change_id = ? AND status = 'pending' RETURNING change_id",
            [status, actor, note.strip() or None, change_id],
        ).fetchall()
        if not updated:
            raise ConflictError("この変更はすでに処理されています。画面を更新してください。")
        action = {"approved": "config_approve", "rejected": "config_reject",
                  "withdrawn": "config_withdraw"}[status]  # fmt: skip
        day = effective_from.isoformat() if effective_from else None
        _audit(con, actor, action, key, day, None, text, note.strip() or status)
        con.execute("COMMIT")
    except duckdb.TransactionException as exc:  # another admin decided it at the same moment
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("ROLLBACK")
        raise ConflictError(
            "ほかの管理者が同時にこの変更を処理しました。画面を更新してください。"
        ) from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise
    refresh(con)


def resolve(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    keep_app: bool,
    reason: str,
    actor: str,
    files: Config,
) -> None:
    """Settle a conflict: keep the app's entries over the new file, or follow the file again
    (the app's entries for the key stop applying; they stay in the history)."""
    if not reason.strip():
        raise ValidationError({"reason": "理由を入力してください"})
    if key not in {s.key for s in conflicts(files, approved(con))}:
        raise ConflictError("この設定はファイルと食い違っていません。画面を更新してください。")
    kind = "keep_file" if keep_app else "adopt_file"
    basis = toml_out.dated_list(files.history(key))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO config_changes (key, kind, reason, file_basis, status, requested_by,"
            " decided_by, decided_at) VALUES (?, ?, ?, ?, 'approved', ?, ?, current_timestamp)",
            [key, kind, reason.strip(), basis, actor, actor],
        )
        _audit(con, actor, f"config_{kind}", key, "file", None, basis, reason.strip())
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    refresh(con)


def changes(con: duckdb.DuckDBPyConnection, prefix: str | None = None) -> list[dict[str, Any]]:
    """Every edit (newest first), optionally of one file's keys."""
    if not _table_exists(con):
        return []
    cursor = con.execute(
        "SELECT change_id, key, kind, effective_from, value_toml, reason, status, requested_by,"
        " requested_at, decided_by, decided_at, decision_note FROM config_changes"
        " WHERE $prefix::VARCHAR IS NULL OR starts_with(key, $prefix || '.')"
        " ORDER BY change_id DESC",
        {"prefix": prefix},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
