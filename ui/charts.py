"""Plotly charts in Japanese: dates as 2026年11月 or 11月24日, yen as 1,400,000, counts in whole
numbers, and no English toolbar. Every chart of the pages is drawn through `show`."""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go
import streamlit as st

Axis = Literal["month", "day", "yen", "count", "hours", "points", "percent", "category"]

FORMATS: dict[str, dict[str, object]] = {
    "month": {"tickformat": "%Y年%-m月", "hoverformat": "%Y年%-m月", "dtick": "M1"},
    "day": {"tickformat": "%-m月%-d日", "hoverformat": "%Y年%-m月%-d日"},
    "yen": {"tickformat": ",.0f", "hoverformat": ",.0f", "ticksuffix": "円"},
    "count": {"tickformat": ",d", "hoverformat": ",d", "rangemode": "tozero"},
    "hours": {"tickformat": ",.0f", "hoverformat": ",.1f"},
    "points": {"tickformat": ",.1f", "hoverformat": ",.1f"},
    "percent": {"tickformat": ".0f", "hoverformat": ".1f", "ticksuffix": "%"},
    "category": {},
}
# Plotly's toolbar speaks English and offers nothing staff need (downloads are buttons below)
CONFIG = {"displayModeBar": False, "displaylogo": False}


def _highest(fig: go.Figure) -> float:
    """An upper bound of the y axis: the traces' highest values added (bars may stack)."""
    total = 0.0
    for trace in fig.data:
        values = getattr(trace, "y", None)
        numbers = [float(v) for v in (list(values) if values is not None else []) if v is not None]
        total += max(numbers, default=0.0)
    return total


def japanese(fig: go.Figure, *, x: Axis = "category", y: Axis = "count") -> go.Figure:
    """`fig` with Japanese axes: x and y say what each axis holds."""
    fig.update_xaxes(**FORMATS[x])
    fig.update_yaxes(**FORMATS[y])
    if y == "count" and _highest(fig) <= 10:
        fig.update_yaxes(dtick=1)  # a few items: never 0.5 件
    if x == "month":
        fig.update_layout(hovermode="x unified")
    fig.update_layout(separators=".,", legend_title_text=fig.layout.legend.title.text or "")
    return fig


def show(
    fig: go.Figure, *, x: Axis = "category", y: Axis = "count", key: str | None = None
) -> None:
    """Draw a chart with Japanese axes and without Plotly's English toolbar."""
    st.plotly_chart(japanese(fig, x=x, y=y), width="stretch", config=CONFIG, key=key)
