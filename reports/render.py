"""Render the report context with the package's jinja2 template (autoescaped).

plotly.js is inlined once in the page head; figures come in as fragments that only
call `Plotly.newPlot`. Both are marked safe explicitly; every other string is escaped.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jinja2
import plotly.offline
from markupsafe import Markup

TEMPLATE = "report.html.j2"


def num(value: Any, digits: int = 2) -> str:
    """A number for a table cell; missing and NaN become an en dash."""
    if value is None:
        return "–"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.{digits}g}" if abs(value) >= 1e-3 else f"{value:.1e}"
    return f"{value:,.{digits}f}"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = num
    return env


@functools.cache
def plotly_js() -> Markup:
    return Markup(plotly.offline.get_plotlyjs())


def render(context: dict[str, Any], template: str = TEMPLATE) -> str:
    figures = {k: v for k, v in context.items() if k.endswith("_figs")}
    safe = {k: [(title, Markup(html)) for title, html in v] for k, v in figures.items()}
    return environment().get_template(template).render(**{**context, **safe}, plotly_js=plotly_js())
