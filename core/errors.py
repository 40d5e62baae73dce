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
