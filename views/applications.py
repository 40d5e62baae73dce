"""申請入力・差戻し対応: enter an application for a member (proxy or admin entry), correct and
resubmit sent-back ones, and look one up with its history."""

import datetime as dt

import polars as pl
import streamlit as st

from core import schemes, vocabulary
from core.applications import approvals, forms, records
from core.errors import ConflictError, ValidationError
from core.members import organizations
from ui import application_form
from ui.auth import CurrentUser, current_user
from ui.data import connection, settings
from ui.widgets import flash, show_flash, table

SCHEME = "apply_scheme"
KIND = "apply_kind"
ENTRY = "apply_entry"
SENT_BACK_GRID = "apply_sent_back_grid"
SENT_BACK_ROUND = "apply_sent_back_round"  # a new grid (no stale selection) after each action
LOOKUP = "apply_lookup_ref"
NONE = ""
FIELD_LABELS = vocabulary.APPLICATION_FIELDS

user: CurrentUser = current_user("applications")
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


new_tab, sent_back_tab, lookup_tab = st.tabs(["新しい申請", "差戻し対応", "申請の照会"])

with new_tab:
    top = st.columns(3)
    scheme_code = top[0].selectbox("制度", schemes.CODES, format_func=cfg.scheme_name, key=SCHEME)
    scheme = schemes.get(scheme_code)
    kind = top[1].selectbox(
        "申請の種類", list(scheme.kinds), format_func=vocabulary.APPLICATION_KINDS.get, key=KIND
    )
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
    root = str(cfg.value(f"{scheme_code}.root_org_code"))
    with st.form("application_form", clear_on_submit=False):
        values: dict[str, object] = {"scheme": scheme_code, "kind": kind}
        if entry == "proxy":
            clubs = organisation_choices(user.scope, ("club",), root)
            values["proxy_org_code"] = st.selectbox(
                FIELD_LABELS["proxy_org_code"], [NONE, *clubs], format_func=lambda c: clubs.get(c, "選んでください")
            )  # fmt: skip
        values |= application_form.fields(
            scheme,
            kind,
            cfg,
            clubs=lambda: organisation_choices(user.scope, ("club",), root),
            destinations=lambda: organisation_choices(organizations.ALL_SCOPE, ("club",), root),
        )
        if st.form_submit_button("申請を登録", type="primary"):
            try:
                with connection() as con:
                    ref = forms.submit(
                        con,
                        {k: v for k, v in values.items() if v not in (None, NONE)},
                        actor=user.username,
                        entered_by=entry,
                        scope=user.scope,
                    )
                    saved = records.get(con, ref)
            except ValidationError as exc:
                show_errors(exc.errors)
            else:
                assert saved is not None
                where = (
                    f"{vocabulary.LEVELS[saved['level']]}の承認待ちです"
                    if saved["status"] == "pending"
                    else vocabulary.APPLICATION_STATUSES[saved["status"]]
                    + (f"（{saved['reject_reason']}）" if saved["reject_reason"] else "")
                )
                flash(f"申請 {ref} を登録しました。{where}。")
                st.rerun()

with sent_back_tab:
    with connection() as con:
        returned = records.sent_back(con, scope=user.scope)
    if returned.is_empty():
        st.info("差戻し中の申請はありません。")
    else:
        shown = returned.select(
            "application_ref",
            pl.col("kind").replace_strict(vocabulary.APPLICATION_KINDS, default=pl.col("kind")),
            "member_no",
            *(["name"] if not user.masked else []),
            pl.col("level").replace_strict(vocabulary.LEVELS, default=pl.col("level")),
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
        event = table(
            shown,
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
                record = records.get(con, chosen["application_ref"])
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
                owner = schemes.get(record["scheme"])
                if "insurance_plan" in owner.kinds[record["kind"]].columns:
                    plans = (
                        owner.choices(cfg, "insurance_plan", record["kind"], dt.date.today()) or {}
                    )
                    options = [NONE, *plans]
                    corrections["insurance_plan"] = st.selectbox(
                        "スキー保険", options, index=options.index(record["insurance_plan"] or NONE),
                        format_func=lambda p: plans.get(p, "加入しない"),
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
                            forms.resubmit(
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
            record = records.get(con, ref.strip())
            steps = records.history(con, record["application_id"]) if record else None
        visible = record is not None and (
            user.scope == organizations.ALL_SCOPE or record["org_code"] in organisation_choices(user.scope)
        )  # fmt: skip
        if not visible or record is None or steps is None:
            st.warning(f"申請番号 {ref.strip()} は見つかりません（担当範囲外を含む）。")
        else:
            st.markdown(
                f"**{vocabulary.APPLICATION_KINDS.get(record['kind'], record['kind'])}**"
                f"（{cfg.scheme_name(record['scheme'])}）・"
                f"{vocabulary.APPLICATION_STATUSES.get(record['status'], record['status'])}"
                + (f"・{vocabulary.LEVELS[record['level']]}の段階" if record["level"] else "")
                + (
                    f"・受付不可の理由: {record['reject_reason']}"
                    if record["reject_reason"]
                    else ""
                )
            )
            table(steps, words={"action": vocabulary.APPLICATION_ACTIONS})
