"""データ品質: the data-quality audits with their counts, and the rows each one finds."""

import polars as pl
import streamlit as st

from core import vocabulary
from core.masking import mask_personal
from core.stats import audits
from ui.auth import current_user
from ui.data import connection, settings
from ui.present import downloads, people, table

PICK = "quality_pick"
HEADERS = {
    "cluster": "まとまり",
    "shared": "共有されている連絡先",
    "members": "会員数",
    "organizations": "組織数",
    "person": "人物",
    "numbers": "会員番号の数",
    "member_no": "会員番号",
    "name": "氏名",
    "kana": "フリガナ",
    "birth_date": "生年月日",
    "scheme": "制度",
    "qualification": "資格",
    "status": "状態",
    "valid_from": "有効開始日",
    "valid_until": "有効期限",
    "acquired_on": "取得日",
    "org_code": "組織コード",
    "organization": "所属",
    "org_root_code": "所属組織のツリー",
    "scheme_root_code": "制度の組織ツリー",
    "finding": "内容",
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "postal_prefecture": "郵便番号の都道府県",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
}

user = current_user("data_quality")
cfg = settings()
st.title("データ品質")
st.caption(
    f"担当範囲: {user.scope_name}。会員・資格のデータを点検し、規則に合わない行を一覧にします。"
    "件数が0でない点検を選ぶと、該当する行を確認・ダウンロードできます。"
)


@st.cache_data(ttl=300, show_spinner="点検しています…")
def counts(scope: str) -> pl.DataFrame:
    with connection() as con:
        return audits.counts(con, scope=scope)


@st.cache_data(ttl=300, show_spinner="該当する行を集めています…")
def found(name: str, scope: str) -> pl.DataFrame:
    with connection() as con:
        return audits.rows(con, name, scope=scope)


summary = counts(user.scope).with_columns(
    pl.col("audit").replace_strict({a.name: a.title for a in audits.AUDITS}).alias("title"),
    pl.col("audit").replace_strict({a.name: a.explanation for a in audits.AUDITS}).alias("about"),
)
table(people(summary, {"title": "点検", "n": "件数", "about": "内容"}))

names = [a.name for a in audits.AUDITS]
found_any = [n for n, count in summary.select("audit", "n").iter_rows() if count]
chosen = st.selectbox(
    "行を表示する点検",
    names,
    index=names.index(found_any[0]) if found_any else 0,  # the first that found something
    format_func=lambda n: (
        f"{audits.BY_NAME[n].title}（{int(summary.filter(pl.col('audit') == n)['n'][0]):,}件）"
    ),
    key=PICK,
)
assert chosen is not None
audit = audits.BY_NAME[chosen]
st.markdown(f"**{audit.title}** — {audit.explanation}")
rows = found(chosen, user.scope)
if rows.is_empty():
    st.success("該当する行はありません。")
    st.stop()
if user.masked:
    rows = mask_personal(rows)
rows = rows.with_columns(
    *(
        [(pl.col("family_name").fill_null("") + " " + pl.col("given_name").fill_null(""))
         .str.strip_chars().replace("", None).alias("name")]
        if "family_name" in rows.columns else []
    ),
    *(
        [(pl.col("family_name_kana").fill_null("") + " " + pl.col("given_name_kana").fill_null(""))
         .str.strip_chars().replace("", None).alias("kana")]
        if "family_name_kana" in rows.columns else []
    ),
)  # fmt: skip
words = {
    "scheme": cfg.scheme_name,
    "finding": vocabulary.AUDIT_FINDINGS,
    "shared": vocabulary.AUDIT_FINDINGS,
    "status": (
        vocabulary.QUALIFICATION_STATUSES
        if "qualification" in rows.columns
        else vocabulary.MEMBER_STATUSES
    ),
}
if "qualification" in rows.columns:
    rows = rows.with_columns(
        pl.struct("scheme", "qualification")
        .map_elements(
            lambda r: cfg.qualification_label(r["scheme"], r["qualification"]),
            return_dtype=pl.String,
        )
        .alias("qualification")
    )
if "birth_date" in rows.columns and rows.schema["birth_date"] == pl.Date:
    rows = rows.with_columns(pl.col("birth_date").dt.strftime("%Y年%-m月%-d日"))
shown = people(rows, {c: h for c, h in HEADERS.items() if c in rows.columns}, words)
st.write(f"{shown.height:,} 行")
table(shown.head(5000))
downloads(shown, f"data_quality_{chosen}", key="quality_rows")
