"""会員検索: find members in the user's scope, open one, correct contact data."""

import datetime as dt

import polars as pl
import streamlit as st

from core import masking, schemes, text, vocabulary
from core.applications import records
from core.errors import ConflictError, ValidationError
from core.members import contact, organizations
from core.members import records as members
from core.members.records import MemberQuery
from core.renewals import explain as explanation
from core.store import audit
from core.vocabulary import CONTACT_LABELS, QUALIFICATION_STATUSES
from core.vocabulary import MEMBER_STATUSES as STATUSES
from ui import member_billing, member_courses, member_documents
from ui.auth import CurrentUser, current_user
from ui.data import connection, settings
from ui.widgets import audit_words, flash, show_flash, table

KEYWORD = "lookup_keyword"
FIELD = "lookup_field"
ORG = "lookup_org"
SCHEME = "lookup_scheme"
QUALIFICATION = "lookup_qualification"
Q_STATUS = "lookup_q_status"
STATUS = "lookup_status"
PAGE = "lookup_page"
RESULTS = "lookup_results"
SELECTED = "lookup_selected_member"
QUERY = "lookup_query"
CORRECTION = "correction_form"
PAGE_SIZE = 25
ANY = "（指定なし）"

user: CurrentUser = current_user("member_lookup")
cfg = settings()
st.title("会員検索")
show_flash()


@st.cache_data(ttl=300)
def organisation_choices(scope: str) -> dict[str, str]:
    with connection() as con:
        orgs = organizations.within(con, scope)
    indent = {"national": "", "prefecture": "　", "region": "　　", "club": "　　　"}
    return {
        row["org_code"]: f"{indent.get(row['kind'], '')}{row['name']}（{row['org_code']}）"
        for row in orgs.iter_rows(named=True)
    }


with st.form("lookup_form"):
    top = st.columns([3, 1])
    fields = members.searchable_fields(user.masked)
    top[0].text_input(
        "キーワード",
        key=KEYWORD,
        placeholder="会員番号（個人情報は検索に使えません）"
        if user.masked
        else "会員番号・氏名・フリガナ（ひらがな可）・電話番号・メールアドレス",
    )
    top[1].selectbox("検索対象", list(fields), format_func=fields.get, key=FIELD)
    filters = st.columns(5)
    org_choices = organisation_choices(user.scope)
    filters[0].selectbox(
        "所属組織", [ANY, *org_choices], format_func=lambda c: org_choices.get(c, c), key=ORG
    )
    scheme_choices = [ANY, *schemes.CODES]
    filters[1].selectbox(
        "制度",
        scheme_choices,
        format_func=lambda s: s if s == ANY else cfg.scheme_name(s),
        key=SCHEME,
    )
    all_quals = {
        f"{s}/{q}": f"{cfg.scheme_name(s)}: {label}"
        for s in schemes.CODES
        for q, label in cfg.value(f"{s}.qualifications").items()
    }
    filters[2].selectbox(
        "資格", [ANY, *all_quals], format_func=lambda q: all_quals.get(q, q), key=QUALIFICATION
    )
    filters[3].selectbox(
        "資格の状態",
        [ANY, *QUALIFICATION_STATUSES],
        format_func=lambda s: QUALIFICATION_STATUSES.get(s, s),
        key=Q_STATUS,
    )
    filters[4].selectbox(
        "会員の状態", [ANY, *STATUSES], format_func=lambda s: STATUSES.get(s, s), key=STATUS
    )
    submitted = st.form_submit_button("検索", type="primary", icon=":material/search:")


def _chosen(key: str) -> str | None:
    value = st.session_state.get(key)
    return None if value in (None, ANY) else str(value)


if submitted:
    qualification = _chosen(QUALIFICATION)
    scheme = _chosen(SCHEME) or (qualification.split("/")[0] if qualification else None)
    st.session_state[QUERY] = MemberQuery(
        keyword=st.session_state.get(KEYWORD, ""),
        search_field=st.session_state.get(FIELD, "auto"),
        org_code=_chosen(ORG),
        scheme=scheme,
        qualification=qualification.split("/")[1] if qualification else None,
        qualification_status=_chosen(Q_STATUS),
        status=_chosen(STATUS),
        page_size=PAGE_SIZE,
        masked=user.masked,
    )
    st.session_state[PAGE] = 1
    st.session_state.pop(SELECTED, None)
    st.query_params.pop("member", None)

query: MemberQuery | None = st.session_state.get(QUERY)
if query is not None:
    page = int(st.session_state.get(PAGE, 1))
    with connection() as con:
        total, found = members.search(
            con, user.scope, MemberQuery(**{**query.__dict__, "page": page})
        )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if total == 0:
        st.info("条件に合う会員はいません。キーワードや条件を変えてお試しください。")
    else:
        st.write(
            f"**{total:,} 人**が見つかりました（{page} / {pages} ページ）。行を選ぶと詳細を表示します。"
        )
        shown = masking.mask_personal(found) if user.masked else found
        event = table(
            shown,
            words={"status": STATUSES},
            key=RESULTS,
            on_select="rerun",
            selection_mode="single-row",
        )
        rows = event.selection.rows if event is not None else []  # type: ignore[attr-defined]
        if rows:
            st.session_state[SELECTED] = found["member_no"][rows[0]]
            st.query_params["member"] = st.session_state[SELECTED]  # a link to this member
        nav = st.columns([1, 1, 6])
        if nav[0].button("前のページ", disabled=page <= 1):
            st.session_state[PAGE] = page - 1
            st.rerun()
        if nav[1].button("次のページ", disabled=page >= pages):
            st.session_state[PAGE] = page + 1
            st.rerun()

member_no = st.session_state.get(SELECTED) or st.query_params.get("member")
if not member_no:
    st.stop()

with connection() as con:
    record = members.get(con, user.scope, member_no)
    if record is None:
        st.warning(f"会員番号 {member_no} は見つからないか、担当範囲の外です。")
        st.stop()
    held = members.qualifications(con, member_no)
    done = members.activities(con, member_no)
    bills = members.billing(con, member_no)
    history = audit.member_history(con, member_no)
    applied = records.member_applications(con, member_no)
    explained = explanation.explain(con, member_no, dt.date.today())
    chain = organizations.ancestors(con, record["org_code"])

shown_record = masking.mask_record(record) if user.masked else record
st.divider()
st.subheader(
    f"{shown_record['family_name'] or ''} {shown_record['given_name'] or ''}（{member_no}）"
)
st.caption(
    f"{shown_record['family_name_kana'] or ''} {shown_record['given_name_kana'] or ''}　"
    f"状態: {STATUSES.get(record['status'], record['status'])}　所属: {' › '.join(chain['name'])}"
)
tabs = st.tabs(
    [
        "基本情報・連絡先",
        f"資格（{held.height}）",
        f"実績（{done.height}）",
        f"請求（{bills.height}）",
        f"申請（{applied.height}）",
        f"講習（{member_courses.count(member_no)}）",
        "証明書・メール",
        f"変更履歴（{history.height}）",  # the last tab: what changed, whatever it was
    ]
)

with tabs[0]:
    birth = record["birth_date"]
    facts = {
        "生年月日": shown_record["birth_date"]
        if user.masked
        else text.jp_date(birth, with_wareki=True),
        "会員区分": vocabulary.MEMBER_CATEGORIES.get(record["category"] or "", "—"),
        "郵便番号": shown_record["postal_code"] or "—",
        "住所": f"{shown_record['prefecture'] or ''}{shown_record['address'] or ''}" or "—",
        "電話番号": shown_record["phone"] or "—",
        "メールアドレス": shown_record["email"] or "—",
        "入会日": text.jp_date(record["joined_on"]),
        "最終更新": record["updated_at"].strftime("%Y年%m月%d日 %H:%M"),
    }
    st.table(pl.DataFrame({"項目": list(facts), "内容": [str(v) for v in facts.values()]}))
    if user.may_correct and record["status"] != "erased":
        st.markdown("#### 連絡先の修正")
        with connection() as con:
            prefectures = contact.prefectures(con)
        with st.form(CORRECTION):
            left, right = st.columns(2)
            postal = left.text_input(
                "郵便番号", value=record["postal_code"] or "", key="fix_postal"
            )
            current_pref = record["prefecture"] if record["prefecture"] in prefectures else None
            prefecture = right.selectbox(
                "都道府県",
                prefectures,
                index=prefectures.index(current_pref) if current_pref else None,
                key="fix_prefecture",
                placeholder="選択してください",
            )
            address = st.text_input(
                "住所（市区町村から）", value=record["address"] or "", key="fix_address"
            )
            left, right = st.columns(2)
            phone = left.text_input("電話番号", value=record["phone"] or "", key="fix_phone")
            email = right.text_input("メールアドレス", value=record["email"] or "", key="fix_email")
            reason = st.text_area(
                "変更理由（必須）", key="fix_reason", placeholder="例: 本人から転居の届出（電話）"
            )
            save = st.form_submit_button("修正を保存", type="primary")
        if save:
            expected = {f: record.get(f) for f in contact.CONTACT_FIELDS}
            values = {
                "postal_code": postal,
                "prefecture": prefecture or "",
                "address": address,
                "phone": phone,
                "email": email,
            }
            try:
                with connection() as con:
                    changes = contact.correct_contact(
                        con,
                        scope=user.scope,
                        member_no=member_no,
                        values=values,
                        expected=expected,
                        reason=reason,
                        actor=user.username,
                    )
            except ValidationError as exc:
                for field, message in exc.errors.items():
                    st.error(
                        f"{CONTACT_LABELS.get(field, '変更理由' if field == 'reason' else field)}: {message}"
                    )
                with connection() as con:
                    hint = contact.postal_lookup(con, postal)
                if hint:
                    st.info(
                        f"郵便番号 {hint['postal_code']} の住所: {hint['prefecture']}{hint['city']}{hint['town']}"
                    )
            except ConflictError as exc:
                st.error(str(exc))
            else:
                if changes:
                    flash(
                        "保存しました: "
                        + "、".join(
                            f"{CONTACT_LABELS[f]} {old or '（なし）'} → {new or '（なし）'}"
                            for f, (old, new) in changes.items()
                        )
                    )
                else:
                    st.info("変更はありませんでした。")

with tabs[1]:
    if held.is_empty():
        st.info("資格の登録はありません。")
    else:
        table(held.drop("qualification_id"), words={"status": QUALIFICATION_STATUSES})
        st.markdown("##### 更新要件と判定（本日時点）")
        for q in explained["qualifications"]:
            until = (
                text.jp_date(dt.date.fromisoformat(q["valid_until"]), with_wareki=True)
                if q["valid_until"]
                else "期限なし"
            )
            with st.container(border=True):
                st.markdown(
                    f"**{q['label']}**　{QUALIFICATION_STATUSES.get(q['status'], q['status'])}　有効期限: {until}"
                )
                for requirement in q["requirements"]:
                    st.write(explanation.requirement_sentence(requirement))
                if not q["requirements"]:
                    st.caption("この資格に自動判定の対象となる要件はありません。")
                st.write(explanation.decision_sentence(q))

with tabs[2]:
    if done.is_empty():
        st.info("実績の登録はありません。")
    else:
        table(
            done.select([c for c in done.columns if done[c].null_count() < done.height]),
            words={
                "kind": vocabulary.ACTIVITY_KINDS,
                "category": cfg.value("itc.points.categories"),
            },
        )

with tabs[3]:
    member_billing.show(user, member_no, bills)

with tabs[4]:
    if applied.is_empty():
        st.info("申請はありません。")
    else:
        table(
            applied,
            words={
                "kind": vocabulary.APPLICATION_KINDS,
                "status": vocabulary.APPLICATION_STATUSES,
            },
        )
        st.caption("申請の履歴は「申請入力・差戻し対応」の「申請の照会」で申請番号から開けます。")

with tabs[5]:
    member_courses.show(user, member_no)

with tabs[6]:
    member_documents.show(user, member_no, record)

with tabs[7]:
    if history.is_empty():
        st.info("変更履歴はありません。")
    else:
        table(audit_words(masking.mask_history(history) if user.masked else history))
