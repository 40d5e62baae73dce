"""データ取込・出力: upload a CSV the command line's `import` takes (all rows or none, the same
rules), and download every table `export` writes — masked for the role, within the scope."""

import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from core import imports, vocabulary
from core.errors import ConflictError, InputFileError
from core.members.organizations import scope_path
from core.store import exports
from ui.auth import current_user
from ui.data import connection
from ui.present import downloads, table
from ui.widgets import flash, show_flash, working

TABLE = "exchange_table"
UPLOAD = "exchange_upload"
PROBLEMS = "exchange_problems"
EXPORT_TABLE = "exchange_export_table"
EXPORT_FORMAT = "exchange_export_format"
EXPORTED = "exchange_exported"
ENCODINGS = {"utf-8-sig": "UTF-8（BOM付き）", "utf-8": "UTF-8", "cp932": "シフトJIS"}
FORMATS = {".csv": "CSV（UTF-8・BOM付き）", ".xlsx": "Excel", ".parquet": "Parquet"}
MIMES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".parquet": "application/vnd.apache.parquet",
}
LIMIT = 10_000  # problems listed for a file (the command line lists 20)
HEADINGS = {"ja": "日本語（人が読むため）", "codes": "コード（他のシステム・再取込のため）"}
HEADING = "exchange_heading"
# Every column an export writes (core.store.exports.QUERIES), as a person reads it
EXPORT_HEADERS = {
    "member_no": "会員番号", "org_code": "組織コード", "family_name": "姓", "given_name": "名",
    "family_name_kana": "セイ", "given_name_kana": "メイ", "birth_date": "生年月日",
    "gender": "性別", "email": "メールアドレス", "phone": "電話番号", "postal_code": "郵便番号",
    "prefecture": "都道府県", "address": "住所", "category": "会員区分", "status": "状態",
    "joined_on": "入会日", "name": "名称", "kind": "種類", "parent_code": "上位組織コード",
    "scheme": "制度", "qualification": "資格", "valid_from": "有効開始日",
    "valid_until": "有効期限", "acquired_on": "取得日", "certificate_no": "認定番号",
    "date": "日付", "points": "ポイント", "hours": "時間", "domain": "領域",
    "course_name": "講習名", "score": "得点", "minutes_late": "遅刻（分）", "item": "請求項目",
    "description": "内容", "amount": "金額（円）", "handling_fee": "手数料（円）",
    "issued_on": "請求日", "due_on": "支払期限", "paid_on": "入金日", "tax_class": "税区分",
    "method": "支払方法", "reference": "参照番号", "payer_org_code": "支払った組織",
    "recorded_by": "記録者", "item_id": "消込番号", "expected": "未納額（円）",
    "billing_id": "明細番号", "note": "備考", "resolved_at": "処理日時", "resolved_by": "処理者",
    "refund_id": "返金番号", "payment_id": "入金番号", "reason": "理由",
    "refunded_on": "返金日", "application_ref": "申請番号", "season": "年度",
    "submitted_at": "申請日時", "proxy_org_code": "代理申請したクラブ",
    "target_org_code": "移籍先", "valid_until_claimed": "申請者が入力した有効期限",
    "entered_by": "入力区分", "level": "承認段階", "level_org_code": "承認する組織",
    "level_since": "到着日時", "decided_at": "決定日時", "insurance_plan": "スキー保険",
    "competitor": "競技者登録", "duplicate_of": "二重申請の相手", "same_person_as": "同一人物の疑い",
    "address_problem": "住所の問題", "reject_reason": "受付不可の理由", "course_code": "講習コード",
    "title": "講習名", "held_on": "開催日", "capacity": "定員", "materials_fee": "教材費（円）",
    "reserved_at": "予約日時", "form_received_on": "申込書の到着日", "changed_at": "日時",
    "actor": "実施者", "action": "操作", "table_name": "対象", "row_key": "キー", "field": "項目",
    "old_value": "変更前", "new_value": "変更後", "batch_id": "監査バッチ",
}  # fmt: skip

user = current_user("data_exchange")
st.title("データ取込・出力")
show_flash()
importing, exporting = st.tabs(["取込（CSV）", "出力"])

with importing:
    st.caption(
        "コマンドラインの取込と同じ規則で検査し、全行を取り込むか、1行も取り込みません。"
        "文字コードは UTF-8（BOMの有無を問わず）とシフトJISを自動で判別します。"
    )
    kind = st.selectbox(
        "取り込む表", list(imports.SPECS), format_func=vocabulary.IMPORT_TABLES.get, key=TABLE
    )
    assert kind is not None
    spec = imports.SPECS[kind]
    st.markdown(
        "必須の列: " + "、".join(EXPORT_HEADERS.get(c, c) for c in spec.required)
        + ("　任意の列: " + "、".join(EXPORT_HEADERS.get(c, c) for c in spec.optional)
           if spec.optional else "")
    )  # fmt: skip
    # the file's first line is the columns' names as the command line reads them: a template
    st.download_button(
        "ひな形（1行目の列名だけのCSV）をダウンロード",
        data=("\ufeff" + ",".join((*spec.required, *spec.optional)) + "\r\n").encode("utf-8"),
        file_name=f"{kind}.csv", mime="text/csv", key="exchange_template",
        icon=":material/download:",
    )  # fmt: skip
    # Streamlit words its uploader in English only: its words are taken out (display: none, so
    # neither the eye nor a screen reader meets them) and the same said in Japanese over them
    st.html(
        "<style>"
        "[data-testid=stFileUploaderDropzone] button > *,"
        "[data-testid=stFileUploaderDropzoneInstructions] > *{display:none}"
        "[data-testid=stFileUploaderDropzone] button::after{content:'ファイルを選ぶ'}"
        "[data-testid=stFileUploaderDropzoneInstructions]::after"
        "{content:'CSVファイル（1ファイル200メガバイトまで）。ここにドラッグしても選べます';"
        "font-size:0.875rem}"
        "</style>"
    )
    upload = st.file_uploader("CSVファイル", type=["csv"], key=UPLOAD)
    if upload is not None:
        raw = upload.getvalue()
        try:
            preview, encoding = imports.preview_bytes(raw, file=upload.name)
        except InputFileError as exc:
            st.error("このファイルは読み込めません。")
            st.session_state[PROBLEMS] = (upload.name, exc)
        else:
            st.write(
                f"**{upload.name}**（{len(raw):,} バイト）　文字コード: "
                f"{ENCODINGS.get(encoding, encoding)}"
            )
            st.caption("先頭の行（取り込み前の表示です）")
            shown = preview.rename({"__line": "行"}).select("行", pl.exclude("行"))
            shown = shown.rename({c: EXPORT_HEADERS.get(c, c) for c in shown.columns})
            table(shown)
            if st.button("取り込む", type="primary", icon=":material/upload:"):
                try:
                    with connection() as con, working("読み込んでいます") as progress:
                        result = imports.import_bytes(
                            con, kind, raw, file=upload.name, actor=user.username, limit=LIMIT,
                            progress=progress,
                        )  # fmt: skip
                except InputFileError as exc:
                    st.session_state[PROBLEMS] = (upload.name, exc)
                except ConflictError:
                    st.error(
                        "ほかの処理が同じデータを同時に変更したため、何も取り込みませんでした。"
                        "もう一度取り込んでください。"
                    )
                else:
                    st.session_state.pop(PROBLEMS, None)
                    extra = (
                        f"（参照番号が既出の {len(result.duplicates):,} 行は重複として飛ばしました）"
                        if result.duplicates
                        else ""
                    )
                    flash(
                        f"{upload.name} から{vocabulary.IMPORT_TABLES[kind]}を {result.rows:,} 行"
                        f"取り込みました{extra}。監査バッチ {result.batch_id}"
                    )
    kept = st.session_state.get(PROBLEMS)
    if kept is not None:
        name, exc = kept
        st.error(
            f"{name} に {exc.total:,} 件の問題があります。何も取り込んでいません。"
            "ファイルを直して、もう一度取り込んでください。"
        )
        problems = pl.DataFrame(
            [(p.file, p.line, p.column, p.message) for p in exc.problems],
            schema={"ファイル": pl.String, "行": pl.Int64, "列": pl.String, "内容": pl.String},
            orient="row",
        ).with_columns(pl.col("列").replace("-", "（ファイル全体）"))
        table(problems)
        downloads(problems, f"problems_{Path(name).stem}", key="exchange_problems")

with exporting:
    st.caption(
        "コマンドラインの出力と同じ表・列です。担当範囲の行だけを出力します"
        + ("。分析担当のため、氏名・生年月日・連絡先は伏せ字になります。" if user.masked else "。")
    )
    left, right = st.columns([2, 1])
    chosen = left.selectbox(
        "出力する表", sorted(exports.QUERIES, key=list(vocabulary.EXPORT_TABLES).index),
        format_func=vocabulary.EXPORT_TABLES.get, key=EXPORT_TABLE,
    )  # fmt: skip
    suffix = right.selectbox("形式", list(FORMATS), format_func=FORMATS.get, key=EXPORT_FORMAT)
    heading = st.radio(
        "列名", list(HEADINGS), format_func=HEADINGS.get, horizontal=True, key=HEADING
    )
    assert chosen is not None and suffix is not None
    if st.button("ファイルを作る", icon=":material/download:"):
        with (
            connection() as con,
            st.spinner("作成しています…"),
            tempfile.TemporaryDirectory() as folder,
        ):
            out = Path(folder) / f"{chosen}{suffix}"
            try:
                n = exports.stream_table(
                    con, chosen, out, masked=user.masked, scope_prefix=scope_path(con, user.scope),
                    headers=EXPORT_HEADERS if heading == "ja" else None,
                )  # fmt: skip
            except exports.TooManyRowsForExcel as exc:
                st.error(
                    f"{exc.total:,} 行あり、Excel の1シートに入りません（上限 {exports.EXCEL_MAX_ROWS:,} 行）。"
                    "CSV か Parquet で出力してください。"
                )
            else:
                st.session_state[EXPORTED] = (out.name, out.read_bytes(), n, suffix)
    made = st.session_state.get(EXPORTED)
    if made is not None:
        name, data, n, made_suffix = made
        st.write(f"ファイルができました（{n:,} 行）。")
        st.download_button(
            "作ったファイルをダウンロード", data=data, file_name=name, mime=MIMES[made_suffix],
            key="exchange_download", icon=":material/download:",
        )  # fmt: skip
    st.caption(
        "「コード」の列名は他のシステムと受け渡すための英字のコードで（ファイル形式の説明書の3章）、"
        "そのまま取込に使えます。値（制度・状態など）はどちらもコードのままです。"
    )
