"""plotly figures for the report, each returned as an HTML fragment without plotly.js.

Every string that reaches a figure (model, method, network names from configs and
instance files) is HTML-escaped first: plotly renders a subset of HTML in labels and
decodes entities, so an escaped `<script>` is drawn as the text `<script>`.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.analysis import MODEL_ORDER, NETWORK_ORDER, ordered

TEMPLATE = "plotly_white"
HEIGHT = 430
CONFIG = {"displaylogo": False, "responsive": True}
LABELS = {"latency_ms": "latency (ms)", "energy_j": "device energy (J)", "model_label": "model",
          "method": "method", "network": "network", "n_blocks": "blocks", "decision_ms": "decision time (ms)",
          "gap_pct": "gap to the optimum (%)", "scale": "scale"}


def palette(methods: list[str]) -> dict[str, str]:
    """One fixed color per method (keyed by its escaped label) so that every figure agrees."""
    colors = px.colors.qualitative.Plotly + px.colors.qualitative.Dark24 + px.colors.qualitative.Light24
    return {html.escape(str(m), quote=False): colors[i % len(colors)] for i, m in enumerate(sorted(methods))}


def esc(frame: pd.DataFrame, columns: tuple[str, ...] = ("method", "model_label", "network")) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = out[column].map(lambda v: html.escape(str(v), quote=False))
    return out


def fragment(fig: go.Figure) -> str:
    fig.update_layout(template=TEMPLATE, height=HEIGHT, margin={"l": 60, "r": 20, "t": 50, "b": 60},
                      legend={"font": {"size": 11}})
    return fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG)


def bars_by_model(data: pd.DataFrame, metric: str, colors: dict[str, str]) -> str:
    """Grouped bars: x = model, one bar per method, one panel per network; log y."""
    data = esc(data)
    networks = ordered(data["network"], NETWORK_ORDER)
    orders = {"network": networks, "method": sorted(set(data["method"])),
              "model_label": ordered(data["model_label"], MODEL_ORDER)}
    fig = px.bar(data, x="model_label", y=metric, color="method", barmode="group", log_y=True,
                 facet_col="network" if len(networks) > 1 else None, facet_col_spacing=0.04, category_orders=orders,
                 color_discrete_map=colors, labels=LABELS)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    return fragment(fig)


def depth_plots(data: pd.DataFrame, colors: dict[str, str]) -> str:
    """Decision time against depth (log-log) and gap against depth, side by side."""
    data = esc(data)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("decision time (log-log)", "gap to the optimum"),
                        horizontal_spacing=0.1)
    for method, group in data.groupby("method", sort=True):
        color = colors.get(method)
        common = {"name": method, "legendgroup": method, "mode": "lines+markers", "line": {"color": color}}
        fig.add_trace(go.Scatter(x=group["n_blocks"], y=group["decision_ms"], **common), row=1, col=1)
        fig.add_trace(go.Scatter(x=group["n_blocks"], y=group["gap_pct"], showlegend=False, **common), row=1, col=2)
    fig.update_xaxes(type="log", title_text="blocks")
    fig.update_yaxes(type="log", title_text="median decision time (ms)", row=1, col=1)
    fig.update_yaxes(title_text="median gap (%)", row=1, col=2)
    return fragment(fig)


def scale_plot(data: pd.DataFrame, axis: str, colors: dict[str, str]) -> str:
    data = esc(data)
    fig = px.line(data, x="scale", y="gap_pct", color="method", markers=True, log_x=True, labels=LABELS,
                  color_discrete_map=colors)
    fig.update_xaxes(title_text=f"network.scale.{axis}")
    fig.update_yaxes(title_text="median gap (%)")
    return fragment(fig)


def curves_plot(curves: list[tuple[str, pd.DataFrame]]) -> str:
    fig = go.Figure()
    for label, curve in curves:
        fig.add_trace(go.Scatter(x=curve["episode"], y=curve["mean_reward"], mode="lines",
                                 name=html.escape(label, quote=False)))
    fig.update_layout(xaxis_title="episode", yaxis_title="mean reward per step")
    return fragment(fig)
