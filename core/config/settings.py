"""Every configurable value of every scheme: one declaration with its type and meaning.

The values live in data/schemes/<scheme>.toml; core.config checks them against these
declarations. Defaults come from SPEC.md and the guides; docs/configuration.md lists
every key (a test keeps the two in step).

Types: int, decimal, str (non-empty), text (may be empty), bool, date, month_day ("MM-DD"), time ("HH:MM"), list
(a list of strings), labels (a table code -> Japanese label), reasons (labels that may
be empty: none allowed), bands (a list of {up_to, fee} in yen, ascending; may be empty),
records (a table code -> table of the fields named in `fields`), reminders (records that may
be none: `{}`), registration_no (an
invoice registration number, "T" and 13 digits, or "" for none) and tax_classes (a table
billing item -> taxable / non_taxable / out_of_scope).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Setting:
    key: str  # "<scheme>.<name>", dotted as in the TOML file
    type: str
    help: str  # one sentence, Japanese, shown to the admin
    unit: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # for type "records"


S = Setting
# the schemes, each with its file data/schemes/<code>.toml (core.schemes has a module each)
SCHEME_CODES = ("jptec", "itc", "jspo", "saj", "teacher")
CONFIG_FILES = (*SCHEME_CODES, "common")
# the schemes that run courses (core.schemes: a `course_activity` each; core/courses)
COURSE_SCHEME_CODES = ("jptec", "jspo", "teacher")

SETTINGS: tuple[Setting, ...] = (
    # -- every scheme ------------------------------------------------------------------
    *(
        s
        for code in SCHEME_CODES
        for s in (
            S(f"{code}.name", "str", "制度の名称"),
            S(f"{code}.body_name", "str", "運営団体の名称"),
            S(f"{code}.root_org_code", "str", "組織ツリーの最上位（本部）の組織コード"),
            S(f"{code}.member_no_prefix", "str", "会員番号の接頭辞（番号は再利用しない）"),
            S(f"{code}.qualifications", "labels", "資格種別コードと名称"),
            S(
                f"{code}.approval.chain",
                "list",
                "申請の承認段階（下から順に club, region, prefecture, national。該当組織のない段階は飛ばす）",
            ),
            S(
                f"{code}.approval.transfer_chain",
                "list",
                "移籍申請の承認段階（移籍先の組織で承認。最後の段階の承認で所属が移る）",
            ),
            S(
                f"{code}.approval.national_business_days",
                "int",
                "本部承認の目安（本部の段階に届いた日の何営業日後までに承認するか）",
                "営業日",
            ),
            S(
                f"{code}.year_end_closure.starts",
                "month_day",
                "年末年始休業の開始日（営業日に含めない）",
            ),
            S(f"{code}.year_end_closure.ends", "month_day", "年末年始休業の終了日"),
            S(f"{code}.send_back_reasons", "labels", "差戻理由（コードと表示名）"),
            S(
                f"{code}.invoice_registration_no",
                "registration_no",
                "適格請求書発行事業者の登録番号（T＋13桁、空欄なら未登録：請求書・領収書は簡易な様式）",
            ),
            S(
                f"{code}.tax_classes",
                "tax_classes",
                "請求項目ごとの消費税区分（taxable 課税 / non_taxable 非課税 / out_of_scope 不課税）。"
                "記載のない項目は不課税",
            ),
            S(f"{code}.issuer.address", "str", "請求書・領収書に載せる発行者の住所"),
            S(f"{code}.issuer.phone", "str", "請求書・領収書に載せる発行者の電話番号"),
            S(
                f"{code}.transfer_account",
                "text",
                "請求書に載せる振込先（銀行・支店・種別・番号・名義）。空欄なら振込を受けない",
            ),
            S(
                f"{code}.fee_due_months",
                "int",
                "会費・登録料の請求の支払期限（請求日の何か月後か）",
                "か月",
            ),
            S(
                f"{code}.refund_reasons",
                "reasons",
                "入金済みの請求を返金できる事由（空なら入金後の返金なし）",
            ),
        )
    ),
    # -- JPTEC (seed 000) --------------------------------------------------------------
    S(
        "jptec.instructor.check_period_years",
        "int",
        "指導実績を数える期間（満了日から遡る年数）",
        "年",
    ),
    S("jptec.instructor.min_courses_taught", "int", "延長に必要な指導回数（期間内）", "回"),
    S("jptec.instructor.extension_years", "int", "指導実績を満たした場合の延長年数", "年"),
    S("jptec.instructor.new_fee", "int", "新規インストラクターの会費", "円"),
    S("jptec.instructor.renewal_fee", "int", "更新インストラクターの会費", "円"),
    S(
        "jptec.instructor.unpaid_invalidation_months",
        "int",
        "会費未納で資格を無効化するまでの月数",
        "か月",
    ),
    S("jptec.non_card_handling_fee", "int", "クレジットカード以外で納入する場合の事務手数料", "円"),
    S("jptec.provider.extension_years", "int", "更新コース受講日からの延長年数", "年"),
    S(
        "jptec.provider.remaining_bonus_under_months",
        "int",
        "残り期間がこの月数未満なら残りの月数を加算",
        "か月",
    ),
    S("jptec.special_extension.reasons", "list", "有効期間延長等承認申請の事由"),
    S(
        "jptec.special_extension.months",
        "int",
        "承認された有効期間延長で、プロバイダー等の期限を延ばす月数",
        "か月",
    ),
    # -- ITC (seed 001) ----------------------------------------------------------------
    S("itc.window.opens", "month_day", "更新申請期間の開始日"),
    S("itc.window.opens_at", "time", "更新申請期間の開始時刻"),
    S("itc.window.closes", "month_day", "更新申請期間の締切日（この日まで）"),
    S("itc.points.threshold", "decimal", "更新に必要な実践力ポイント（前年度分）", "ポイント"),
    S("itc.points.categories", "labels", "実践力ポイントの区分"),
    S("itc.fee", "int", "資格更新料（税込）", "円"),
    S("itc.fiscal_year_starts", "month_day", "年度の開始日（前年度認定者の免除判定）"),
    S("itc.exempt_if_certified_previous_fiscal_year", "bool", "前年度認定者は更新料を免除する"),
    S("itc.valid_until", "month_day", "更新後の有効期限（翌年のこの日）"),
    S("itc.report_required", "bool", "実務活動報告書の回答を更新の条件とする"),
    S(
        "itc.report_due",
        "month_day",
        "実務活動報告書の回答期限（更新年のこの日まで。過ぎても未回答なら失効）",
    ),
    S("itc.suspension.reasons", "list", "休止の事由"),
    # -- JSPO (seed 002) ---------------------------------------------------------------
    S(
        "jspo.window.months_before_expiry",
        "int",
        "有効期限の何か月前から更新手続きができるか",
        "か月",
    ),
    S(
        "jspo.licences",
        "records",
        "公認スポーツ指導者資格ごとの登録料・有効年数・義務研修の回数",
        fields={
            "label": "str",
            "fee": "int",
            "validity_years": "int",
            "required_trainings": "int",
        },
    ),
    # -- SAJ (seed 003) ----------------------------------------------------------------
    S("saj.season.starts", "month_day", "シーズン（年度）の開始日。年度はこの日の年で呼ぶ"),
    S("saj.season.ends", "month_day", "シーズンの終了日（翌年）。未登録者はこの後に抹消"),
    S("saj.fee.general.saj", "int", "一般会員のSAJ年会費", "円"),
    S("saj.fee.general.prefecture", "int", "一般会員の県連年会費", "円"),
    S("saj.fee.university.saj", "int", "大学生会員のSAJ年会費", "円"),
    S("saj.fee.university.prefecture", "int", "大学生会員の県連年会費", "円"),
    S("saj.fee.high_school.saj", "int", "高校生会員のSAJ年会費", "円"),
    S("saj.fee.high_school.prefecture", "int", "高校生会員の県連年会費", "円"),
    S("saj.fee.qualification_registration", "int", "資格登録料（資格カテゴリーごと）", "円"),
    S(
        "saj.fee.qualification_categories",
        "labels",
        "資格登録料のカテゴリー（教育資格 指導員等 など）",
    ),
    S("saj.fee.qualified_prefecture_total", "int", "有資格者の県連会費（資格数に関わらず）", "円"),
    S("saj.fee.certified_instructor", "int", "認定指導員登録料", "円"),
    S("saj.fee.competitor.saj_alpine", "int", "SAJ競技者登録料（アルペン）", "円"),
    S("saj.fee.competitor.fis_alpine", "int", "FIS競技者登録料（アルペン）", "円"),
    S(
        "saj.insurance.plans",
        "records",
        "スキー保険のプランと保険料",
        fields={"label": "str", "fee": "int"},
    ),
    S("saj.approval.prefecture_sla_hours", "int", "県連承認の目安時間（不備のないもの）", "時間"),
    S("saj.categories", "labels", "会員区分"),
    # -- teacher licence renewal (seed 004) ----------------------------------------------
    S(
        "teacher.scheme_ends",
        "date",
        "免許状更新講習制度の終了日（この日に有効な免許は期限なしへ）",
    ),
    S("teacher.deadline_ages", "list", "修了確認期限となる年齢（その年齢に達する学年度末）"),
    S(
        "teacher.school_year_starts",
        "month_day",
        "学年の区切り（誕生日がこの日から翌年のこの前日まで）",
    ),
    S("teacher.deadline_month_day", "month_day", "修了確認期限の日付（学年度末）"),
    S("teacher.new_licence_validity_years", "int", "新免許状の有効年数", "年"),
    S(
        "teacher.window.opens_months_before",
        "int",
        "受講できる期間の開始（期限の何か月前）",
        "か月",
    ),
    S(
        "teacher.window.closes_months_before",
        "int",
        "受講できる期間の終了（期限の何か月前）",
        "か月",
    ),
    S("teacher.hours.total", "decimal", "必要な講習時間の合計", "時間"),
    S("teacher.hours.mandatory", "decimal", "必修領域の必要時間", "時間"),
    S("teacher.hours.elective_mandatory", "decimal", "選択必修領域の必要時間", "時間"),
    S("teacher.hours.elective", "decimal", "選択領域の必要時間", "時間"),
    S(
        "teacher.attendance.max_minutes_late",
        "int",
        "遅刻として認める上限（これを超えると欠席）",
        "分",
    ),
    S("teacher.exam.pass_score", "int", "修了認定試験の合格点（100点満点）", "点"),
    S("teacher.fee_per_hour", "int", "受講料（1時間あたり、教材費別）", "円"),
    S("teacher.payment_due_days", "int", "請求書（申込書の提出日ごと）の支払期限までの日数", "日"),
    S("teacher.exempt_categories", "labels", "更新講習の免除対象者"),
    S("teacher.postponement_categories", "labels", "修了確認期限の延期事由"),
    S("teacher.postponement.months", "int", "承認された延期で修了確認期限を延ばす月数", "か月"),
    S(
        "teacher.first_deadline",
        "date",
        "制度で最初の修了確認期限（これより前の年齢の期限は対象外）",
    ),
    S(
        "teacher.old_licence_before",
        "date",
        "この日より前に授与された免許状は旧免許状（期限は生年月日から）",
    ),
    # -- courses and rosters (core/courses), for the schemes that run courses -------------
    *(
        s
        for code in COURSE_SCHEME_CODES
        for s in (
            S(
                f"{code}.application_form_due_days",
                "int",
                "受講申込書の提出期限（予約または繰上げの日から何日以内に届くか。0なら申込書なし）",
                "日",
            ),
            S(
                f"{code}.course.min_applicants",
                "int",
                "講習を開設する最少の受講者数（募集終了時点でこれに満たなければ不開講。0なら最少なし）",
                "人",
            ),
            S(
                f"{code}.course.small_capacity",
                "int",
                "定員がこの人数以下の講習には最少人数を設けない",
                "人",
            ),
            S(
                f"{code}.course.opens_at",
                "time",
                "募集期間初日の受付開始時刻（募集開始を日付だけで入力したとき）",
            ),
            S(
                f"{code}.course.certificate_due_months",
                "int",
                "修了証明書の発行期限（講習の最終日の月から何か月後の月末まで）",
                "か月",
            ),
        )
    ),
    *(
        s
        for code in COURSE_SCHEME_CODES
        if code != "teacher"  # the teacher scheme declares these with its renewal rules
        for s in (
            S(
                f"{code}.attendance.max_minutes_late",
                "int",
                "遅刻として認める上限（これを超えると欠席）",
                "分",
            ),
            S(
                f"{code}.exam.pass_score",
                "int",
                "修了認定試験の合格点（100点満点。0なら試験なしで出席だけで修了）",
                "点",
            ),
        )
    ),
    # -- shared by every scheme (common.toml) ----------------------------------------------
    S("common.name", "str", "共通設定の名称"),
    S(
        "common.payment_methods",
        "records",
        "支払方法ごとの1回の下限額・上限額と手数料（支払者負担。金額帯があれば帯の手数料、なければ料率、下限〜上限に収める）",
        fields={
            "label": "str",
            "minimum": "int",
            "limit": "int",
            "fee_rate_percent": "decimal",
            "fee_min": "int",
            "fee_max": "int",
            "bands": "bands",
        },
    ),
    S("common.tax_rate_percent", "int", "消費税率（課税の請求明細）", "%"),
    S(
        "common.access.max_failures",
        "int",
        "この回数ログインに失敗したユーザーIDを一時的にロックする（期間内の失敗回数）",
        "回",
    ),
    S(
        "common.access.failure_window_minutes",
        "int",
        "失敗回数を数える期間（最初の失敗から）",
        "分",
    ),
    S("common.access.lock_minutes", "int", "ロックの長さ（正しいパスワードでも開かない）", "分"),
    S(
        "common.access.idle_minutes",
        "int",
        "操作がないままこの時間が過ぎると、次の操作でログイン画面に戻る",
        "分",
    ),
    S("common.access.session_hours", "int", "ログインが続く最長の時間（操作していても）", "時間"),
    S("common.access.min_password_length", "int", "パスワードの最低文字数", "文字"),
    # -- notifications (core.notify): reminders per scheme, the sender's pace -------------
    *(
        S(
            f"{code}.reminders",
            "reminders",
            "リマインドメールの予定（イベント、起点〔有効期限の前・請求日の後〕、月数・日数、"
            "満たされていれば送らない要件、送信できる日数）。空なら送らない",
            fields={
                "event": "str",
                "anchor": "str",
                "months": "int",
                "days": "int",
                "unless_met": "text",
                "within_days": "int",
            },
        )
        for code in SCHEME_CODES
    ),
    S(
        "common.mail.per_minute",
        "int",
        "1分間に送信するメールの上限（送信サーバーの制限に合わせる）",
        "通",
    ),
    S(
        "common.mail.retry.first_minutes",
        "int",
        "一時的な送信失敗（4xx）の後、再送までの最初の間隔（以後は倍々）",
        "分",
    ),
    S(
        "common.mail.retry.max_attempts",
        "int",
        "一時的な失敗が続いたとき、送信失敗とするまでの試行回数",
        "回",
    ),
    S(
        "common.access.min_password_score",
        "int",
        "パスワードの強さ（zxcvbn の評価 0〜4）の最低点",
        "点",
    ),
    # -- statistics, forecast and configuration editing (core/stats, core/config/edits) --
    S(
        "common.forecast.horizon_months",
        "int",
        "次期更新見込みの対象期間（今日からこの月数のうちに有効期限を迎える資格）",
        "か月",
    ),
    S(
        "common.forecast.at_risk_below_percent",
        "int",
        "更新の見込みがこの割合未満の会員を、連絡が必要な会員として一覧にする",
        "%",
    ),
    S(
        "common.forecast.learning_months",
        "int",
        "見込みの計算で、過去の更新判定から手続きの完了率を学ぶ期間",
        "か月",
    ),
    S(
        "common.config.second_approval",
        "bool",
        "制度設定の変更を、変更した管理者とは別の管理者が承認してから有効にする",
    ),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
