"""What every table and download for people goes through on its way out: codes in the words
staff use (core.vocabulary and the schemes' own words), yes and no in Japanese, Japanese
column headers, and dates as 2026年11月24日 on the page and 2026/11/24 in a file.

Files for other systems (FORMATS.md: `python -m core export`) keep their codes and column
names; nothing here touches them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import polars as pl

from core import schemes, vocabulary
from core.config import Config

EMPTY = "—"  # an empty cell on a page (a file leaves it blank)
YES, NO = "はい", "いいえ"
TOKYO = "Asia/Tokyo"

Words = Mapping[str, str]
T = TypeVar("T")

COLUMN_LABELS = {
    "member_no": "会員番号",
    "name": "氏名",
    "kana": "フリガナ",
    "birth_date": "生年月日",
    "phone": "電話番号",
    "email": "メールアドレス",
    "status": "状態",
    "organization": "所属",
    "prefecture": "都道府県",
    "scheme": "制度",
    "qualification": "資格",
    "acquired_on": "取得日",
    "valid_from": "有効開始日",
    "valid_until": "有効期限",
    "certificate_no": "認定番号",
    "date": "日付",
    "kind": "種類",
    "category": "区分",
    "points": "ポイント",
    "hours": "時間",
    "domain": "領域",
    "course_name": "講習名",
    "score": "得点",
    "minutes_late": "遅刻（分）",
    "issued_on": "請求日",
    "item": "項目",
    "description": "内容",
    "amount": "金額",
    "handling_fee": "手数料",
    "due_on": "支払期限",
    "paid_on": "入金日",
    "changed_at": "日時",
    "actor": "実施者",
    "action": "操作",
    "table_name": "対象",
    "row_key": "キー",
    "field": "項目",
    "old_value": "変更前",
    "new_value": "変更後",
    "reason": "理由",
    "decision": "判定",
    "effective_on": "効力発生日",
    "new_valid_until": "新しい有効期限",
    "fee_item": "請求項目",
    "fee_amount": "請求額",
    "run_id": "実行番号",
    "as_of": "基準日",
    "schemes": "制度",
    "started_at": "実行日時",
    "changes": "変更内容",
    "batch_id": "監査バッチ",
    "application_ref": "申請番号",
    "season": "年度",
    "level": "段階",
    "level_org_name": "承認する組織",
    "org_name": "組織",
    "org_code": "組織コード",
    "entered_by": "入力",
    "submitted_at": "申請日時",
    "level_since": "到着日時",
    "waiting_hours": "待ち時間（時間）",
    "due_at": "承認期限",
    "sla": "期限",
    "checks": "確認事項",
    "note": "備考",
    "target_org_code": "移籍先",
    "acted_at": "日時",
    "next_level": "次の段階",
    "next_org_name": "次の組織",
    "send_back_note": "差戻しメモ",
    "sent_back_by": "差戻し者",
    "sent_back_at": "差戻し日時",
    "decided_at": "決定日時",
    "reject_reason": "受付不可の理由",
    "day": "日付",
    "month": "月",
    "pending": "承認待ち（件）",
    "median_hours": "待ち時間 中央値（時間）",
    "p95_hours": "待ち時間 95%点（時間）",
    "overdue": "期限超過（件）",
    "billing_id": "明細番号",
    "payment_id": "入金番号",
    "method": "支払方法",
    "reference": "参照番号",
    "expected": "未納額",
    "item_id": "消込番号",
    "resolved_by": "処理者",
    "created_at": "登録日時",
    "member_id": "会員番号",
    "lines": "件数",
    "n": "件数",
    "billed": "請求額",
    "paid": "入金額",
    "rate_percent": "回収率（%）",
    "age_band": "経過日数",
    "payment_fee": "決済手数料（支払者負担）",
    "disabled": "無効化",
}
YEN_COLUMNS = frozenset(
    {
        "amount",
        "handling_fee",
        "fee_amount",
        "expected",
        "billed",
        "paid",
        "payment_fee",
        "today_income",
        "proposed_income",
        "difference",
    }
)


def _per_config(build: Callable[[Config], T]) -> Callable[[Config], T]:
    """`build` once per configuration object (a Config holds dicts: it cannot be hashed)."""
    made: dict[int, tuple[Config, T]] = {}

    def cached(cfg: Config) -> T:
        kept = made.get(id(cfg))
        if kept is None or kept[0] is not cfg:
            kept = made[id(cfg)] = (cfg, build(cfg))
        return kept[1]

    return cached


@_per_config
def _scheme_words(cfg: Config) -> dict[str, Words]:
    """The words each scheme's configuration and registry entry give its codes."""
    items = {code: label for s in schemes.every() for code, label in s.items.items()}
    methods = {code: m["label"] for code, m in cfg.value("common.payment_methods").items()}
    methods.update(vocabulary.PAYMENT_METHOD_REPORT_LABELS)
    return {
        "scheme": {code: cfg.scheme_name(code) for code in schemes.CODES},
        "schemes": {code: cfg.scheme_name(code) for code in schemes.CODES},
        "item": items,
        "fee_item": items,
        "method": methods,
    }


@_per_config
def _qualification_words(cfg: Config) -> dict[str, str]:
    """ "jptec/instructor" → インストラクター: a qualification's code is its scheme's."""
    return {
        f"{code}/{q}": label
        for code in schemes.CODES
        for q, label in cfg.value(f"{code}.qualifications").items()
    }


# Columns whose name alone says which vocabulary their codes come from, on every page. A
# page names the vocabulary of an ambiguous column (status, kind, category, action).
COMMON_WORDS: dict[str, Words] = {
    "role": vocabulary.ROLES,
    "level": vocabulary.LEVELS,
    "next_level": vocabulary.LEVELS,
    "entered_by": vocabulary.ENTERED_BY,
    "decision": vocabulary.DECISION_LABELS,
    "outcome": vocabulary.OUTCOME_LABELS,
    "sla": vocabulary.SLA_MARKS,
    "domain": vocabulary.COURSE_DOMAINS,
    "table_name": vocabulary.AUDIT_TABLES,
    "field": vocabulary.AUDIT_FIELDS,
}


def words_for(cfg: Config) -> dict[str, Words]:
    return {**COMMON_WORDS, **_scheme_words(cfg)}


def _worded(column: str, words: Words) -> pl.Expr:
    return pl.col(column).replace_strict(
        dict(words), default=pl.col(column), return_dtype=pl.String
    )


def readable(frame: pl.DataFrame, cfg: Config, **words: Words) -> pl.DataFrame:
    """Codes in words, booleans as はい/いいえ, lists joined with 「、」. `words` names the
    vocabulary of columns whose name is ambiguous (status=vocabulary.MEMBER_STATUSES)."""
    known = {**words_for(cfg), **words}
    changed: list[pl.Expr] = []
    if "qualification" in frame.columns and "scheme" in frame.columns:
        changed.append(
            (pl.col("scheme") + "/" + pl.col("qualification"))
            .replace_strict(_qualification_words(cfg), default=pl.col("qualification"))
            .alias("qualification")
        )
    for column, dtype in frame.schema.items():
        if dtype == pl.Boolean:
            changed.append(
                pl.when(pl.col(column)).then(pl.lit(YES))
                .when(pl.col(column).not_()).then(pl.lit(NO))
                .otherwise(None).alias(column)
            )  # fmt: skip
        elif column == "qualification" and "scheme" in frame.columns:
            continue
        elif dtype == pl.String and column in known:
            changed.append(_worded(column, known[column]))
        elif isinstance(dtype, pl.List):
            inner = pl.element().cast(pl.String)
            if column in known:
                inner = inner.replace_strict(dict(known[column]), default=inner)
            changed.append(pl.col(column).list.eval(inner).list.join("、").alias(column))
    return frame.with_columns(changed) if changed else frame


def header(column: str, headers: Mapping[str, str] | None = None) -> str:
    """A column's Japanese header: the page's own word for it, else the common one; a column
    already named in Japanese keeps its name."""
    return (headers or {}).get(column) or COLUMN_LABELS.get(column, column)


def for_people(
    frame: pl.DataFrame,
    cfg: Config,
    headers: Mapping[str, str] | None = None,
    **words: Words,
) -> pl.DataFrame:
    """A download for people: readable, Japanese headers, times in Japan's wall clock."""
    shown = readable(frame, cfg, **words)
    zoned = [c for c, t in shown.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    shown = shown.with_columns(
        pl.col(c).dt.convert_time_zone(TOKYO).dt.replace_time_zone(None) for c in zoned
    )
    return shown.rename({c: header(c, headers) for c in shown.columns})


# -- audit rows ------------------------------------------------------------------------------

# Old and new values in the audit log, by (table, field): a status is a code of its table's
# vocabulary, a role a role, and so on.
AUDIT_VALUES: dict[tuple[str, str], Words] = {
    ("members", "status"): vocabulary.MEMBER_STATUSES,
    ("qualifications", "status"): vocabulary.QUALIFICATION_STATUSES,
    ("billing", "status"): vocabulary.BILLING_STATUSES,
    ("applications", "status"): vocabulary.APPLICATION_STATUSES,
    ("reconciliation", "status"): vocabulary.RECONCILIATION_STATUSES,
    ("users", "role"): vocabulary.ROLES,
    ("users", "org_code"): {"*": "全組織"},
    ("users", "disabled"): {"true": YES, "false": NO},
    ("users", "session"): vocabulary.AUDIT_ACTIONS,
    # courses and rosters
    ("courses", "status"): vocabulary.COURSE_STATUSES,
    ("courses", "domain"): vocabulary.COURSE_DOMAINS,
    ("enrolments", "status"): vocabulary.ENROLMENT_STATUSES,
    ("enrolments", "end_reason"): vocabulary.END_REASONS,
    ("course_attendance", "attended"): vocabulary.ATTENDANCE,
}


def audit_words(frame: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Audit rows in the words staff use: actions, tables and fields, and the old and new
    values of fields whose values are codes (statuses, roles, billing items)."""
    if frame.is_empty() or "table_name" not in frame.columns:
        return frame
    items = _scheme_words(cfg)["item"]
    values = [
        {"table_name": t, "field": f, "code": code, "word": word}
        for (t, f), words in AUDIT_VALUES.items()
        for code, word in words.items()
    ]
    # a billing line's audit row says "<item> <amount>": the item in words, the amount in yen
    values += [
        {"table_name": "billing", "field": "item", "code": code, "word": word}
        for code, word in items.items()
    ]
    lookup = pl.DataFrame(values)
    out = frame.with_row_index("_row")
    for column in ("old_value", "new_value"):
        if column not in frame.columns:
            continue
        split = out.select(
            "_row",
            "table_name",
            "field",
            pl.col(column).str.extract(r"^(\S+)", 1).alias("code"),
            pl.col(column).str.extract(r"^\S+ (\d+)$", 1).cast(pl.Int64, strict=False).alias("yen"),
            pl.col(column).alias("raw"),
        ).join(lookup, on=["table_name", "field", "code"], how="left")
        worded = split.select(
            "_row",
            pl.when(pl.col("word").is_null())
            .then(pl.col("raw"))
            .when(pl.col("yen").is_not_null())
            .then(
                pl.col("word")
                + " "
                + pl.col("yen").map_elements(lambda n: f"{n:,}円", return_dtype=pl.String)
            )
            .when(pl.col("raw") == pl.col("code"))
            .then(pl.col("word"))
            .otherwise(pl.col("raw"))
            .alias(column),
        )
        out = out.drop(column).join(worded, on="_row", how="left")
    out = out.sort("_row").drop("_row").select(frame.columns)
    return readable(out, cfg, action=vocabulary.AUDIT_ACTIONS)
