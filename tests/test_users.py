import pytest

from core import vocabulary
from core.access import users
from core.errors import ValidationError


def test_a_new_user_is_stored_with_a_bcrypt_hash_and_audited(sample):
    users.create(
        sample,
        username="clerk",
        display_name="事務 三郎",
        role="hq_staff",
        org_code="SAJ-13",
        password="long-enough",
        email=None,
        actor="admin",
    )
    record = users.get(sample, "clerk")
    assert (
        record["password_hash"].startswith("$2b$") and "long-enough" not in record["password_hash"]
    )
    assert users.check_password("long-enough", record["password_hash"])
    rows = sample.execute(
        "SELECT actor, field, new_value FROM audit_log WHERE table_name = 'users' AND row_key = 'clerk' ORDER BY field"
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
        ({"password": "short"}, "password"),
        ({"display_name": " "}, "display_name"),
    ],
)
def test_bad_user_input_names_the_field(sample, changes, field):
    values = {
        "username": "clerk",
        "display_name": "事務",
        "role": "hq_staff",
        "org_code": "*",
        "password": "long-enough",
        "email": None,
        **changes,
    }
    with pytest.raises(ValidationError) as caught:
        users.create(sample, actor="admin", **values)
    assert field in caught.value.errors


def test_a_disabled_user_cannot_log_in(sample):
    assert "hq" in users.credentials(sample)["usernames"]
    users.update(sample, username="hq", actor="admin", reason="退職", disabled=True)
    assert "hq" not in users.credentials(sample)["usernames"]
    assert sample.execute(
        "SELECT old_value, new_value, reason FROM audit_log WHERE row_key = 'hq' AND field = 'disabled'"
    ).fetchone() == ("False", "True", "退職")


def test_role_and_scope_changes_are_audited_and_need_a_reason(sample):
    with pytest.raises(ValidationError):
        users.update(sample, username="hq", actor="admin", reason="", role="approver")
    changes = users.update(
        sample, username="hq", actor="admin", reason="異動", role="approver", org_code="SAJ-22"
    )
    assert changes == {"role": ("hq_staff", "approver"), "org_code": ("*", "SAJ-22")}
    assert users.credentials(sample)["usernames"]["hq"]["roles"] == ["approver"]


def test_an_admin_cannot_disable_themself(sample):
    with pytest.raises(ValidationError):
        users.update(sample, username="admin", actor="admin", reason="誤操作", disabled=True)


def test_a_password_reset_is_audited_without_the_password(sample):
    users.reset_password(sample, username="hq", password="brand-new-pass", actor="admin", reason="")
    assert users.check_password("brand-new-pass", users.get(sample, "hq")["password_hash"])
    row = sample.execute(
        "SELECT action, old_value, new_value FROM audit_log WHERE row_key = 'hq' AND action = 'reset_password'"
    ).fetchone()
    assert row == ("reset_password", "＊＊＊", "＊＊＊")


def test_demo_users_cover_every_role(con):
    from core import imports

    from .conftest import DATA

    imports.import_file(con, "organizations", DATA / "organizations.csv")
    created = users.ensure_demo_users(con)
    roles = {users.get(con, u)["role"] for u in created}
    assert roles == set(vocabulary.ROLES)
    assert users.ensure_demo_users(con) == []
