import threading

import pytest

from core import masking
from core.errors import ConflictError, ValidationError
from core.members import contact
from core.members import records as members
from core.members.records import MemberQuery
from core.store import db


def numbers(con, scope="*", **query):
    total, page = members.search(con, scope, MemberQuery(**query))
    assert total == page.height or query.get("page_size")
    return page["member_no"].to_list()


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("A0000001", ["A0000001"]),
        ("a000000", ["A0000002", "A0000003", "A0000004", "A0000001"]),
        ("山田", ["J0000002", "A0000001"]),
        ("山田 太郎", ["A0000001"]),
        ("やまだ", ["J0000002", "A0000001"]),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", ["A0000001"]),
        ("ヤマダタロウ", ["A0000001"]),
        ("ｽｽﾞｷ", ["A0000003"]),
        ("090-1234", ["A0000001"]),
        ("０９０１２３４５６７８", ["A0000001"]),
        ("hanako@EXAMPLE", ["A0000002"]),
        ("存在しない", []),
    ],
)
def test_search_matches_number_name_kana_in_any_width_phone_and_email(sample, keyword, expected):
    assert numbers(sample, keyword=keyword) == expected


def test_the_search_field_can_be_forced(sample):
    assert numbers(sample, keyword="タロウ", search_field="kana") == ["A0000001"]
    assert numbers(sample, keyword="タロウ", search_field="name") == []


def test_a_user_sees_only_members_beneath_their_organisation(sample):
    assert numbers(sample, scope="SAJ-22-R01") == ["A0000002", "A0000001"]
    assert numbers(sample, scope="SAJ-22") == ["A0000002", "A0000003", "A0000001"]
    assert numbers(sample, scope="JPTEC", keyword="山田") == ["J0000002"]
    assert members.get(sample, "SAJ-22", "A0000004") is None
    assert members.get(sample, "SAJ-13", "A0000004")["member_no"] == "A0000004"


def test_filters_by_organisation_qualification_and_status(sample):
    assert numbers(sample, org_code="SAJ-22-C002") == ["A0000003"]
    assert numbers(sample, scheme="saj", qualification="examiner") == ["A0000001"]
    assert numbers(sample, scheme="jptec", qualification_status="lapsed") == ["J0000002"]
    assert numbers(sample, status="withdrawn") == []


def test_paging_reports_the_total(sample):
    total, first = members.search(sample, "*", MemberQuery(page_size=4))
    _, second = members.search(sample, "*", MemberQuery(page_size=4, page=2))
    assert total == 6
    assert first.height == 4 and second.height == 2
    assert set(first["member_no"]).isdisjoint(second["member_no"])
    assert members.search(sample, "*", MemberQuery(page_size=4, page=9))[0] == 6


def test_analysts_see_personal_data_masked(sample):
    _, page = members.search(sample, "*", MemberQuery(keyword="A0000001"))
    masked = masking.mask_personal(page).row(0, named=True)
    assert masked["name"] == "山＊＊"
    assert masked["kana"] == masking.MASK
    assert masked["birth_date"] == "1980年"
    assert masked["phone"] == masking.MASK and masked["email"] == masking.MASK
    assert masked["member_no"] == "A0000001" and masked["organization"] == "富士山スキークラブ"


CURRENT = {
    "postal_code": "420-0853",
    "prefecture": "静岡県",
    "address": "静岡市葵区追手町9-6",
    "phone": "090-1234-5678",
    "email": "taro.yamada@example.jp",
}


def correct(con, values, *, expected=CURRENT, reason="本人から転居の届出", scope="*"):
    return contact.correct_contact(
        con,
        scope=scope,
        member_no="A0000001",
        values={**CURRENT, **values},
        expected=expected,
        reason=reason,
        actor="hq",
    )


def test_a_correction_is_saved_with_one_audit_row_per_changed_field(sample):
    changes = correct(
        sample,
        {
            "postal_code": "1000001",
            "prefecture": "東京都",
            "address": "千代田区千代田1-1",
            "phone": "03-1111-2222",
        },
    )
    assert changes == {
        "postal_code": ("420-0853", "100-0001"),
        "prefecture": ("静岡県", "東京都"),
        "address": ("静岡市葵区追手町9-6", "千代田区千代田1-1"),
        "phone": ("090-1234-5678", "03-1111-2222"),
    }
    row = sample.execute(
        "SELECT postal_code, phone_key FROM members WHERE member_no = 'A0000001'"
    ).fetchone()
    assert row == ("100-0001", "0311112222")
    audit_rows = sample.execute(
        "SELECT actor, field, old_value, new_value, reason FROM audit_log"
        " WHERE member_no = 'A0000001' AND action = 'update' ORDER BY field"
    ).fetchall()
    assert audit_rows == [
        ("hq", "address", "静岡市葵区追手町9-6", "千代田区千代田1-1", "本人から転居の届出"),
        ("hq", "phone", "090-1234-5678", "03-1111-2222", "本人から転居の届出"),
        ("hq", "postal_code", "420-0853", "100-0001", "本人から転居の届出"),
        ("hq", "prefecture", "静岡県", "東京都", "本人から転居の届出"),
    ]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"postal_code": "12345"}, "postal_code", "7桁"),
        ({"postal_code": "000-0000"}, "postal_code", "日本郵便のデータにありません"),
        ({"prefecture": "東京都"}, "prefecture", "静岡県の番号です"),
        ({"address": "浜松市中央区1-1"}, "address", "静岡市葵区"),
        ({"address": ""}, "address", "住所を入力"),
        ({"phone": "1234"}, "phone", "0から始まる"),
        ({"email": "taro@@example"}, "email", "形式"),
    ],
)
def test_a_bad_contact_value_is_refused_with_the_field_named(sample, values, field, message):
    with pytest.raises(ValidationError) as caught:
        correct(sample, values)
    assert field in caught.value.errors and message in caught.value.errors[field]
    assert (
        db.table_count(sample, "audit_log")
        == sample.execute("SELECT count(*) FROM audit_log WHERE action <> 'update'").fetchone()[0]
    )


def test_the_prefecture_typed_in_the_address_is_not_doubled(sample):
    changes = correct(sample, {"address": "静岡県静岡市葵区追手町10-1"})
    assert changes == {"address": ("静岡市葵区追手町9-6", "静岡市葵区追手町10-1")}


def test_a_reason_is_required(sample):
    with pytest.raises(ValidationError) as caught:
        correct(sample, {"phone": "03-1111-2222"}, reason="  ")
    assert "reason" in caught.value.errors


def test_a_correction_outside_the_scope_is_refused(sample):
    with pytest.raises(ValidationError):
        correct(sample, {"phone": "03-1111-2222"}, scope="SAJ-13")


def test_a_stale_form_is_refused_and_nothing_changes(sample):
    correct(sample, {"phone": "03-1111-2222"})
    with pytest.raises(ConflictError, match="電話番号"):
        correct(sample, {"email": "new@example.jp"})  # still expects the old phone
    assert sample.execute("SELECT email FROM members WHERE member_no = 'A0000001'").fetchone() == (
        "taro.yamada@example.jp",
    )


def test_two_staff_saving_at_once_one_wins_and_the_other_is_told(sample_path):
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(phone):
        with db.connect(sample_path) as con:
            barrier.wait()
            try:
                correct(con, {"phone": phone})
                outcomes.append("saved")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(p,)) for p in ("03-1111-2222", "03-3333-4444")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    with db.connect(sample_path) as con:
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'update'").fetchone() == (
            1,
        )


def test_prefectures_are_in_jis_order(sample):
    listed = contact.prefectures(sample)
    assert listed[0] == "北海道" and listed[12] == "東京都" and listed[-1] == "沖縄県"
