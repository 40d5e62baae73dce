"""更新処理: preview and run the renewal batch for a date, and see past runs with their audit rows."""

import datetime as dt
import json

import polars as pl
import streamlit as st

from core import schemes
from core.errors import ConflictError
from core.members.organizations import ALL_SCOPE
from core.renewals import batch
from core.store import audit
from core.vocabulary import MEMBER_STATUSES, OUTCOME_LABELS, QUALIFICATION_STATUSES
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import audit_words, downloads, flash, show_flash, table, working

AS_OF = "batch_as_of"
SCHEMES = "batch_schemes"
CONFIRM = "batch_confirm"
PREVIEW = "batch_preview"
RUN_PICK = "batch_run_pick"

user = current_user("renewal_batch")
cfg = settings()
st.title("更新処理")
show_flash()
if user.role not in ("hq_staff", "admin") or user.scope != ALL_SCOPE:
    st.error("更新処理は全組織を担当する本部事務局・管理者のみ実行できます。")
    st.stop()

st.caption(
    "指定した日付時点で各制度の更新ルールを適用します（延長・会費請求・失効・無効化・抹消・期限なしへの移行）。"
    "同じ日付で2回実行しても、2回目は何も変更しません。SAJで年度登録のない会員は抹消されます（会員番号は再利用しません）。"
)
left, right = st.columns([1, 2])
as_of = left.date_input("基準日", value=dt.date.today(), key=AS_OF, format="YYYY/MM/DD")
chosen = right.multiselect(
    "制度",
    list(schemes.CODES),
    default=list(schemes.CODES),
    format_func=cfg.scheme_name,
    key=SCHEMES,
)


def counts_frame(counts: list[dict]) -> pl.DataFrame:
    """One row per scheme, one column per outcome; an outcome a scheme cannot have is —."""
    frame = pl.DataFrame(counts)
    return (
        frame.with_columns(
            pl.col("scheme").map_elements(cfg.scheme_name, return_dtype=pl.String),
            pl.col("outcome").replace_strict(OUTCOME_LABELS, default=pl.col("outcome")),
        )
        .pivot(on="outcome", index="scheme", values="n")
        .rename({"scheme": "制度"})
    )


if not chosen:
    st.info("制度を1つ以上選んでください。")
    st.stop()

if st.button("プレビュー（書き込みません）", icon=":material/visibility:"):
    with connection() as con, working("判定しています") as progress:
        st.session_state[PREVIEW] = (
            as_of,
            tuple(chosen),
            *batch.preview(con, as_of, schemes=tuple(chosen), progress=progress),
        )

preview = st.session_state.get(PREVIEW)
if preview and preview[0] == as_of and preview[1] == tuple(chosen):
    _, _, counts, sample = preview
    st.subheader(f"{as_of:%Y年%-m月%-d日}時点の判定（プレビュー）")
    table(counts_frame(counts))
    if sample.height:
        st.markdown("**対象の例（判定ごとに最大10件）**")
        # SAJ's membership rows carry the member's status, the others the qualification's
        membership = pl.col("qualification") == batch.MEMBERSHIP
        table(
            sample.with_columns(
                pl.when(membership)
                .then(pl.col("status").replace_strict(MEMBER_STATUSES, default=pl.col("status")))
                .otherwise(
                    pl.col("status").replace_strict(
                        QUALIFICATION_STATUSES, default=pl.col("status")
                    )
                ),
                pl.when(membership)
                .then(pl.lit("会員登録（年度）"))
                .otherwise(pl.col("qualification"))
                .alias("qualification"),
            )
        )
    total = sum(c["n"] for c in counts if c["outcome"] != "unchanged")
    st.checkbox(f"{total:,}件の資格に上記の変更を適用することを確認しました", key=CONFIRM)
    if st.button("更新処理を実行", type="primary", disabled=not st.session_state.get(CONFIRM)):
        try:
            with connection() as con, working("実行しています") as progress:
                result = batch.run(
                    con, as_of, schemes=tuple(chosen), actor=user.username, progress=progress
                )
        except ConflictError as exc:
            st.error(str(exc))
        else:
            st.session_state.pop(PREVIEW, None)
            st.session_state.pop(CONFIRM, None)
            changed = sum(c["n"] for c in result.counts if c["outcome"] != "unchanged")
            flash(f"更新処理を実行しました（実行番号 {result.run_id}、変更 {changed:,}件）。")

st.subheader("実行履歴")
with connection() as con:
    history = batch.run_history(con)
if history.is_empty():
    st.info("まだ実行されていません。")
    st.stop()
shown = history.with_columns(
    pl.col("counts")
    .map_elements(
        lambda text: (
            "、".join(
                f"{OUTCOME_LABELS.get(c['outcome'], c['outcome'])} {c['n']:,}"
                for c in json.loads(text)
                if c["n"] and c["outcome"] != "unchanged"
            )
            or "変更なし"
        ),
        return_dtype=pl.String,
    )
    .alias("changes"),
    pl.col("schemes").str.split(","),
).select("run_id", "as_of", "schemes", "actor", "started_at", "changes", "batch_id")
table(shown)
run_id = st.selectbox("監査ログを表示する実行番号", shown["run_id"].to_list(), key=RUN_PICK)
batch_id = shown.filter(pl.col("run_id") == run_id)["batch_id"][0]
with connection() as con:
    rows = audit.batch(con, batch_id)
st.write(f"実行番号 {run_id} の監査ログ（{rows.height:,}件まで表示）")
table(audit_words(rows))
downloads(audit_words(rows), f"更新処理_実行{run_id}_監査ログ", key="batch_audit")
