"""The words staff see for the codes the system stores: one table per concept.

Pages, downloads, PDFs and messages take their Japanese from here, so a status or a kind is
called the same everywhere. Codes are the contract of FORMATS.md (files, the command line);
labels are for people. Scheme-specific words (qualification names, reasons, payment methods,
billing items) come from the scheme configuration and the scheme registry instead
(core.schemes), because a body names its own things.

Importing this module is cheap (no database, no data frames): the command line reads its
choices from here.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- renewal decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What the renewal batch does to one qualification, in every word it is known by."""

    outcome: str  # the batch's count name (FORMATS.md `renew --json`)
    label: str  # short, for tables and charts
    sentence: str  # for the member page and `explain`
    new_status: str | None  # the qualification's status afterwards; None: unchanged


DECISIONS: dict[str, Decision] = {
    "extend": Decision("extended", "延長", "有効期間を延長します", "renewed"),
    "open_fee": Decision(
        "fee_opened", "会費請求", "更新手続きを開始し、会費（登録料）を請求します", "renewal_open"
    ),
    "lapse": Decision("lapsed", "失効", "失効します", "lapsed"),
    "invalidate": Decision("invalidated", "無効化", "会費未納のため無効になります", "invalidated"),
    "erase": Decision("erased", "抹消", "抹消します", "erased"),
    "convert": Decision(
        "converted", "期限なしへ移行", "制度終了により有効期限のない資格に移行します", None
    ),
    "none": Decision("unchanged", "変更なし", "今回の処理で変更はありません", None),
}
OUTCOMES = {code: d.outcome for code, d in DECISIONS.items()}  # decision -> outcome
OUTCOME_LABELS = {d.outcome: d.label for d in DECISIONS.values()}
DECISION_LABELS = {code: d.label for code, d in DECISIONS.items()}

# -- members, qualifications, organisations, users ----------------------------------------------

MEMBER_STATUSES = {"active": "在籍", "withdrawn": "退会", "erased": "抹消"}
QUALIFICATION_STATUSES = {
    "active": "有効",
    "renewal_open": "更新手続中",
    "renewed": "更新済",
    "lapsed": "失効",
    "invalidated": "無効（会費未納）",
    "suspended": "休止",
    "returned": "返上・返納",
    "erased": "抹消",
}
# a qualification in one of these states is held: it can be returned, extended or suspended
HELD_STATUSES = ("active", "renewed", "renewal_open", "suspended")
MEMBER_CATEGORIES = {"general": "一般", "university": "大学生", "high_school": "高校生"}
ORG_KINDS = {"national": "本部", "prefecture": "都道府県", "region": "地域", "club": "クラブ・団体"}
ROLES = {
    "hq_staff": "本部事務局",
    "approver": "承認者",
    "analyst": "分析担当",
    "admin": "管理者",
}
CONTACT_LABELS = {
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
}

# -- applications and approvals ---------------------------------------------------------------

LEVELS = {"club": "クラブ", "region": "地域連盟", "prefecture": "県連", "national": "本部"}
APPLICATION_KINDS = {
    "season_registration": "会員登録（年度更新）",
    "new_registration": "新規入会",
    "transfer": "移籍",
    "qualification_return": "資格返上",
    "extension": "有効期間延長",
    "postponement": "期限延期",
    "suspension": "休止",
    "non_card_payment": "カード以外の納入申請",
    "information_change": "登録情報変更",
    "competitor_registration": "競技者登録（追加）",
    "exemption": "更新免除",
}
APPLICATION_STATUSES = {
    "pending": "承認待ち",
    "sent_back": "差戻中",
    "approved": "承認済",
    "rejected": "受付不可",
    "withdrawn": "取下げ",
}
APPLICATION_ACTIONS = {
    "submitted": "申請",
    "approved": "承認",
    "sent_back": "差戻",
    "resubmitted": "再申請",
    "rejected": "受付不可",
    "withdrawn": "取下げ",
}
ENTERED_BY = {"member": "本人", "proxy": "代理申請", "admin": "管理画面", "import": "一括取込"}
# The reasons an extension, postponement or suspension may give (FORMATS.md applications.csv),
# and the teacher scheme's exemption and postponement causes. A scheme's own configuration
# may word its reasons differently; core.schemes asks it first.
REASONS = {
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
    "superintendent": "教育長・指導主事等",
    "lecturer": "免許状更新講習の講師",
    "awarded": "優秀教員表彰者",
    "maternity": "産前産後の休業",
}
FORMATS_REASONS = tuple(list(REASONS)[:9])  # the nine codes FORMATS.md lists for every scheme
# What the approver is warned about (the intake checks), and the queue's SLA marks
QUEUE_FLAGS = {
    "any": "要確認のもの（いずれか）",
    "duplicate": "二重申請の疑い",
    "same_person": "同一人物の別会員番号",
    "address": "住所の不一致",
    "returns_qualification": "資格返上を含む",
    "due": "期限が近い・超過",
    "overdue": "期限超過",
}
SLA_MARKS = {"overdue": "期限超過", "due": "24時間以内", "ok": "期限内"}
# The columns of an application, as a form or an error names them
APPLICATION_FIELDS = {
    "application_ref": "申請番号",
    "member_no": "会員番号",
    "scheme": "制度",
    "kind": "申請の種類",
    "season": "年度",
    "submitted_at": "申請日時",
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
    "note": "備考",
    "entered_by": "入力区分",
}

# -- activities and courses ------------------------------------------------------------------------

# activities.csv kinds (FORMATS.md), each counted by one scheme's rules (core.schemes)
ACTIVITY_KINDS = {
    "taught": "指導実績",
    "renewal_course": "更新コース受講",
    "points": "実践力ポイント",
    "report": "実務活動報告書",
    "training": "義務研修",
    "course": "更新講習",
}
COURSE_DOMAINS = {
    "mandatory": "必修領域",
    "elective_mandatory": "選択必修領域",
    "elective": "選択領域",
}

# -- billing, payments, documents ----------------------------------------------------------------

BILLING_STATUSES = {"open": "未納", "paid": "入金済", "cancelled": "取消", "refunded": "返金済"}
TAX_CLASSES = {"taxable": "課税", "non_taxable": "非課税", "out_of_scope": "不課税"}
# Payment methods as reports name them. The configured methods (common.payment_methods) carry
# the label the payer sees when choosing; a payments file's `bank_transfer` and `atm` are any
# bank's transfer or ATM, so reports say so.
PAYMENT_METHOD_REPORT_LABELS = {"bank_transfer": "銀行振込", "atm": "ATM決済"}
RECONCILIATION_KINDS = {
    "under": "不足",
    "over": "過入金",
    "unmatched": "該当なし",
    "ambiguous": "複数候補",
}
RECONCILIATION_STATUSES = {
    "open": "未処理",
    "applied": "充当済み",
    "refunded": "返金済み",
    "written_off": "処理済み",
}
DOCUMENT_KINDS = {
    "invoice": "請求書",
    "receipt": "領収書",
    "certificate": "認定証",
    "commission_letter": "委嘱状",
    "registration_card": "登録証",
    "completion_certificate": "修了証明書",
    "renewal_notice": "更新結果通知 兼 資格証明",
    "application_form": "受講申込書",
}
AGE_BANDS = ("0–30日", "31–90日", "91–120日", "121日以上")
FEE_DIMENSIONS = {
    "scheme": "制度",
    "prefecture": "都道府県",
    "organization": "組織",
    "method": "支払方法",
}

# -- notifications (core.notify) --------------------------------------------------------------

MAIL_EVENTS = {
    "fee_opened": "会費・更新料のご請求",
    "invoice_issued": "請求書の発行",
    "payment_complete": "入金完了",
    "renewal_complete": "更新完了",
    "application_approved": "申請の承認",
    "application_sent_back": "申請の差戻",
    "reservation_received": "講習予約の受付",
    "waitlist_promoted": "キャンセル待ちの繰り上がり",
    "reminder_window_opened": "リマインド：更新手続の受付開始",
    "reminder_window_closing": "リマインド：更新申請の締切間近",
    "reminder_fee_unpaid": "リマインド：会費の未納",
}
MAIL_STATUSES = {
    "pending": "送信待ち",
    "sent": "送信済",
    "failed": "送信失敗",
    "suppressed": "送信対象外",
}
CARD_POSTING = {"post": "郵送する", "no_post": "郵送しない"}
REMINDER_ANCHORS = {"valid_until": "有効期限の前", "fee_issued": "請求日の後"}
# the renewal requirements a reminder may wait for (formats.md 1.4's codes)
REQUIREMENTS = {
    "courses_taught": "指導実績",
    "fees_paid": "会費の完納",
    "renewal_course": "更新コースの受講",
    "special_extension": "有効期間延長の承認",
    "points": "実践力ポイント",
    "application": "更新申請",
    "renewal_fee": "更新料の納入",
    "activity_report": "実務活動報告書",
    "mandatory_training": "義務研修",
    "registration_fee": "登録料の納入",
    "season_registration": "会員登録",
    "qualification_fee": "資格登録料の納入",
}

# -- data exchange --------------------------------------------------------------------------------

IMPORT_TABLES = {
    "organizations": "組織",
    "members": "会員",
    "qualifications": "資格",
    "activities": "実績",
    "applications": "申請",
    "payments": "入金",
    "courses": "講習",
    "enrolments": "受講予約",
}
EXPORT_TABLES = {
    **{t: label for t, label in IMPORT_TABLES.items() if t != "payments"},
    "billing": "請求",
    "payments": "入金",
    "reconciliation": "入金消込",
    "refunds": "返金",
    "audit_log": "監査ログ",
    "outbox": "送信トレイ",
    "documents": "証明書・通知書",
}

# -- the audit log ----------------------------------------------------------------------------------

AUDIT_ACTIONS = {
    "update": "変更",
    "insert": "追加",
    "import": "取込",
    "renew": "更新処理",
    "erase": "抹消",
    "reset_password": "パスワード再設定",
    "demo": "デモデータ作成",
    "pay": "入金",
    "refund": "返金",
    "resolve": "消込",
    "change_password": "パスワード変更",
    "login": "ログイン",
    "login_failed": "ログイン失敗",
    "locked": "ロック",
    "unlocked": "ロック解除",
    "logout": "ログアウト",
    "issue": "発行",
    "resend": "再送",
}
# the actions of ログイン履歴 (the audit log page's filter)
LOGIN_ACTIONS = ("login", "login_failed", "locked", "unlocked", "logout")
AUDIT_TABLES = {
    "members": "会員",
    "qualifications": "資格",
    "billing": "請求",
    "users": "ユーザー",
    "organizations": "組織",
    "activities": "実績",
    "applications": "申請",
    "payments": "入金",
    "reconciliation": "入金消込",
    "documents": "証明書・通知書",
    "outbox": "送信トレイ",
}
AUDIT_FIELDS = {
    **CONTACT_LABELS,
    "status": "状態",
    "valid_from": "有効開始日",
    "valid_until": "有効期限",
    "role": "役割",
    "org_code": "担当組織",
    "disabled": "無効化",
    "display_name": "氏名",
    "password_hash": "パスワード",
    "item": "請求項目",
    "amount": "金額",
    "handling_fee": "事務手数料",
    "kind": "種類",
    "session": "ログイン",
    "invoice_addressee": "請求書・領収証宛名",
    "card_posting": "登録証の郵送",
    "copy_no": "発行回数",
    "message_id": "メッセージID",
}

# -- courses and rosters (core/courses) -------------------------------------------------------------

COURSE_STATUSES = {"scheduled": "開講予定", "not_opened": "不開講", "cancelled": "中止"}
# where a course stands on a day (core.courses.catalogue.phase), for the catalogue and roster
COURSE_PHASES = {
    "upcoming": "募集前",
    "recruiting": "募集中",
    "extra": "追加募集中",
    "closed": "募集終了",
    "held": "実施済",
    "not_opened": "不開講",
    "cancelled": "中止",
}
# a reservation's status as files and exports give it (FORMATS.md enrolments)
ENROLMENT_STATUSES = {
    "reserved": "予約",
    "waitlisted": "キャンセル待ち",
    "cancelled": "取消",
    "deleted": "削除（未納）",
    "not_opened": "不開講",
    "completed": "修了",
    "absent": "欠席",
    "failed": "不合格",
}
# the roster's finer steps of a reservation (core/sql/courses/roster.sql `stage`)
ENROLMENT_STAGES = {
    "waitlisted": "キャンセル待ち",
    "reserved": "予約済（申込書待ち）",
    "form_received": "申込書受理",
    "invoiced": "請求済（未納）",
    "paid": "入金済",
    "result_pending": "結果未入力",
    "completed": "修了",
    "absent": "欠席",
    "failed": "不合格",
    "cancelled": "取消",
    "deleted": "削除（未納）",
    "not_opened": "不開講",
}
END_REASONS = {
    "member": "申込取消（申込書の提出前）",
    "withdrawal": "受講辞退届",
    "late_form": "申込書が期限までに届かず",
    "unpaid": "支払期限までに未納（申込がなかったものとして削除）",
    "not_opened": "講習の不開講",
    "transferred": "他の講習へ振替",
    "course_cancelled": "講習の中止",
}
ATTENDANCE = {"present": "出席", "absent": "欠席"}
EXAM_METHODS = {"written": "筆記", "practical": "実技", "oral": "口頭"}
# what happened to a reservation (course_events.event): a later outbox mails about these
COURSE_EVENTS = {
    "reserved": "予約受付",
    "waitlisted": "キャンセル待ち受付",
    "promoted": "キャンセル待ちから繰上げ",
    "form_received": "受講申込書の受理",
    "cancelled": "取消",
    "deleted": "削除（未納）",
    "not_opened": "不開講",
    "transferred": "振替",
    "completed": "修了",
    "refunded": "受講料の返還",
    "course_insert": "講習の登録",
    "course_update": "講習の変更",
    "course_not_open": "講習の不開講",
}
# why a reservation is refused (core/sql/courses/refusals.sql `refusal`)
REFUSALS = {
    "unknown_member": "会員番号が見つかりません（または退会・抹消済みです）",
    "unknown_course": "講習コードが見つかりません",
    "not_in_scheme": "この講習の制度の会員ではありません",
    "course_closed": "この講習は受付を終了しています（実施済・不開講・中止）",
    "before_period": "募集期間の開始前です",
    "after_period": "募集期間を過ぎています",
    "extra_full": "追加募集は定員に満たない講習だけです（満席です）",
    "already_booked": "この講習をすでに予約しています",
    "same_title": "同一名称の講習をすでに受講（予約）しています",
    "overlap": "日時が重なる講習を予約しています",
    "duplicate_in_file": "ファイル内で同じ会員と講習の組が重複しています",
}
COURSE_FIELDS = {
    "course_code": "講習コード",
    "scheme": "制度",
    "title": "講習名",
    "domain": "領域",
    "hours": "時間数",
    "held_on": "開催日",
    "held_until": "最終日",
    "starts_at": "開始時刻",
    "ends_at": "終了時刻",
    "venue": "会場",
    "lecturer": "講師",
    "capacity": "定員",
    "min_to_open": "開講最少人数",
    "materials_fee": "教材費",
    "recruit_from": "募集開始",
    "recruit_until": "募集終了",
    "extra_from": "追加募集開始",
    "extra_until": "追加募集終了",
    "notes": "持ち物・備考",
    "qualification": "対象資格",
    "status": "状態",
}
IMPORT_TABLES["attendance"] = "出欠・成績"
AUDIT_TABLES.update(
    {
        "courses": "講習",
        "enrolments": "受講予約",
        "course_attendance": "出欠",
        "course_scores": "成績",
        "course_completions": "修了",
    }
)
AUDIT_ACTIONS.update(
    {
        "reserve": "予約",
        "promote": "繰上げ",
        "cancel": "取消",
        "delete": "削除",
        "form_received": "申込書受理",
        "not_open": "不開講",
        "transfer": "振替",
        "complete": "修了",
        "uncomplete": "修了の取消",
        "certificate": "修了証明書の発行",
        "record": "記録",
    }
)
AUDIT_FIELDS.update({k: v for k, v in COURSE_FIELDS.items() if k != "status"})
AUDIT_FIELDS.update({"attended": "出欠", "minutes_late": "遅刻（分）", "score": "得点"})

# -- statistics, forecast, data quality and configuration edits (core/stats, core/config) --------

# The renewal requirements (the batch's requirements relation, FORMATS.md explain codes) as a
# board reads them in lapse reasons and the forecast.
REQUIREMENTS = {
    "courses_taught": "指導実績",
    "fees_paid": "会費の完納",
    "renewal_course": "更新コースの受講",
    "special_extension": "有効期間延長の承認",
    "points": "実践力ポイント",
    "application": "更新申請",
    "renewal_fee": "更新料の納入",
    "activity_report": "実務活動報告書",
    "mandatory_training": "義務研修",
    "registration_fee": "登録料の納入",
    "season_registration": "年度の会員登録",
    "qualification_fee": "資格登録料の納入",
    "deadline": "修了確認期限",
    "total_hours": "講習時間（合計）",
    "mandatory_hours": "必修領域の時間",
    "elective_mandatory_hours": "選択必修領域の時間",
    "elective_hours": "選択領域の時間",
}
# What a renewal cycle came to, and the events counted beside it (更新・失効統計)
STATS_OUTCOMES = {
    "due": "更新対象",
    "renewed": "更新",
    "lapsed": "失効",
    "invalidated": "無効化",
    "erased": "抹消",
    "converted": "期限なしへ移行",
    "returned": "返上・返納",
    "suspended": "休止",
    "members_erased": "会員抹消",
}
STATS_RATES = {
    "renewal_rate": "更新率",
    "lapse_rate": "失効率",
    "invalidation_rate": "無効化率",
    "erasure_rate": "抹消率",
}
STATS_DIMENSIONS = {
    "scheme": "制度",
    "qualification": "資格",
    "prefecture": "都道府県",
    "org": "組織",
    "age_band": "年齢層",
    "month": "月",
    "cohort": "取得年",
}
MEMBERSHIP_LABEL = "会員登録"  # a SAJ membership where a qualification would be named
AUDIT_FINDINGS = {  # data-quality audits: what a row found, where a query says
    "unknown_postal_code": "郵便番号が存在しない",
    "other_prefecture": "別の都道府県の郵便番号",
    "phone": "電話番号",
    "email": "メールアドレス",
    "address": "住所",
}
CONFIG_CHANGE_KINDS = {
    "set": "値の変更",
    "keep_file": "アプリの変更を維持",
    "adopt_file": "ファイルに合わせる",
}
CONFIG_CHANGE_STATUSES = {
    "pending": "承認待ち",
    "approved": "有効",
    "rejected": "差戻し",
    "withdrawn": "取下げ",
}
AUDIT_ACTIONS.update(
    {
        "config_set": "設定変更",
        "config_propose": "設定変更の申請",
        "config_approve": "設定変更の承認",
        "config_reject": "設定変更の差戻し",
        "config_withdraw": "設定変更の取下げ",
        "config_keep_file": "設定の食い違い（アプリを維持）",
        "config_adopt_file": "設定の食い違い（ファイルに合わせる）",
    }
)
AUDIT_TABLES.update({"config": "制度設定"})
