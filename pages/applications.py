"""申請入力・差戻し対応: enter an application for a member (proxy or admin entry), correct and
resubmit sent-back ones, and look one up with its history."""

import datetime as dt

import polars as pl
import streamlit as st

from core import application_forms, approval_queue, approvals, organizations
from core.config_settings import SCHEME_CODES
from core.errors import ConflictError, ValidationError
from core.imports.applications import REASONS, TEACHER_REASONS
from core.season_billing import COMPETITOR_LABELS
from ui.auth import CurrentUser, current_user
from ui.data import connection, settings
from ui.widgets import column_config, flash, show_flash, table

SCHEME = "apply_scheme"
KIND = "apply_kind"
ENTRY = "apply_entry"
SENT_BACK_GRID = "apply_sent_back_grid"
SENT_BACK_ROUND = "apply_sent_back_round"  # a new grid (no stale selection) after each action
LOOKUP = "apply_lookup_ref"
NONE = ""
REASON_LABELS = {
    "disaster": "自然災害",
    "pregnancy_childbirth": "妊娠・出産",
    "childcare": "育児",
    "illness": "疾病",
    "care": "介護",
    "study_abroad": "留学",
    "overseas_work": "海外赴任",
    "graduate_study": "大学院等での研修",
    "other": "その他",
    "principal": "校長・副校長・教頭",
    "chief_teacher": "主幹教諭・指導教諭",
    "superintendent": "教育長・指導主事",
    "lecturer": "免許状更新講習の講師",
    "awarded": "優秀教員表彰者",
    "maternity": "産前産後休業",
}
FIELD_LABELS = {
    "member_no": "会員番号",
    "kind": "申請の種類",
    "season": "年度",
    "qualification": "資格",
    "target_org_code": "移籍先",
    "reason": "事由",
    "valid_until_claimed": "申請者が入力した有効期限",
    "proxy_org_code": "代理申請したクラブ",
    "org_code": "所属する組織",
    "family_name": "姓",
    "given_name": "名",
    "family_name_kana": "セイ",
    "given_name_kana": "メイ",
    "birth_date": "生年月日",
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
    "category": "会員区分",
    "insurance_plan": "スキー保険",
    "competitor": "競技者登録",
    "application_ref": "申請番号",
    "submitted_at": "申請日時",
}

user: CurrentUser = current_user()
cfg = settings()
st.title("申請入力・差戻し対応")
show_flash()


@st.cache_data(ttl=300)
def organisation_choices(
    scope: str, kinds: tuple[str, ...] = (), root: str | None = None
) -> dict[str, str]:
    """Organisations beneath the scope, optionally of some kinds and of one body's tree."""
    with connection() as con:
        orgs = organizations.within(con, scope)
    if kinds:
        orgs = orgs.filter(pl.col("kind").is_in(kinds))
    if root:
        orgs = orgs.filter(pl.col("root_code") == root)
    return {r["org_code"]: f"{r['name']}（{r['org_code']}）" for r in orgs.iter_rows(named=True)}


def show_errors(errors: dict[str, str]) -> None:
    st.error(
        "入力を確認してください。\n\n"
        + "\n".join(f"- {FIELD_LABELS.get(k, k)}: {v}" for k, v in errors.items())
    )


def season_now(scheme: str) -> int:
    """The fiscal year (年度) a registration entered today is for."""
    today = dt.date.today()
    if scheme == "saj":
        month, day = (int(p) for p in str(cfg.value("saj.season.starts")).split("-"))
        return today.year if (today.month, today.day) >= (month, day) else today.year - 1
    return today.year if today.month >= 4 else today.year - 1


new_tab, sent_back_tab, lookup_tab = st.tabs(["新しい申請", "差戻し対応", "申請の照会"])

with new_tab:
    top = st.columns(3)
    scheme = top[0].selectbox("制度", SCHEME_CODES, format_func=cfg.scheme_name, key=SCHEME)
    kinds = [
        k
        for k in approvals.KINDS
        if (k != "non_card_payment" or scheme == "jptec")
        and (k != "exemption" or scheme == "teacher")
    ]
    kind = top[1].selectbox("申請の種類", kinds, format_func=approvals.KINDS.get, key=KIND)
    entry = top[2].radio(
        "入力区分",
        ["proxy", "admin"],
        format_func={
            "proxy": "代理申請（クラブが会員に代わって）",
            "admin": "管理画面から入力",
        }.get,
        key=ENTRY,
        help="代理申請はクラブ承認を経ずに上位団体の承認へ進みます。管理画面からの入力はクラブ承認が必要です。",
    )
    root = str(cfg.value(f"{scheme}.root_org_code"))
    scoped_orgs = organisation_choices(user.scope, ("club",), root)
    with st.form("application_form", clear_on_submit=False):
        values: dict[str, object] = {"scheme": scheme, "kind": kind}
        if entry == "proxy":
            clubs = organisation_choices(user.scope, ("club",), root)
            values["proxy_org_code"] = st.selectbox(
                FIELD_LABELS["proxy_org_code"], [NONE, *clubs], format_func=lambda c: clubs.get(c, "選んでください")
            )  # fmt: skip
        if kind == "new_registration":
            st.caption("新規入会: 会員番号は承認完了時に採番します（番号は再利用しません）。")
            values["org_code"] = st.selectbox(
                FIELD_LABELS["org_code"], [NONE, *scoped_orgs], format_func=lambda c: scoped_orgs.get(c, "選んでください")
            )  # fmt: skip
            names = st.columns(4)
            for column, field in zip(names, ("family_name", "given_name", "family_name_kana", "given_name_kana"), strict=True):  # fmt: skip
                values[field] = column.text_input(FIELD_LABELS[field])
            person = st.columns(3)
            values["birth_date"] = person[0].date_input(
                "生年月日", value=None, min_value=dt.date(1900, 1, 1), format="YYYY/MM/DD"
            )
            categories = cfg.value("saj.categories") if scheme == "saj" else {}
            values["category"] = person[1].selectbox(
                "会員区分", [NONE, *categories], format_func=lambda c: categories.get(c, "—")
            )
            values["email"] = person[2].text_input("メールアドレス")
            place = st.columns([1, 1, 3, 1])
            values["postal_code"] = place[0].text_input("郵便番号", placeholder="420-0853")
            values["prefecture"] = place[1].text_input("都道府県", placeholder="静岡県")
            values["address"] = place[2].text_input("住所（市区町村から）")
            values["phone"] = place[3].text_input("電話番号")
        else:
            values["member_no"] = st.text_input(FIELD_LABELS["member_no"])
        if kind in ("season_registration", "new_registration", "transfer", "qualification_return",
                    "competitor_registration"):  # fmt: skip
            values["season"] = st.number_input(
                "年度", min_value=1990, max_value=2100, value=season_now(scheme), step=1
            )
        if kind in ("qualification_return", "extension", "postponement", "suspension"):
            labels = cfg.value(f"{scheme}.qualifications")
            values["qualification"] = st.selectbox("資格", list(labels), format_func=labels.get)
        if kind == "transfer":
            destinations = organisation_choices(organizations.ALL_SCOPE, ("club",), root)
            values["target_org_code"] = st.selectbox(
                "移籍先のクラブ", [NONE, *destinations], format_func=lambda c: destinations.get(c, "選んでください")
            )  # fmt: skip
        if kind in ("extension", "postponement", "suspension", "exemption"):
            allowed = (*REASONS, *TEACHER_REASONS) if scheme == "teacher" else REASONS
            values["reason"] = st.selectbox("事由", allowed, format_func=REASON_LABELS.get)
        if kind == "non_card_payment":
            values["valid_until_claimed"] = st.date_input(
                "申請者が入力した有効期限（満了日）", value=None, format="YYYY/MM/DD",
                help="インストラクター資格の有効期限と完全に一致しない申請は受付できません（メールは送りません）。",
            )  # fmt: skip
        if kind == "information_change":
            st.caption("住所・電話・メールの変更は承認不要で、すぐに反映されます。")
            change = st.columns([1, 1, 3])
            values["postal_code"] = change[0].text_input("新しい郵便番号")
            values["prefecture"] = change[1].text_input("新しい都道府県")
            values["address"] = change[2].text_input("新しい住所")
            contact = st.columns(2)
            values["phone"] = contact[0].text_input("新しい電話番号")
            values["email"] = contact[1].text_input("新しいメールアドレス")
        if scheme == "saj" and kind in ("season_registration", "new_registration"):
            extras = st.columns(2)
            plans = cfg.value("saj.insurance.plans")
            values["insurance_plan"] = extras[0].selectbox(
                "スキー保険", [NONE, *plans], format_func=lambda p: plans[p]["label"] if p else "加入しない"
            )  # fmt: skip
            values["competitor"] = extras[1].selectbox(
                "競技者登録", [NONE, *COMPETITOR_LABELS], format_func=lambda c: COMPETITOR_LABELS.get(c, "なし")
            )  # fmt: skip
        if kind == "competitor_registration":
            st.caption(
                "競技者登録はSAJ承認後もシーズン中に追加できます（登録料はSAJ承認時に請求）。"
            )
            values["competitor"] = st.selectbox(
                "競技者登録", list(COMPETITOR_LABELS), format_func=COMPETITOR_LABELS.get
            )
        values["note"] = st.text_area("備考")
        if st.form_submit_button("申請を登録", type="primary"):
            try:
                with connection() as con:
                    ref = application_forms.submit(
                        con,
                        {k: v for k, v in values.items() if v not in (None, NONE)},
                        actor=user.username,
                        entered_by=entry,
                        scope=user.scope,
                    )
                    saved = approvals.get(con, ref)
            except ValidationError as exc:
                show_errors(exc.errors)
            else:
                assert saved is not None
                where = (
                    f"{approvals.LEVELS[saved['level']]}の承認待ちです"
                    if saved["status"] == "pending"
                    else approvals.STATUSES[saved["status"]]
                    + (f"（{saved['reject_reason']}）" if saved["reject_reason"] else "")
                )
                flash(f"申請 {ref} を登録しました。{where}。")
                st.rerun()

with sent_back_tab:
    with connection() as con:
        returned = approval_queue.sent_back(con, scope=user.scope)
    if returned.is_empty():
        st.info("差戻し中の申請はありません。")
    else:
        shown = returned.select(
            "application_ref",
            pl.col("kind").replace_strict(approvals.KINDS, default=pl.col("kind")),
            "member_no",
            *(["name"] if not user.masked else []),
            pl.col("level").replace_strict(approvals.LEVELS, default=pl.col("level")),
            "level_org_name",
            pl.struct("scheme", "reason")
            .map_elements(
                lambda r: cfg.value(f"{r['scheme']}.send_back_reasons").get(r["reason"], r["reason"]),
                return_dtype=pl.String,
            )
            .alias("reason"),
            "send_back_note",
            "sent_back_at",
        )  # fmt: skip
        event = st.dataframe(
            shown,
            hide_index=True,
            column_config=column_config(shown),  # type: ignore[arg-type]
            on_select="rerun",
            selection_mode="single-row",
            key=f"{SENT_BACK_GRID}_{st.session_state.get(SENT_BACK_ROUND, 0)}",
        )
        rows = [i for i in event.selection.rows if i < returned.height]  # type: ignore[attr-defined]
        if not rows:
            st.caption("修正する申請を 1 件選んでください。")
        else:
            chosen = returned.row(rows[0], named=True)
            with connection() as con:
                record = approvals.get(con, chosen["application_ref"])
            assert record is not None
            with st.form("resubmit_form"):
                st.markdown(f"**申請 {chosen['application_ref']} を修正して再申請**")
                corrections: dict[str, object] = {}
                if record["kind"] == "new_registration":
                    cols = st.columns(4)
                    for col, field in zip(cols, ("family_name", "given_name", "family_name_kana", "given_name_kana"), strict=True):  # fmt: skip
                        corrections[field] = col.text_input(
                            FIELD_LABELS[field], value=record[field] or ""
                        )
                    place = st.columns([1, 1, 3])
                    for col, field in zip(
                        place, ("postal_code", "prefecture", "address"), strict=True
                    ):
                        corrections[field] = col.text_input(
                            FIELD_LABELS[field], value=record[field] or ""
                        )
                if record["scheme"] == "saj" and record["kind"] in ("season_registration", "new_registration"):  # fmt: skip
                    plans = cfg.value("saj.insurance.plans")
                    options = [NONE, *plans]
                    corrections["insurance_plan"] = st.selectbox(
                        "スキー保険", options, index=options.index(record["insurance_plan"] or NONE),
                        format_func=lambda p: plans[p]["label"] if p else "加入しない",
                    ) or None  # fmt: skip
                corrections["note"] = st.text_area("備考", value=record["note"] or "")
                again, withdraw = st.columns(2)
                resubmit_clicked = again.form_submit_button("修正して再申請", type="primary")
                withdraw_clicked = withdraw.form_submit_button("申請を取下げる")
            if resubmit_clicked or withdraw_clicked:
                st.session_state[SENT_BACK_ROUND] = st.session_state.get(SENT_BACK_ROUND, 0) + 1
                try:
                    with connection() as con:
                        if resubmit_clicked:
                            application_forms.resubmit(
                                con,
                                record["application_id"],
                                record["version"],
                                {k: (v or None) for k, v in corrections.items()},
                                actor=user.username,
                                scope=user.scope,
                            )
                        else:
                            approvals.withdraw(
                                con,
                                record["application_id"],
                                record["version"],
                                note="差戻し後に取下げ",
                                actor=user.username,
                            )
                except ValidationError as exc:
                    show_errors(exc.errors)
                except ConflictError as exc:
                    st.error(str(exc))
                else:
                    flash(
                        f"申請 {record['application_ref']} を"
                        + ("再申請しました。" if resubmit_clicked else "取下げました。")
                    )
                    st.rerun()

with lookup_tab:
    ref = st.text_input("申請番号", key=LOOKUP, placeholder="例: W20261124101500-3F2A1C")
    if ref.strip():
        with connection() as con:
            record = approvals.get(con, ref.strip())
            steps = approvals.history(con, record["application_id"]) if record else None
        visible = record is not None and (
            user.scope == organizations.ALL_SCOPE or record["org_code"] in organisation_choices(user.scope)
        )  # fmt: skip
        if not visible or record is None or steps is None:
            st.warning(f"申請番号 {ref.strip()} は見つかりません（担当範囲外を含む）。")
        else:
            st.markdown(
                f"**{approvals.KINDS.get(record['kind'], record['kind'])}**"
                f"（{cfg.scheme_name(record['scheme'])}）・"
                f"{approvals.STATUSES.get(record['status'], record['status'])}"
                + (f"・{approvals.LEVELS[record['level']]}の段階" if record["level"] else "")
                + (
                    f"・受付不可の理由: {record['reject_reason']}"
                    if record["reject_reason"]
                    else ""
                )
            )
            table(
                steps.with_columns(
                    pl.col("action").replace_strict(approvals.ACTIONS, default=pl.col("action")),
                    pl.col("level").replace_strict(approvals.LEVELS, default=pl.col("level")),
                    pl.col("next_level").replace_strict(approvals.LEVELS, default=pl.col("next_level")),
                )
            )  # fmt: skip
