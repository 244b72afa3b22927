"""plotly figures for the report, each returned as an HTML fragment without plotly.js.

Figures are built as plain plotly.js JSON (dicts) and serialized without plotly's
Python-side validation: building the same figures through plotly.express took most of
the report's time. Every string that reaches a figure (model, method, network names from
configs and instance files) is HTML-escaped first: plotly renders a subset of HTML in
labels and decodes entities, so an escaped `<script>` is drawn as the text `<script>`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.colors
import plotly.io as pio

from reports.analysis import MODEL_ORDER, NETWORK_ORDER, ordered

TEMPLATE = "plotly_white"
HEIGHT = 430
CONFIG = {"displaylogo": False, "responsive": True}
PANEL_GAP = 0.05
GAP_FLOOR = 1e-3  # percent: gaps are drawn on a log axis, smaller ones (optimal: 0) at this value


def floored(values: pd.Series) -> list[float]:
    return values.clip(lower=GAP_FLOOR).tolist()


def esc(value: Any) -> str:
    return html.escape(str(value), quote=False)


@functools.cache
def _template() -> dict:
    return pio.templates[TEMPLATE].to_plotly_json()


def palette(methods: Iterable[str]) -> dict[str, str]:
    """One fixed color per method so that every figure agrees."""
    q = plotly.colors.qualitative
    colors = q.Plotly + q.Dark24 + q.Light24
    return {m: colors[i % len(colors)] for i, m in enumerate(sorted(set(methods)))}


def _panels(n: int, titles: list[str], x: dict, y: dict) -> dict:
    """Layout of `n` side-by-side panels with their own axes (`x`, `y`: settings for every panel)."""
    width = (1 - PANEL_GAP * (n - 1)) / n
    layout: dict[str, Any] = {"annotations": []}
    for i in range(n):
        suffix = "" if i == 0 else str(i + 1)
        left = i * (width + PANEL_GAP)
        layout[f"xaxis{suffix}"] = {**x, "domain": [left, left + width], "anchor": f"y{suffix}"}
        layout[f"yaxis{suffix}"] = {**y, "anchor": f"x{suffix}"}
        if titles[i]:
            layout["annotations"].append({"text": esc(titles[i]), "x": left + width / 2, "y": 1.0, "xref": "paper",
                                          "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                          "showarrow": False, "font": {"size": 13}})
    return layout


def fragment(data: list[dict], layout: dict) -> str:
    layout = {"template": _template(), "height": HEIGHT, "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
              "legend": {"font": {"size": 11}, "title": {"text": "method"}}, **layout}
    return pio.to_html({"data": data, "layout": layout}, full_html=False, include_plotlyjs=False, config=CONFIG,
                       validate=False)


def _axis(i: int, name: str) -> str:
    return name if i == 0 else f"{name}{i + 1}"


def bars_by_model(data: pd.DataFrame, metric: str, colors: dict[str, str], label: str) -> str:
    """Grouped bars: x = model, one bar per method, one panel per network; log y."""
    networks = ordered(data["network"], NETWORK_ORDER)
    models = ordered(data["model_label"], MODEL_ORDER)
    traces = []
    for i, network in enumerate(networks):
        panel = data[data["network"] == network]
        for method in sorted(set(data["method"])):
            values = panel[panel["method"] == method].set_index("model_label")[metric]
            traces.append({"type": "bar", "name": esc(method), "legendgroup": esc(method), "showlegend": i == 0,
                           "x": [esc(m) for m in models], "y": [values.get(m) for m in models],
                           "marker": {"color": colors.get(method)}, "xaxis": _axis(i, "x"), "yaxis": _axis(i, "y"),
                           "hovertemplate": f"{esc(method)}<br>%{{x}}: %{{y:.4g}}<extra>{esc(network)}</extra>"})
    layout = _panels(len(networks), networks if len(networks) > 1 else [""],
                     {"type": "category", "title": {"text": "model"}},
                     {"type": "log", "title": {"text": label}, "matches": "y"})
    layout["yaxis"].pop("matches")
    return fragment(traces, {**layout, "barmode": "group"})


def depth_plots(data: pd.DataFrame, colors: dict[str, str]) -> str:
    """Decision time against depth (log-log) and gap against depth, side by side."""
    traces = []
    for method, group in data.groupby("method", sort=True):
        common = {"type": "scatter", "mode": "lines+markers", "name": esc(method), "legendgroup": esc(method),
                  "line": {"color": colors.get(method)}, "x": group["n_blocks"].tolist()}
        traces.append({**common, "y": group["decision_ms"].tolist(), "xaxis": "x", "yaxis": "y"})
        traces.append({**common, "y": floored(group["gap_pct"]), "xaxis": "x2", "yaxis": "y2", "showlegend": False})
    layout = _panels(2, ["decision time (log-log)", "gap to the optimum"],
                     {"type": "log", "title": {"text": "blocks"}}, {"type": "log", "title": {"text": "median gap (%)"}})
    layout["yaxis"].update(type="log", title={"text": "median decision time (ms)"})
    return fragment(traces, layout)


def scale_plot(data: pd.DataFrame, axis: str, colors: dict[str, str]) -> str:
    traces = [{"type": "scatter", "mode": "lines+markers", "name": esc(method), "x": group["scale"].tolist(),
               "y": floored(group["gap_pct"]), "line": {"color": colors.get(method)}}
              for method, group in data.groupby("method", sort=True)]
    return fragment(traces, {"xaxis": {"type": "log", "title": {"text": f"network.scale.{axis}"}},
                             "yaxis": {"type": "log", "title": {"text": "median gap (%)"}}})


def curves_plot(curves: list[tuple[str, pd.DataFrame]]) -> str:
    traces = [{"type": "scatter", "mode": "lines", "name": esc(label), "x": curve["episode"].round(1).tolist(),
               "y": curve["mean_reward"].round(4).tolist()} for label, curve in curves]
    return fragment(traces, {"xaxis": {"title": {"text": "episode"}},
                             "yaxis": {"title": {"text": "mean reward per step"}},
                             "legend": {"font": {"size": 10}, "title": {"text": "model · scenario · network"}}})


def exact_times_plot(data: pd.DataFrame, colors: dict[str, str]) -> str:
    """Decision time of the exact DAG solvers against the number of blocks (log-log), per scenario."""
    traces = []
    for (method, scenario), group in data.groupby(["method", "scenario"], sort=True):
        group = group.sort_values("blocks")
        traces.append({"type": "scatter", "mode": "markers", "name": esc(f"{method} · {scenario}"),
                       "x": group["blocks"].tolist(), "y": group["decision_ms"].tolist(),
                       "text": [esc(m) for m in group["model_label"]],
                       "marker": {"color": colors.get(method), "symbol": "circle" if scenario == "mec" else "diamond",
                                  "size": 9}})
    return fragment(traces, {"xaxis": {"type": "log", "title": {"text": "blocks"}},
                             "yaxis": {"type": "log", "title": {"text": "median decision time (ms)"}}})
