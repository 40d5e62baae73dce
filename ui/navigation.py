"""Which pages there are, in which section, and who may open each: one table for the sidebar
(app.py) and for the pages themselves (a page opened by its address checks it too)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

ALL = frozenset({"hq_staff", "approver", "analyst", "admin"})


@dataclass(frozen=True)
class PageSpec:
    name: str  # views/<name>.py and the address /<name>
    title: str
    icon: str  # a Material icon name
    section: str
    roles: frozenset[str] = ALL
    whole_scope: bool = False  # only for users whose scope is every organisation

    def allows(self, role: str, scope: str) -> bool:
        return role in self.roles and (not self.whole_scope or scope == "*")


PAGES = (
    PageSpec("home", "ホーム", "home", "業務"),
    PageSpec("member_lookup", "会員検索", "person_search", "業務"),
    PageSpec("approval_queue", "承認待ち", "approval", "業務",
             frozenset({"hq_staff", "approver", "admin"})),
    PageSpec("applications", "申請入力・差戻し対応", "edit_document", "業務",
             frozenset({"hq_staff", "approver", "admin"})),
    PageSpec("approval_sla", "承認SLA", "timer", "業務"),
    PageSpec("renewal_batch", "更新処理", "autorenew", "業務",
             frozenset({"hq_staff", "admin"}), whole_scope=True),
    PageSpec("outbox", "送信トレイ", "outgoing_mail", "業務", frozenset({"hq_staff", "admin"})),
    PageSpec("club_payment", "まとめて支払い", "point_of_sale", "会費・入金",
             frozenset({"hq_staff", "admin"})),
    PageSpec("reconciliation", "入金消込", "account_balance", "会費・入金",
             frozenset({"hq_staff", "admin"})),
    PageSpec("course_catalogue", "講習一覧", "menu_book", "講習",
             frozenset({"hq_staff", "analyst", "admin"})),
    PageSpec("course_roster", "受講者名簿", "groups", "講習",
             frozenset({"hq_staff", "analyst", "admin"})),
    PageSpec("fee_dashboard", "会費ダッシュボード", "payments", "分析",
             frozenset({"hq_staff", "analyst", "admin"})),
    PageSpec("whatif", "ルール変更シミュレーション", "science", "分析",
             frozenset({"hq_staff", "analyst", "admin"})),
    # -- analysts and admins: statistics, forecast, data quality, data exchange (issue 16) --
    PageSpec("renewal_stats", "更新・失効統計", "monitoring", "分析",
             frozenset({"hq_staff", "analyst", "admin"})),
    PageSpec("forecast", "次期更新見込み", "query_stats", "分析",
             frozenset({"hq_staff", "analyst", "admin"})),
    PageSpec("data_quality", "データ品質", "rule", "分析",
             frozenset({"hq_staff", "analyst", "admin"})),
    PageSpec("data_exchange", "データ取込・出力", "swap_vert", "管理",
             frozenset({"hq_staff", "admin"})),
    PageSpec("admin_users", "ユーザー管理", "manage_accounts", "管理", frozenset({"admin"})),
    PageSpec("admin_config", "制度設定", "tune", "管理", frozenset({"admin"})),
    PageSpec("admin_audit", "監査ログ", "history", "管理", frozenset({"admin"})),
    PageSpec("account", "パスワード変更", "key", "アカウント"),
)  # fmt: skip
BY_NAME = {p.name: p for p in PAGES}
DEFAULT = "home"
ADDRESS = re.compile(r"[A-Za-z0-9_-]{1,100}")  # an address a page may be given


def address_page() -> str:
    """The page the browser's address names (`/member_lookup` → member_lookup), or ""."""
    url = st.context.url or ""
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0].strip("/")
    return path.rsplit("/", 1)[-1]


def not_found() -> None:
    """The page for an address that names none of the pages."""
    st.title("ページが見つかりません")
    st.warning(
        f"「/{address_page()}」というページはありません。"
        "アドレスを確かめるか、左のメニューからページを選んでください。"
    )
    st.page_link(f"views/{DEFAULT}.py", label="ホームを開く", icon=":material/home:")
