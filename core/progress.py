"""Long work says how far it has come: the renewal batch, the what-if, imports and the PDFs
of a club call `progress(done, doing)` between their steps — `done` from 0 to 1, `doing` in
the words staff read. A page draws a bar (st.progress); the command line passes nothing."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def quiet(done: float, doing: str) -> None:
    """Progress nobody watches."""


def within(progress: Progress, start: float, end: float, prefix: str = "") -> Progress:
    """A part of the work that reports 0–1 of its own, drawn between `start` and `end`, its
    words after `prefix` (「変更後の設定で」)."""

    def report(done: float, doing: str) -> None:
        progress(start + (end - start) * min(max(done, 0.0), 1.0), prefix + doing)

    return report
