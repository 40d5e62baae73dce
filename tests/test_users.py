"""Staff users: creation, policy, roles and scope, resets and own changes — all audited."""

import pytest

from core import vocabulary
from core.access import login, passwords, users
from core.errors import ValidationError

GOOD = "Kawa-Sakura-Hoshi-2031"


def test_a_new_user_is_stored_with_a_bcrypt_hash_and_audited(sample):
    users.create(sample, username="clerk", display_name="事務 三郎", role="hq_staff",
                 org_code="SAJ-13", password=GOOD, email=None, actor="admin")  # fmt: skip
    record = users.get(sample, "clerk")
    assert record["password_hash"].startswith("$2b$") and GOOD not in record["password_hash"]
    assert passwords.check_password(GOOD, record["password_hash"])
    assert (record["must_change_password"], record["demo_password"]) == (False, False)
    rows = sample.execute(
        "SELECT actor, field, new_value FROM audit_log WHERE table_name = 'users'"
        " AND row_key = 'clerk' ORDER BY field"
    ).fetchall()
    assert rows == [
        ("admin", "display_name", "事務 三郎"),
        ("admin", "org_code", "SAJ-13"),
        ("admin", "role", "hq_staff"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"username": "admin"}, "username"),
        ({"role": "superuser"}, "role"),
        ({"org_code": "NOPE"}, "org_code"),
        ({"display_name": " "}, "display_name"),
    ],
)
def test_bad_user_input_names_the_field(sample, changes, field):
    values = {"username": "clerk", "display_name": "事務", "role": "hq_staff", "org_code": "*",
              "password": GOOD, "email": None, **changes}  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        users.create(sample, actor="admin", **values)
    assert field in caught.value.errors


@pytest.mark.parametrize(
    ("password", "accepted", "words"),
    [
        ("Kawa-Sakur1", False, "12文字以上"),  # 11 characters
        ("Kawa-Sakur12", True, None),  # 12
        ("password1password1", False, "推測されやすい"),
        ("aaaaaaaaaaaaaaaa", False, "推測されやすい"),
        ("clerk-Sakura-Hoshi-9", False, "ユーザーID"),
        ("全日本スキー連盟-Hoshi-2031", False, "団体名"),
        ("JPTEC-Sakura-Hoshi", False, "団体名"),
        (passwords.DEMO_PASSWORD, False, "デモ用"),
    ],
)
def test_a_password_is_long_not_guessable_and_names_no_user_or_body(
    sample, password, accepted, words
):
    found = passwords.problems(password, username="clerk", display_name="事務 三郎")
    assert (found == []) is accepted
    if words:
        assert any(words in problem for problem in found), found


def test_disabling_a_user_ends_their_sessions_and_is_audited(sample):
    attempt = login.authenticate(sample, "hq", "test-pass-123")
    users.update(sample, username="hq", actor="admin", reason="退職", disabled=True)
    assert login.current(sample, attempt.session_id) == (None, "ended")
    assert sample.execute(
        "SELECT old_value, new_value, reason FROM audit_log WHERE row_key = 'hq'"
        " AND field = 'disabled'"
    ).fetchone() == ("False", "True", "退職")
    assert login.authenticate(sample, "hq", "test-pass-123").message == login.DISABLED


def test_role_and_scope_changes_are_audited_and_need_a_reason(sample):
    with pytest.raises(ValidationError):
        users.update(sample, username="hq", actor="admin", reason="", role="approver")
    changes = users.update(
        sample, username="hq", actor="admin", reason="異動", role="approver", org_code="SAJ-22"
    )
    assert changes == {"role": ("hq_staff", "approver"), "org_code": ("*", "SAJ-22")}
    assert users.get(sample, "hq")["role"] == "approver"


def test_an_admin_cannot_disable_themself(sample):
    with pytest.raises(ValidationError):
        users.update(sample, username="admin", actor="admin", reason="誤操作", disabled=True)


def test_a_reset_is_audited_without_the_password_and_must_be_changed_at_log_in(sample):
    attempt = login.authenticate(sample, "hq", "test-pass-123")
    users.reset_password(sample, username="hq", password=GOOD, actor="admin", reason="")
    record = users.get(sample, "hq")
    assert passwords.check_password(GOOD, record["password_hash"])
    assert record["must_change_password"] is True
    row = sample.execute(
        "SELECT action, old_value, new_value FROM audit_log WHERE row_key = 'hq'"
        " AND action = 'reset_password'"
    ).fetchone()
    assert row == ("reset_password", "＊＊＊", "＊＊＊")
    assert login.current(sample, attempt.session_id) == (None, "ended")  # the admin knows it


def test_a_weak_reset_is_refused(sample):
    with pytest.raises(ValidationError) as caught:
        users.reset_password(sample, username="hq", password="short", actor="admin", reason="")
    assert "12文字以上" in caught.value.errors["password"]


def test_a_user_changes_their_own_password_with_the_current_one_and_the_new_twice(sample):
    users.reset_password(sample, username="hq", password=GOOD, actor="admin", reason="")
    here = login.authenticate(sample, "hq", GOOD).session_id
    elsewhere = login.authenticate(sample, "hq", GOOD).session_id
    mine = "Mori-Tsuki-Kumo-2032"
    for current, new, again, field in (
        ("wrong-current-pw", mine, mine, "current"),
        (GOOD, mine, mine + "x", "again"),
        (GOOD, GOOD, GOOD, "password"),
        (GOOD, "short", "short", "password"),
    ):
        with pytest.raises(ValidationError) as caught:
            users.change_own_password(sample, username="hq", current=current, new=new,
                                      again=again, session_id=here)  # fmt: skip
        assert field in caught.value.errors
    users.change_own_password(sample, username="hq", current=GOOD, new=mine, again=mine,
                              session_id=here)  # fmt: skip
    record = users.get(sample, "hq")
    assert passwords.check_password(mine, record["password_hash"])
    assert record["must_change_password"] is False
    assert login.current(sample, here)[0] is not None  # this browser stays signed in
    assert login.current(sample, elsewhere) == (None, "ended")
    assert mine not in " ".join(
        str(v) for r in sample.execute("SELECT * FROM audit_log").fetchall() for v in r
    )


def test_demo_users_cover_every_role_with_the_marked_demo_password(con):
    from core import imports

    from .conftest import DATA

    imports.import_file(con, "organizations", DATA / "organizations.csv")
    created = users.ensure_demo_users(con)
    roles = {users.get(con, u)["role"] for u in created}
    assert roles == set(vocabulary.ROLES)
    assert users.ensure_demo_users(con) == []
    assert users.with_demo_password(con) == sorted(created)
    users.reset_password(con, username="admin", password=GOOD, actor="admin", reason="")
    assert "admin" not in users.with_demo_password(con)
