"""Errors that carry words for staff: the CLI exits 2 with them, pages show them."""

from __future__ import annotations

from dataclasses import dataclass


class ValidationError(ValueError):
    """Form input that breaks a rule; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ConflictError(RuntimeError):
    """Someone else changed the record since it was read."""


@dataclass(frozen=True)
class FileProblem:
    """One bad cell of an input file: FILE:LINE: column: message (line 1 = header)."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class InputFileError(ValueError):
    """An input file that cannot be taken; nothing was written."""

    def __init__(self, problems: list[FileProblem], total: int | None = None):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__("\n".join(str(p) for p in problems))


class PaymentRefused(ValueError):
    """A payment, refund or resolution the rules do not allow; nothing was written.

    `ja` is for staff (pages), `en` for logs and the CLI; `lines` names the billing lines
    at fault (e.g. those someone else paid meanwhile).
    """

    def __init__(self, ja: str, en: str, lines: tuple[int, ...] = ()):
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en
        self.lines = lines


class PaymentConflict(ConflictError):
    """Another transaction (the renewal batch, another clerk) changed the same rows at the same
    time; this one was rolled back whole, so running it again is safe."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "他の処理（更新処理・別の担当者の入金など）と同時に同じ明細を変更したため、記録しませんでした。"
            "もう一度実行してください。 / Another transaction changed the same rows at the same time;"
            " nothing was written, run it again." + (f" ({detail})" if detail else "")
        )
        self.ja = "他の処理（更新処理・別の担当者の入金など）と同時に同じ明細を変更したため、記録しませんでした。もう一度実行してください。"
