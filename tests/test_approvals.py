"""Approval chains, send-back and resubmission, effects at approval, concurrency (seed 003)."""

from __future__ import annotations

import datetime as dt
import threading

import duckdb
import pytest

from core.applications import approvals, forms, records
from core.errors import ConflictError, ValidationError
from core.members import organizations
from core.store import db

NOW = dt.datetime(2026, 11, 24, 10, 0)


def apply(con: duckdb.DuckDBPyConnection, entered_by: str = "member", **values: object) -> int:
    """Enter one application through the form path; returns its id."""
    ref = forms.submit(con, values, actor="test", entered_by=entered_by, now=NOW)
    row = db.one(con, "SELECT application_id FROM applications WHERE application_ref = ?", [ref])
    assert row is not None
    return int(row[0])


def state(con: duckdb.DuckDBPyConnection, application_id: int) -> tuple[str, str | None, int]:
    row = db.one(
        con,
        "SELECT status, level_org_code, version FROM applications WHERE application_id = ?",
        [application_id],
    )
    assert row is not None
    return row[0], row[1], row[2]


def approve_once(con: duckdb.DuckDBPyConnection, application_id: int, **kw: object) -> dict:
    _, _, version = state(con, application_id)
    return approvals.approve(
        con,
        [(application_id, version)],
        role=str(kw.get("role", "admin")),
        scope=str(kw.get("scope", "*")),
        actor="approver-test",
        now=kw.get("now", NOW),  # type: ignore[arg-type]
    )


def walk(con: duckdb.DuckDBPyConnection, application_id: int) -> list[str]:
    """Approve level by level; the organisations that approved, in order."""
    seen = []
    while True:
        status, org, _ = state(con, application_id)
        if status != "pending":
            return seen
        seen.append(str(org))
        approve_once(con, application_id)


def lines(con: duckdb.DuckDBPyConnection, member_no: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for item, amount in con.execute(
        "SELECT item, amount FROM billing WHERE member_no = ? ORDER BY billing_id", [member_no]
    ).fetchall():
        found.setdefault(item, []).append(amount)
    return found


SEASON = {"scheme": "saj", "kind": "season_registration", "season": "2026"}


# -- chains --------------------------------------------------------------------------------


def test_member_of_a_club_under_a_regional_body_goes_through_all_four_levels(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    assert walk(sample, app) == ["SAJ-22-C001", "SAJ-22-R01", "SAJ-22", "SAJ"]
    assert state(sample, app)[0] == "approved"


def test_club_without_a_regional_body_skips_that_level(sample):
    app = apply(sample, member_no="A0000003", **SEASON)
    assert walk(sample, app) == ["SAJ-22-C002", "SAJ-22", "SAJ"]


def test_proxy_application_skips_the_club(sample):
    app = apply(sample, "proxy", member_no="A0000001", proxy_org_code="SAJ-22-C001", **SEASON)
    assert walk(sample, app) == ["SAJ-22-R01", "SAJ-22", "SAJ"]


def test_new_member_entered_from_the_admin_side_needs_club_approval(sample):
    app = apply(
        sample,
        "admin",
        scheme="saj",
        kind="new_registration",
        season="2026",
        org_code="SAJ-13-C001",
        family_name="伊藤",
        given_name="蓮",
        family_name_kana="イトウ",
        given_name_kana="レン",
        birth_date="2001-05-05",
        postal_code="100-0001",
        prefecture="東京都",
        address="千代田区千代田1-1",
    )
    assert walk(sample, app) == ["SAJ-13-C001", "SAJ-13", "SAJ"]
    member = db.one(
        sample,
        "SELECT m.member_no, m.org_code, m.family_name FROM applications a"
        " JOIN members m USING (member_no) WHERE a.application_id = ?",
        [app],
    )
    assert member == ("A0000005", "SAJ-13-C001", "伊藤")  # a new number, never a reused one
    assert lines(sample, "A0000005") == {"saj_annual_fee": [3500]}


def test_other_schemes_are_approved_by_hq_in_one_step(sample):
    app = apply(
        sample,
        member_no="J0000001",
        scheme="jptec",
        kind="extension",
        qualification="instructor",
        reason="illness",
    )
    assert walk(sample, app) == ["JPTEC"]


def test_transfer_is_approved_along_the_destination_and_moves_the_member_at_its_end(sample):
    apply(sample, member_no="A0000004", **SEASON)
    app = apply(sample, member_no="A0000004", kind="transfer", scheme="saj", season="2026",
                target_org_code="SAJ-22-C001")  # fmt: skip
    org = "SELECT org_code FROM members WHERE member_no = 'A0000004'"
    approve_once(sample, app)  # destination club
    approve_once(sample, app)  # destination region
    assert db.one(sample, org) == ("SAJ-13-C001",)
    approve_once(sample, app)  # destination prefecture: the transfer is done
    assert state(sample, app)[0] == "approved"
    assert db.one(sample, org) == ("SAJ-22-C001",)
    audit = sample.execute(
        "SELECT old_value, new_value FROM audit_log WHERE table_name = 'members'"
        " AND member_no = 'A0000004' AND field = 'org_code'"
    ).fetchall()
    assert audit == [("SAJ-13-C001", "SAJ-22-C001")]


# -- send back and resubmit ----------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    ["duplicate", "wrong_name", "returned_qualification", "address_not_found", "fictitious"],
)
def test_each_send_back_reason_returns_the_application_with_its_reason(sample, reason):
    app = apply(sample, member_no="A0000001", **SEASON)
    approve_once(sample, app)
    approve_once(sample, app)
    _, org, version = state(sample, app)
    assert org == "SAJ-22"
    approvals.send_back(sample, app, version, reason=reason, note="クラブに確認します",
                        role="admin", scope="*", actor="pref", now=NOW)  # fmt: skip
    assert state(sample, app)[0] == "sent_back"
    step = db.one(
        sample,
        "SELECT action, level, org_code, reason, note FROM application_steps"
        " WHERE application_id = ? ORDER BY step_id DESC LIMIT 1",
        [app],
    )
    assert step == ("sent_back", "prefecture", "SAJ-22", reason, "クラブに確認します")


def test_a_reason_outside_the_list_is_refused(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    with pytest.raises(ValidationError):
        approvals.send_back(sample, app, state(sample, app)[2], reason="bored", note="",
                            role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    assert state(sample, app)[0] == "pending"


def test_resubmission_after_correction_starts_the_chain_again(sample):
    app = apply(sample, member_no="A0000001", **SEASON, insurance_plan="basic")
    approve_once(sample, app)
    approvals.send_back(sample, app, state(sample, app)[2], reason="wrong_name", note="",
                        role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    approvals.resubmit(sample, app, state(sample, app)[2],
                       corrections={"insurance_plan": "premium", "note": "保険を変更"},
                       actor="club", now=NOW + dt.timedelta(hours=2))  # fmt: skip
    status, org, _ = state(sample, app)
    assert (status, org) == ("pending", "SAJ-22-C001")
    actions = [r[0] for r in sample.execute(
        "SELECT action FROM application_steps WHERE application_id = ? ORDER BY step_id", [app]
    ).fetchall()]  # fmt: skip
    assert actions == ["submitted", "approved", "sent_back", "resubmitted"]
    walk(sample, app)
    assert lines(sample, "A0000001")["saj_insurance"] == [5000]


def test_only_sent_back_applications_can_be_resubmitted(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    with pytest.raises(ConflictError):
        approvals.resubmit(sample, app, state(sample, app)[2], corrections={}, actor="x")


# -- effects at approval -------------------------------------------------------------------


def test_qualified_members_prefecture_difference_is_billed_at_prefecture_approval(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    approve_once(sample, app)
    approve_once(sample, app)
    assert lines(sample, "A0000001") == {}
    approve_once(sample, app)  # prefecture
    assert lines(sample, "A0000001") == {"saj_prefecture_qualified": [2000]}
    description = db.one(
        sample, "SELECT description FROM billing WHERE item = 'saj_prefecture_qualified'"
    )
    assert description == ("2026年度 県連会費有資格者差額 2,000円",)


def test_saj_approval_bills_yearly_fee_each_qualification_insurance_and_competitor(sample):
    app = apply(sample, member_no="A0000001", **SEASON, insurance_plan="standard",
                competitor="fis_alpine")  # fmt: skip
    walk(sample, app)
    assert lines(sample, "A0000001") == {
        "saj_prefecture_qualified": [2000],
        "saj_annual_fee": [3500],  # SAJ 3,000 + prefecture 500
        "saj_qualification_registration": [1000, 1000],  # instructor and examiner
        "saj_insurance": [3000],
        "saj_competitor": [5000],
    }


def test_high_school_member_pays_the_high_school_fee_and_no_difference_without_qualification(
    sample,
):
    app = apply(sample, member_no="A0000003", **SEASON)
    walk(sample, app)
    assert lines(sample, "A0000003") == {"saj_annual_fee": [1000]}


def test_returned_qualification_is_erased_only_at_saj_approval_and_not_billed(sample):
    registration = apply(sample, member_no="A0000001", **SEASON)
    back = apply(sample, member_no="A0000001", scheme="saj", kind="qualification_return",
                 season="2026", qualification="examiner")  # fmt: skip
    status = "SELECT status FROM qualifications WHERE member_no = 'A0000001' AND qualification = ?"
    for _ in range(3):
        approve_once(sample, back)
    assert db.one(sample, status, ["examiner"]) == ("active",)
    approve_once(sample, back)  # SAJ
    assert db.one(sample, status, ["examiner"]) == ("erased",)
    walk(sample, registration)
    assert lines(sample, "A0000001")["saj_qualification_registration"] == [1000]


def test_saj_return_or_transfer_without_an_open_season_registration_is_refused(sample):
    with pytest.raises(ValidationError) as caught:
        apply(sample, member_no="A0000001", scheme="saj", kind="qualification_return",
              season="2026", qualification="examiner")  # fmt: skip
    assert "SAJ承認後は変更できません" in caught.value.errors["kind"]


def test_nothing_changes_after_national_approval(sample):
    app = apply(sample, member_no="A0000002", **SEASON)
    walk(sample, app)
    _, _, version = state(sample, app)
    with pytest.raises(ConflictError):
        approvals.approve(sample, [(app, version)], role="admin", scope="*", actor="x")
    with pytest.raises(ConflictError):
        approvals.send_back(sample, app, version, reason="duplicate", note="", role="admin",
                            scope="*", actor="x")  # fmt: skip
    with pytest.raises(ConflictError):
        approvals.withdraw(sample, app, version, note="", actor="x")


def test_suspension_suspends_the_qualification_at_approval(sample):
    app = apply(sample, member_no="J0000001", scheme="jptec", kind="suspension",
                qualification="instructor", reason="childcare")  # fmt: skip
    walk(sample, app)
    row = db.one(
        sample,
        "SELECT status FROM qualifications WHERE member_no = 'J0000001'"
        " AND qualification = 'instructor'",
    )
    assert row == ("suspended",)


def test_information_change_needs_no_approval_and_is_audited(sample):
    app = apply(sample, member_no="A0000002", scheme="saj", kind="information_change",
                email="new@example.jp", phone="090-9999-0000")  # fmt: skip
    assert state(sample, app)[0] == "approved"
    row = db.one(sample, "SELECT email, phone, phone_key FROM members WHERE member_no = 'A0000002'")
    assert row == ("new@example.jp", "090-9999-0000", "09099990000")
    fields = sample.execute(
        "SELECT field FROM audit_log WHERE member_no = 'A0000002' AND action = 'update'"
        " ORDER BY field"
    ).fetchall()
    assert fields == [("email",), ("phone",)]


# -- JPTEC non-card payment request -------------------------------------------------------


def open_instructor_fee(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, status)"
        " VALUES ('J0000001', 'jptec', 'jptec_instructor_renewal', '更新会費', 2000,"
        " '2026-11-01', 'open')"
    )


def test_non_card_request_with_a_wrong_end_date_is_refused_without_mail(sample):
    open_instructor_fee(sample)
    app = apply(sample, member_no="J0000001", scheme="jptec", kind="non_card_payment",
                valid_until_claimed="2026-11-29")  # fmt: skip
    assert state(sample, app)[0] == "rejected"
    note = db.one(
        sample,
        "SELECT note FROM application_steps WHERE application_id = ? AND action = 'rejected'",
        [app],
    )
    assert note is not None and "メールは送りません" in note[0]


def test_non_card_request_without_an_open_fee_is_refused(sample):
    app = apply(sample, member_no="J0000001", scheme="jptec", kind="non_card_payment",
                valid_until_claimed="2026-11-30")  # fmt: skip
    assert state(sample, app)[0] == "rejected"


@pytest.mark.parametrize(("day", "fee"), [(dt.date(2023, 9, 30), 0), (dt.date(2023, 10, 1), 700)])
def test_accepted_non_card_request_adds_the_handling_fee_in_force_on_approval(sample, day, fee):
    open_instructor_fee(sample)
    app = apply(sample, member_no="J0000001", scheme="jptec", kind="non_card_payment",
                valid_until_claimed="2026-11-30")  # fmt: skip
    assert state(sample, app)[0] == "pending"
    approve_once(sample, app, now=dt.datetime.combine(day, dt.time(10)))
    row = db.one(
        sample, "SELECT handling_fee FROM billing WHERE member_no = 'J0000001' AND status = 'open'"
    )
    assert row == (fee,)


# -- who may approve, all or nothing, and two approvers at once -----------------------------


def test_prefecture_approver_cannot_approve_at_club_level(sample):
    app = apply(sample, member_no="A0000003", **SEASON)
    with pytest.raises(ConflictError):
        approve_once(sample, app, role="approver", scope="SAJ-22")
    assert state(sample, app)[1] == "SAJ-22-C002"
    approve_once(sample, app)  # the club
    approve_once(sample, app, role="approver", scope="SAJ-22")
    assert state(sample, app)[1] == "SAJ"


def test_hq_staff_cannot_approve(sample):
    app = apply(sample, member_no="A0000003", **SEASON)
    with pytest.raises(PermissionError):
        approve_once(sample, app, role="hq_staff")


def test_approving_many_is_all_or_nothing(sample):
    first = apply(sample, member_no="A0000001", **SEASON)
    second = apply(sample, member_no="A0000002", **SEASON)
    stale = state(sample, second)[2] - 1
    with pytest.raises(ConflictError) as caught:
        approvals.approve(sample, [(first, state(sample, first)[2]), (second, stale)],
                          role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    assert "何も承認していません" in str(caught.value)
    ref = db.one(sample, "SELECT application_ref FROM applications WHERE application_id = ?",
                 [second])[0]  # fmt: skip
    assert f"（{ref}）" in str(caught.value)  # named as staff know it, not by an internal id
    assert state(sample, first)[1] == "SAJ-22-C001"
    assert db.one(sample, "SELECT count(*) FROM application_steps WHERE action = 'approved'") == (
        0,
    )


def test_second_approver_with_the_same_version_gets_a_clear_message(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    version = state(sample, app)[2]
    approvals.approve(sample, [(app, version)], role="admin", scope="*", actor="a", now=NOW)
    with pytest.raises(ConflictError, match="ほかの承認者が先に処理"):
        approvals.approve(sample, [(app, version)], role="admin", scope="*", actor="b", now=NOW)
    assert state(sample, app)[1] == "SAJ-22-R01"  # moved one level, not two


def test_two_approvers_at_the_same_moment_one_wins(sample_path):
    with db.connect(sample_path) as con:
        app = apply(con, member_no="A0000001", **SEASON)
        version = state(con, app)[2]
        results: list[str] = []
        gate = threading.Barrier(2)

        def act(name: str) -> None:
            cursor = con.cursor()
            gate.wait()
            try:
                approvals.approve(cursor, [(app, version)], role="admin", scope="*",
                                  actor=name, now=NOW)  # fmt: skip
                results.append("approved")
            except ConflictError:
                results.append("conflict")
            finally:
                cursor.close()

        threads = [threading.Thread(target=act, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["approved", "conflict"]
        assert state(con, app)[1] == "SAJ-22-R01"
        steps = db.one(
            con,
            "SELECT count(*) FROM application_steps WHERE application_id = ? AND action = 'approved'",
            [app],
        )
        assert steps == (1,)


def test_withdrawn_application_leaves_the_queue(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    approvals.withdraw(sample, app, state(sample, app)[2], note="本人の申し出", actor="x")
    assert state(sample, app)[0] == "withdrawn"


def test_history_lists_every_step_with_the_organisations(sample):
    app = apply(sample, "proxy", member_no="A0000003", proxy_org_code="SAJ-22-C002", **SEASON)
    walk(sample, app)
    history = records.history(sample, app)
    assert history["action"].to_list() == ["submitted", "approved", "approved"]
    assert history["org_name"].to_list()[1:] == ["静岡県スキー連盟", "公益財団法人全日本スキー連盟"]


def test_non_card_fee_goes_on_the_latest_open_line_once_and_is_audited(sample):
    open_instructor_fee(sample)
    sample.execute(
        "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, status)"
        " VALUES ('J0000001', 'jptec', 'jptec_instructor_renewal', '更新会費', 2000,"
        " '2026-11-10', 'open')"
    )
    app = apply(sample, member_no="J0000001", scheme="jptec", kind="non_card_payment",
                valid_until_claimed="2026-11-30")  # fmt: skip
    approve_once(sample, app)
    fees = sample.execute(
        "SELECT issued_on::VARCHAR, handling_fee FROM billing WHERE member_no = 'J0000001'"
        " ORDER BY issued_on"
    ).fetchall()
    assert fees == [("2026-11-01", 0), ("2026-11-10", 700)]
    audited = sample.execute(
        "SELECT old_value, new_value FROM audit_log WHERE table_name = 'billing'"
        " AND field = 'handling_fee'"
    ).fetchall()
    assert audited == [("0", "700")]


def test_competitor_registration_can_be_added_after_saj_approval_and_bills_only_its_fee(sample):
    walk(sample, apply(sample, member_no="A0000002", **SEASON))
    before = lines(sample, "A0000002")
    app = apply(sample, member_no="A0000002", scheme="saj", kind="competitor_registration",
                season="2026", competitor="fis_alpine")  # fmt: skip
    walk(sample, app)
    assert lines(sample, "A0000002") == {**before, "saj_competitor": [5000]}


def test_competitor_registration_needs_the_seasons_registration(sample):
    with pytest.raises(ValidationError) as caught:
        apply(sample, member_no="A0000002", scheme="saj", kind="competitor_registration",
              season="2026", competitor="saj_alpine")  # fmt: skip
    assert "会員登録があるSAJ会員だけ" in caught.value.errors["kind"]


def test_a_resubmission_is_checked_like_a_new_application(sample):
    app = apply(sample, member_no="A0000004", **SEASON)
    transfer = apply(sample, member_no="A0000004", scheme="saj", kind="transfer", season="2026",
                     target_org_code="SAJ-22-C001")  # fmt: skip
    approvals.send_back(sample, transfer, state(sample, transfer)[2], reason="wrong_name",
                        note="", role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        forms.resubmit(sample, transfer, state(sample, transfer)[2],
                                   {"target_org_code": "JPTEC-13-C01"}, actor="club")  # fmt: skip
    assert "移籍先がこの制度の組織ではありません" in caught.value.errors["target_org_code"]
    assert state(sample, transfer)[0] == "sent_back"
    forms.resubmit(sample, transfer, state(sample, transfer)[2],
                               {"target_org_code": "SAJ-22-C002"}, actor="club")  # fmt: skip
    assert state(sample, transfer)[:2] == ("pending", "SAJ-22-C002")  # the new destination's club
    assert state(sample, app)[0] == "pending"


def test_a_proxy_transfer_still_needs_the_destination_club(sample):
    apply(sample, member_no="A0000001", **SEASON)
    app = apply(sample, "proxy", member_no="A0000001", scheme="saj", kind="transfer",
                season="2026", target_org_code="SAJ-22-C002", proxy_org_code="SAJ-22-C001")  # fmt: skip
    assert walk(sample, app) == ["SAJ-22-C002", "SAJ-22"]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"member_no": "J0000001", **SEASON}, "member_no", "この制度の会員ではありません"),
        ({"member_no": "A0000004", "proxy_org_code": "SAJ-22-C001", **SEASON}, "proxy_org_code",
         "所属クラブだけ"),
    ],
)  # fmt: skip
def test_an_application_must_belong_to_the_scheme_and_a_proxy_to_the_members_club(
    sample, values, field, message
):
    with pytest.raises(ValidationError) as caught:
        apply(sample, "proxy" if "proxy_org_code" in values else "member", **values)
    assert message in caught.value.errors[field]


def test_two_registrations_of_one_member_approved_together_are_billed_once(sample):
    first = apply(sample, member_no="A0000001", **SEASON)
    second = apply(sample, member_no="A0000001", **SEASON)
    for _ in range(4):
        approvals.approve(sample, [(a, state(sample, a)[2]) for a in (first, second)],
                          role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    assert lines(sample, "A0000001") == {
        "saj_prefecture_qualified": [2000],
        "saj_annual_fee": [3500],
        "saj_qualification_registration": [1000, 1000],
    }


def test_a_second_competitor_class_added_later_is_billed_too(sample):
    walk(sample, apply(sample, member_no="A0000002", **SEASON, competitor="saj_alpine"))
    walk(sample, apply(sample, member_no="A0000002", scheme="saj", kind="competitor_registration",
                       season="2026", competitor="fis_alpine"))  # fmt: skip
    assert lines(sample, "A0000002")["saj_competitor"] == [3000, 5000]


def test_withdrawing_after_the_prefecture_cancels_the_unpaid_difference(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    for _ in range(3):
        approve_once(sample, app)
    assert lines(sample, "A0000001") == {"saj_prefecture_qualified": [2000]}
    approvals.withdraw(sample, app, state(sample, app)[2], note="本人の申し出", actor="x")
    assert db.one(sample, "SELECT status FROM billing WHERE member_no = 'A0000001'") == (
        "cancelled",
    )


def test_an_approver_scoped_to_every_organisation_may_not_approve(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    with pytest.raises(PermissionError, match="全組織"):
        approve_once(sample, app, role="approver", scope="*")
    assert state(sample, app)[1] == "SAJ-22-C001"


def test_an_application_whose_level_left_the_tree_is_not_approved_silently(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    approve_once(sample, app)  # now at the regional body SAJ-22-R01
    sample.execute("UPDATE organizations SET kind = 'club' WHERE org_code = 'SAJ-22-R01'")
    with pytest.raises(ConflictError, match="承認の経路が見つからない"):
        approve_once(sample, app)
    assert state(sample, app)[:2] == ("pending", "SAJ-22-R01")


def test_two_approvers_billing_one_member_at_the_same_moment_bill_once(sample_path):
    with db.connect(sample_path) as con:
        first = apply(con, member_no="A0000002", **SEASON)
        second = apply(con, member_no="A0000002", **SEASON)
        for app in (first, second):
            for _ in range(3):
                approve_once(con, app)  # both now wait at SAJ
        gate = threading.Barrier(2)
        results: list[str] = []

        def act(app: int) -> None:
            cursor = con.cursor()
            version = state(cursor, app)[2]
            gate.wait()
            try:
                approvals.approve(cursor, [(app, version)], role="admin", scope="*",
                                  actor=f"a{app}", now=NOW)  # fmt: skip
                results.append("approved")
            except ConflictError:
                results.append("conflict")
            finally:
                cursor.close()

        threads = [threading.Thread(target=act, args=(a,)) for a in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        annual = con.execute(
            "SELECT count(*) FROM billing WHERE member_no = 'A0000002' AND item = 'saj_annual_fee'"
        ).fetchall()
    assert annual == [(1,)]
    assert "approved" in results


# --- two people on one application at the same moment: the later one is told, nothing half-done


def while_another_acts(sample, monkeypatch, first, second):
    """Run `first` on its own connection until it has read the application inside its
    transaction, let `second` act and commit on another connection, then let `first` go on.
    Returns what `first` raised (or None)."""
    has_read, second_done = threading.Event(), threading.Event()
    read = approvals._one

    def read_then_wait(con, application_id, version):
        record = read(con, application_id, version)
        if threading.current_thread().name == "first":
            has_read.set()
            assert second_done.wait(10)
        return record

    monkeypatch.setattr(approvals, "_one", read_then_wait)
    outcome: dict[str, BaseException | None] = {}

    def run_first() -> None:
        cursor = sample.cursor()
        try:
            first(cursor)
            outcome["first"] = None
        except BaseException as exc:  # reported to the test
            outcome["first"] = exc
        finally:
            cursor.close()

    thread = threading.Thread(target=run_first, name="first")
    thread.start()
    assert has_read.wait(10)
    second(sample.cursor())
    second_done.set()
    thread.join()
    return outcome["first"]


def steps_of(con, app):
    return [r[0] for r in con.execute(
        "SELECT action FROM application_steps WHERE application_id = ? ORDER BY step_id", [app]
    ).fetchall()]  # fmt: skip


def test_a_send_back_that_meets_an_approval_at_the_same_moment_is_refused(sample, monkeypatch):
    app = apply(sample, member_no="A0000001", **SEASON)
    version = state(sample, app)[2]
    failed = while_another_acts(
        sample,
        monkeypatch,
        lambda c: approvals.send_back(c, app, version, reason="wrong_name", note="",
                                      role="admin", scope="*", actor="a", now=NOW),
        lambda c: approvals.approve(c, [(app, version)], role="admin", scope="*", actor="b",
                                    now=NOW),
    )  # fmt: skip
    assert isinstance(failed, ConflictError) and "同時に" in str(failed)
    assert state(sample, app)[:2] == ("pending", "SAJ-22-R01")  # the approval stands alone
    assert steps_of(sample, app) == ["submitted", "approved"]


def test_a_resubmission_that_meets_a_withdrawal_at_the_same_moment_is_refused(sample, monkeypatch):
    app = apply(sample, member_no="A0000001", **SEASON)
    approvals.send_back(sample, app, state(sample, app)[2], reason="wrong_name", note="",
                        role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    version = state(sample, app)[2]
    failed = while_another_acts(
        sample,
        monkeypatch,
        lambda c: approvals.resubmit(c, app, version, corrections={"note": "直しました"},
                                     actor="club", now=NOW),
        lambda c: approvals.withdraw(c, app, version, note="取下げ", actor="member", now=NOW),
    )  # fmt: skip
    assert isinstance(failed, ConflictError)
    assert state(sample, app)[0] == "withdrawn"
    assert steps_of(sample, app) == ["submitted", "sent_back", "withdrawn"]
    assert db.one(sample, "SELECT note FROM applications WHERE application_id = ?", [app]) == (
        None,
    )


def test_a_withdrawal_that_meets_an_approval_at_the_same_moment_is_refused(sample, monkeypatch):
    app = apply(sample, member_no="A0000001", **SEASON)
    version = state(sample, app)[2]
    failed = while_another_acts(
        sample,
        monkeypatch,
        lambda c: approvals.withdraw(c, app, version, note="", actor="member", now=NOW),
        lambda c: approvals.approve(c, [(app, version)], role="admin", scope="*", actor="b",
                                    now=NOW),
    )  # fmt: skip
    assert isinstance(failed, ConflictError)
    assert state(sample, app)[:2] == ("pending", "SAJ-22-R01")
    assert steps_of(sample, app) == ["submitted", "approved"]


@pytest.mark.parametrize("action", ["send_back", "resubmit", "withdraw"])
def test_acting_on_a_version_someone_else_changed_is_refused_in_words(sample, action):
    app = apply(sample, member_no="A0000001", **SEASON)
    if action == "resubmit":
        approvals.send_back(sample, app, state(sample, app)[2], reason="wrong_name", note="",
                            role="admin", scope="*", actor="x", now=NOW)  # fmt: skip
    seen = state(sample, app)[2]
    sample.execute("UPDATE applications SET version = version + 1 WHERE application_id = ?", [app])
    before = (state(sample, app), steps_of(sample, app))
    with pytest.raises(ConflictError, match="ほかの担当者が先に処理しました"):
        if action == "send_back":
            approvals.send_back(sample, app, seen, reason="wrong_name", note="",
                                role="admin", scope="*", actor="a", now=NOW)  # fmt: skip
        elif action == "resubmit":
            approvals.resubmit(sample, app, seen, corrections={}, actor="a", now=NOW)
        else:
            approvals.withdraw(sample, app, seen, note="", actor="a", now=NOW)
    assert (state(sample, app), steps_of(sample, app)) == before


# --- scope: staff enter applications only for what they are responsible for ---------------------


@pytest.mark.parametrize(
    ("scope", "org", "inside"),
    [
        ("SAJ-22", "SAJ-22-C001", True),
        ("SAJ-22", "SAJ-22", True),  # the scope's own organisation
        ("SAJ-22-R01", "SAJ-22-C001", True),
        ("SAJ-22-R01", "SAJ-13-C001", False),
        ("SAJ-13", "SAJ-22", False),  # a parent is not beneath its child
        ("*", "SAJ-13-C001", True),
    ],
)
def test_an_organisation_is_in_scope_only_beneath_the_users_organisation(
    sample, scope, org, inside
):
    assert organizations.in_scope(sample, scope, org) is inside


def test_staff_cannot_enter_a_proxy_application_for_a_club_outside_their_scope(sample):
    with pytest.raises(ValidationError) as caught:
        forms.submit(
            sample,
            {"member_no": "A0000001", "scheme": "saj", "kind": "season_registration",
             "season": "2026", "proxy_org_code": "SAJ-13-C001"},
            actor="hq_shizuoka", entered_by="proxy", scope="SAJ-22", now=NOW,
        )  # fmt: skip
    assert caught.value.errors == {"proxy_org_code": "組織 SAJ-13-C001 は担当範囲にありません。"}
    assert db.one(sample, "SELECT count(*) FROM applications") == (0,)


def test_staff_cannot_enter_a_new_member_into_a_club_outside_their_scope(sample):
    with pytest.raises(ValidationError) as caught:
        forms.submit(
            sample,
            {"scheme": "saj", "kind": "new_registration", "season": "2026",
             "org_code": "SAJ-13-C001", "family_name": "伊藤", "given_name": "蓮",
             "family_name_kana": "イトウ", "given_name_kana": "レン", "birth_date": "2001-05-05"},
            actor="hq_shizuoka", entered_by="admin", scope="SAJ-22", now=NOW,
        )  # fmt: skip
    assert set(caught.value.errors) == {"org_code"}
    assert db.one(sample, "SELECT count(*) FROM applications") == (0,)
