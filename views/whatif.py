"""ルール変更シミュレーション: change thresholds, fees or periods and see who would move, before the board decides."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from core.config import ConfigError
from core.config.settings import BY_KEY
from core.renewals import whatif
from core.vocabulary import OUTCOME_LABELS
from ui.auth import current_user
from ui.data import connection, settings
from ui.widgets import downloads, table

AS_OF = "whatif_as_of"
EDITOR = "whatif_editor"
RESULT = "whatif_result"

user = current_user("whatif")
cfg = settings()
st.title("ルール変更シミュレーション")
st.caption(
    "設定値（基準・料金・期間）を変えた場合に、担当範囲の全会員の判定がどう変わるかを、"
    "現在の設定と比べて表示します。データは変更しません。"
)

as_of = st.date_input("基準日", value=dt.date.today(), key=AS_OF, format="YYYY/MM/DD")
keys = whatif.tunable_keys(cfg, as_of)
editor = pl.DataFrame(
    {
        "設定キー": keys,
        "説明": [BY_KEY[k].help for k in keys],
        "単位": [BY_KEY[k].unit for k in keys],
        "現在の値": [float(cfg.value(k, as_of)) for k in keys],
        "変更後の値": [None] * len(keys),
    },
    schema_overrides={"変更後の値": pl.Float64},
)
edited = st.data_editor(
    editor,
    key=EDITOR,
    hide_index=True,
    disabled=["設定キー", "説明", "単位", "現在の値"],
    column_config={"変更後の値": st.column_config.NumberColumn("変更後の値", min_value=0)},
)
changes = {
    row["設定キー"]: (
        int(row["変更後の値"]) if BY_KEY[row["設定キー"]].type == "int" else row["変更後の値"]
    )
    for row in pl.DataFrame(edited).iter_rows(named=True)
    if row["変更後の値"] is not None and row["変更後の値"] != row["現在の値"]
}
if st.button("シミュレーション実行", type="primary", disabled=not changes):
    try:
        with connection() as con, st.spinner("全会員の判定を2通り計算しています…"):
            st.session_state[RESULT] = (
                as_of,
                changes,
                whatif.compare(con, as_of, changes, scope=user.scope),
            )
    except ConfigError as exc:
        st.error(f"設定値が正しくありません: {exc}")
if not changes:
    st.info("「変更後の値」に新しい値を入力してください。")

kept = st.session_state.get(RESULT)
if kept is None:
    st.stop()
day, applied, result = kept
st.subheader(f"{day:%Y年%-m月%-d日}時点の比較")
st.write(
    "変更: "
    + "、".join(
        f"{BY_KEY[k].help} {cfg.value(k, day)} → {v}{BY_KEY[k].unit}" for k, v in applied.items()
    )
)
income = result.fees
cols = st.columns(2)
cols[0].metric("判定が変わる資格", f"{result.moved:,} 件")
cols[1].metric("会費収入の差（請求額）", f"{result.income_difference:+,} 円")

labelled = result.transitions.with_columns(
    pl.col("scheme").map_elements(cfg.scheme_name, return_dtype=pl.String),
    pl.col("today").replace_strict(OUTCOME_LABELS, default=pl.col("today")),
    pl.col("proposed").replace_strict(OUTCOME_LABELS, default=pl.col("proposed")),
)
moved = labelled.filter(pl.col("today") != pl.col("proposed"))
st.markdown("**制度ごとの移動（現在 → 変更後）**")
by_scheme = (
    moved.group_by("scheme", "today", "proposed")
    .agg(pl.col("n").sum())
    .sort("scheme", "n", descending=[False, True])
)
if by_scheme.is_empty():
    st.info("この変更では判定の変わる資格はありません。")
else:
    table(by_scheme.rename({"scheme": "制度", "today": "現在", "proposed": "変更後", "n": "件数"}))
    by_prefecture = moved.group_by("prefecture").agg(pl.col("n").sum()).sort("n", descending=True)
    chart = px.bar(
        by_prefecture,
        x="prefecture",
        y="n",
        labels={"prefecture": "都道府県", "n": "判定が変わる資格"},
    )
    st.plotly_chart(chart, width="stretch")
st.markdown("**会費収入（この判定で請求される額）**")
table(
    income.with_columns(
        pl.col("scheme").map_elements(cfg.scheme_name, return_dtype=pl.String)
    ).rename(
        {"scheme": "制度", "today_income": "現在", "proposed_income": "変更後", "difference": "差"}
    )
)
export = labelled.rename(
    {"scheme": "制度", "prefecture": "都道府県", "today": "現在", "proposed": "変更後", "n": "件数"}
)
downloads(export, f"whatif_{day.isoformat()}", key="whatif")
