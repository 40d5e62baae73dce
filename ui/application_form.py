"""The fields of an application form, drawn from what the scheme asks of the kind.

The scheme registry (core.schemes) says which columns a kind needs and may take, and offers
the choices of a column (qualifications, reasons, insurance plans, competitor classes,
categories); this module only turns each column into a widget with its Japanese label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.config import Config
from core.schemes.base import CONTACT, Scheme
from core.vocabulary import APPLICATION_FIELDS

NONE = ""
NAMES = ("family_name", "given_name", "family_name_kana", "given_name_kana")
PLACEHOLDERS = {"postal_code": "420-0853", "prefecture": "静岡県"}
# what an optional choice shows when nothing is chosen
NOTHING = {"insurance_plan": "加入しない", "competitor": "なし", "category": "—"}


def _choose(label: str, options: dict[str, str], *, optional: bool, none: str = "選んでください",
            **kwargs: Any) -> str:  # fmt: skip
    codes = [NONE, *options] if optional else list(options)
    return str(st.selectbox(label, codes, format_func=lambda c: options.get(c, none), **kwargs))


def person(values: dict[str, Any], clubs: dict[str, str], choices: dict[str, str] | None) -> None:
    """A new member's own columns: club, names, birth date, category, contact."""
    st.caption("新規入会: 会員番号は承認完了時に採番します（番号は再利用しません）。")
    values["org_code"] = _choose(APPLICATION_FIELDS["org_code"], clubs, optional=True)
    for column, field in zip(st.columns(4), NAMES, strict=True):
        values[field] = column.text_input(APPLICATION_FIELDS[field])
    birth, category, email = st.columns(3)
    values["birth_date"] = birth.date_input(
        "生年月日", value=None, min_value=dt.date(1900, 1, 1), format="YYYY/MM/DD"
    )
    values["category"] = category.selectbox(
        "会員区分", [NONE, *(choices or {})], format_func=lambda c: (choices or {}).get(c, "—")
    )
    values["email"] = email.text_input("メールアドレス")
    place = st.columns([1, 1, 3, 1])
    values["postal_code"] = place[0].text_input("郵便番号", placeholder="420-0853")
    values["prefecture"] = place[1].text_input("都道府県", placeholder="静岡県")
    values["address"] = place[2].text_input("住所（市区町村から）")
    values["phone"] = place[3].text_input("電話番号")


def contact_change(values: dict[str, Any]) -> None:
    """An information change: the new contact data, applied without approval."""
    st.caption("住所・電話・メールの変更は承認不要で、すぐに反映されます。")
    place = st.columns([1, 1, 3])
    values["postal_code"] = place[0].text_input("新しい郵便番号")
    values["prefecture"] = place[1].text_input("新しい都道府県")
    values["address"] = place[2].text_input("新しい住所")
    phone, email = st.columns(2)
    values["phone"] = phone.text_input("新しい電話番号")
    values["email"] = email.text_input("新しいメールアドレス")


def fields(
    scheme: Scheme,
    kind: str,
    cfg: Config,
    *,
    clubs: Callable[[], dict[str, str]],
    destinations: Callable[[], dict[str, str]],
) -> dict[str, Any]:
    """Widgets for every column the kind needs or takes; returns column → value."""
    rule = scheme.kinds[kind]
    today = dt.date.today()
    values: dict[str, Any] = {}
    if kind == "new_registration":
        person(values, clubs(), scheme.choices(cfg, "category", kind, today))
    else:
        values["member_no"] = st.text_input(APPLICATION_FIELDS["member_no"])
    if kind == "information_change":
        contact_change(values)
    for column in rule.columns:
        if column in values or column in CONTACT or column == "category":
            continue
        label = APPLICATION_FIELDS[column]
        optional = column not in rule.needs
        if column == "season":
            values[column] = st.number_input(
                label, min_value=1990, max_value=2100, value=scheme.year(cfg, today), step=1
            )
        elif column == "target_org_code":
            values[column] = _choose("移籍先のクラブ", destinations(), optional=True)
        elif column == "valid_until_claimed":
            values[column] = st.date_input(
                "申請者が入力した有効期限（満了日）", value=None, format="YYYY/MM/DD",
                help="インストラクター資格の有効期限と完全に一致しない申請は受付できません（メールは送りません）。",
            )  # fmt: skip
        else:
            options = scheme.choices(cfg, column, kind, today) or {}
            values[column] = _choose(
                label, options, optional=optional, none=NOTHING.get(column, "選んでください")
            )
    if kind == "competitor_registration":
        st.caption("競技者登録はSAJ承認後もシーズン中に追加できます（登録料はSAJ承認時に請求）。")
    values["note"] = st.text_area("備考")
    return values
