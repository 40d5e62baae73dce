"""Figures for analysts, HQ staff and admins, read from what the store recorded.

- overview.py   the home page's figures: the work in a user's scope
- outcomes.py   renewal and lapse statistics (更新・失効統計) from the batch's run history and the
                audit trail: outcomes by scheme, qualification, prefecture, organisation, age
                band, month and cohort; rates; retention per cohort; lapse reasons
- forecast.py   the next season's expected renewals, lapses and fee income (次期更新見込み) from
                each member's progress toward the requirements, the members at risk, and the
                back-test of past forecasts against what the batch then did
- audits.py     data-quality audits (データ品質): one query per file in core/sql/audits/, each
                returning the rows that break a rule

Everything is set-based SQL over whole tables within a user's organisation scope; nothing
here writes except the forecast's snapshots (kept for its back-test).
"""
