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
from core.vocabulary import DECISION_LABELS, OUTCOME_LABELS
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import audit_words, downloads, flash, show_flash, table

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
    with connection() as con, st.spinner("判定しています…"):
        st.session_state[PREVIEW] = (
            as_of,
            tuple(chosen),
            *batch.preview(con, as_of, schemes=tuple(chosen)),
        )

preview = st.session_state.get(PREVIEW)
if preview and preview[0] == as_of and preview[1] == tuple(chosen):
    _, _, counts, sample = preview
    st.subheader(f"{as_of:%Y年%-m月%-d日}時点の判定（プレビュー）")
    st.dataframe(counts_frame(counts), hide_index=True)
    if sample.height:
        st.markdown("**対象の例（判定ごとに最大10件）**")
        table(
            sample.with_columns(
                pl.col("decision").replace_strict(DECISION_LABELS, default=pl.col("decision"))
            )
        )
    total = sum(c["n"] for c in counts if c["outcome"] != "unchanged")
    st.checkbox(f"{total:,}件の資格に上記の変更を適用することを確認しました", key=CONFIRM)
    if st.button("更新処理を実行", type="primary", disabled=not st.session_state.get(CONFIRM)):
        try:
            with connection() as con, st.spinner("実行しています…"):
                result = batch.run(con, as_of, schemes=tuple(chosen), actor=user.username)
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
    .alias("changes")
).select("run_id", "as_of", "schemes", "actor", "started_at", "changes", "batch_id")
table(shown)
run_id = st.selectbox("監査ログを表示する実行番号", shown["run_id"].to_list(), key=RUN_PICK)
batch_id = shown.filter(pl.col("run_id") == run_id)["batch_id"][0]
with connection() as con:
    rows = audit.batch(con, batch_id)
st.write(f"実行番号 {run_id} の監査ログ（{rows.height:,}件まで表示）")
table(audit_words(rows))
downloads(rows, f"renewal_run_{run_id}_audit", key="batch_audit")
