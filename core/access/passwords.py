"""Passwords: the policy a new one must meet, and bcrypt hashes.

A password is at least `common.access.min_password_length` characters and not guessable:
zxcvbn (a well-kept estimator of how many guesses a password takes) must rate it at least
`common.access.min_password_score` of 4, given the user's name and the bodies' names as words
an attacker would try first; it may never contain the user name or a body's name, nor be the
demo password the README publishes. Only the bcrypt hash is stored.
"""

from __future__ import annotations

import bcrypt
from zxcvbn import zxcvbn

from core import config, schemes

DEMO_PASSWORD = "demo-pass-2026"  # the demo log-ins' published password (README)
# Checked against when a user name is unknown, so a wrong name costs what a wrong password does.
_UNKNOWN_USER_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=10))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    """Whether `password` matches `hashed`; with no hash (an unknown user) the same work is
    done against a fixed hash and the answer is no."""
    if hashed is None:
        bcrypt.checkpw(password.encode(), _UNKNOWN_USER_HASH)
        return False
    return bcrypt.checkpw(password.encode(), hashed.encode())


LEGAL_FORMS = ("公益財団法人", "一般財団法人", "公益社団法人", "一般社団法人", "特定非営利活動法人")


def _names(cfg: config.Config) -> list[str]:
    """The bodies' names (also without their legal form: 全日本スキー連盟) and codes, the words
    an attacker tries first."""
    found = ["renewal", "backoffice"]
    for code in schemes.CODES:
        body = str(cfg.value(f"{code}.body_name"))
        short = body
        for form in LEGAL_FORMS:
            short = short.removeprefix(form)
        found += [code, str(cfg.value(f"{code}.name")), body, short]
        found.append(str(cfg.value(f"{code}.root_org_code")))
    return found


def problems(
    password: str, *, username: str, display_name: str = "", cfg: config.Config | None = None
) -> list[str]:
    """What is wrong with a new password, in words for the user (empty: it is fine)."""
    settings = cfg or config.current()
    minimum = int(settings.value("common.access.min_password_length"))
    score_needed = int(settings.value("common.access.min_password_score"))
    found = []
    if len(password) < minimum:
        found.append(f"パスワードは{minimum}文字以上にしてください（いま{len(password)}文字）。")
    lowered = password.lower()
    if username and username.lower() in lowered:
        found.append("ユーザーIDを含むパスワードは使えません。")
    # a body's name (or a code of four letters or more: "itc" would refuse "kitchen")
    bodies = [n for n in _names(settings) if len(n) >= 4 and n.lower() in lowered]
    if bodies:
        found.append(f"団体名・制度名（{bodies[0]}）を含むパスワードは使えません。")
    if password == DEMO_PASSWORD:
        found.append("公開されているデモ用のパスワードは使えません。")
    if not found:
        words = [username, display_name, *_names(settings)]
        score = int(zxcvbn(password, user_inputs=[w for w in words if w])["score"])
        if score < score_needed:
            found.append(
                f"推測されやすいパスワードです（強さ {score}／4、必要 {score_needed}）。"
                "よくある語や並びを避け、単語を3つ以上つなげる・記号や数字を混ぜるなどして、"
                "長く推測しにくいものにしてください。"
            )
    return found
