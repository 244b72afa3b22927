"""plotly figures of the comparison statistics (reports.stats), as HTML fragments.

Built like reports.figures: plain plotly.js JSON, every label HTML-escaped, one color per
method shared with the rest of the report. Gaps go on log axes with the same floor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reports.figures import GAP_FLOOR, _axis, _panels, esc, floored, fragment
from reports.stats import RankTest

CD_CHAR_PX = 6.5  # width of a label character at font size 11
CD_WIDTH_PX = 1100  # the plot's width on a report page


def _target_name(target: float) -> str:
    return "optimal (0 %)" if target == 0 else f"{100 * target:g} % gap"


def profiles_plot(profiles: dict[str, tuple[pd.DataFrame, int]], colors: dict[str, str]) -> str:
    """One panel per metric: rho_s(tau) as steps, tau on a log axis."""
    traces, titles = [], []
    shown: set[str] = set()
    for i, (metric, (profile, n)) in enumerate(profiles.items()):
        titles.append(f"{metric} ({n} problems)")
        taus = profile.index.to_numpy(dtype=float)
        right = float(taus.max()) * 1.5 if taus.max() > 1 else 2.0
        for method in profile.columns:
            shares = profile[method].to_numpy()
            traces.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv", "color": colors.get(method)},
                           "name": esc(method), "legendgroup": esc(method), "showlegend": method not in shown,
                           "x": [*taus.tolist(), right], "y": [*shares.tolist(), float(shares[-1])],
                           "xaxis": _axis(i, "x"), "yaxis": _axis(i, "y"),
                           "hovertemplate": f"{esc(method)}<br>τ %{{x:.4g}}: %{{y:.0%}}<extra></extra>"})
            shown.add(method)
    layout = _panels(len(profiles), titles, {"type": "log", "title": {"text": "τ (ratio to the best, log)"}},
                     {"title": {"text": "share of problems within τ"}, "range": [-0.02, 1.02]})
    return fragment(traces, layout)


def _band(x: list, low: list, high: list, color: str | None, axes: tuple[str, str], group: str) -> list[dict]:
    edge = {"type": "scatter", "mode": "lines", "line": {"width": 0, "color": color}, "hoverinfo": "skip",
            "showlegend": False, "legendgroup": group, "xaxis": axes[0], "yaxis": axes[1]}
    return [{**edge, "x": x, "y": low},
            {**edge, "x": x, "y": high, "fill": "tonexty", "opacity": 0.2}]


def anytime_plot(by_time: pd.DataFrame, by_evaluations: pd.DataFrame, colors: dict[str, str]) -> str:
    """Best-so-far gap against seconds and against evaluations (log-log): the median over runs
    with the 25-75 % band, one color per method."""
    traces = []
    for i, data in enumerate((by_time, by_evaluations)):
        axes = (_axis(i, "x"), _axis(i, "y"))
        for method, part in data.groupby("method", sort=True):
            group, color = esc(method), colors.get(method)
            x = part["x"].tolist()
            traces += _band(x, floored(part["q25"]), floored(part["q75"]), color, axes, group)
            traces.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv", "color": color},
                           "name": f"{group} ({int(part['runs'].iloc[0])} runs)", "legendgroup": group,
                           "showlegend": i == 0, "x": x, "y": floored(part["median"]),
                           "xaxis": axes[0], "yaxis": axes[1]})
    layout = _panels(2, ["against time", "against evaluations"], {"type": "log"},
                     {"type": "log", "title": {"text": "best-so-far gap (%)"}})
    layout["xaxis"]["title"] = {"text": "seconds since solve() started"}
    layout["xaxis2"]["title"] = {"text": "evaluations"}
    return fragment(traces, layout)


def ecdf_plot(curves: pd.DataFrame, targets: tuple[float, ...], colors: dict[str, str]) -> str:
    """One panel per gap target: the share of runs that reached it by each time (log x)."""
    traces, shown = [], set()
    right = float(curves["seconds"].max()) * 2 if len(curves) else 1.0
    for i, target in enumerate(targets):
        for method, part in curves[curves["target"] == target].groupby("method", sort=True):
            x, y = part["seconds"].tolist(), part["share"].tolist()
            traces.append({"type": "scatter", "mode": "lines+markers", "line": {"shape": "hv",
                                                                                "color": colors.get(method)},
                           "marker": {"size": 4}, "name": esc(method), "legendgroup": esc(method),
                           "showlegend": method not in shown, "x": [*x, right], "y": [*y, y[-1] if y else 0.0],
                           "xaxis": _axis(i, "x"), "yaxis": _axis(i, "y"),
                           "hovertemplate": f"{esc(method)}<br>%{{x:.3g}} s: %{{y:.0%}}<extra></extra>"})
            shown.add(method)
    layout = _panels(len(targets), [_target_name(t) for t in targets],
                     {"type": "log", "title": {"text": "seconds"}},
                     {"title": {"text": "share of runs at the target"}, "range": [-0.02, 1.02]})
    return fragment(traces, layout)


def cd_plot(test: RankTest, colors: dict[str, str]) -> str:
    """Critical-difference diagram: mean ranks on a line (1 = best, at the left), methods no
    Nemenyi test separates joined by a bar, and the critical difference drawn to scale."""
    k = len(test.methods)
    ranks = test.mean_ranks
    traces = []
    half = math.ceil(k / 2)
    for j, (method, rank) in enumerate(ranks.items()):
        left = j < half  # the better half is labelled on the left, the rest on the right
        level = -(j + 1.0) if left else -(k - j) * 1.0
        end = 0.8 if left else k + 0.2
        traces.append({"type": "scatter", "mode": "lines+markers+text", "showlegend": False,
                       "x": [rank, rank, end], "y": [0, level, level],
                       "line": {"color": colors.get(method), "width": 1.5}, "marker": {"size": [9, 0, 0]},
                       "text": ["", "", esc(f"{method} ({rank:.2f})")],
                       "textposition": "middle left" if left else "middle right",
                       "hovertemplate": f"{esc(method)}: mean rank {rank:.3f}<extra></extra>"})
    for c, clique in enumerate(test.cliques):
        traces.append({"type": "scatter", "mode": "lines", "showlegend": False, "hoverinfo": "skip",
                       "x": [ranks[clique[0]] - 0.03, ranks[clique[-1]] + 0.03], "y": [-0.2 - 0.12 * c] * 2,
                       "line": {"color": "black", "width": 5}})
    cd = test.critical_difference
    traces.append({"type": "scatter", "mode": "lines+text", "showlegend": False, "x": [1, 1 + cd], "y": [0.7, 0.7],
                   "line": {"color": "#a4262c", "width": 3}, "text": ["", f"CD = {cd:.2f}"],
                   "textposition": "middle right", "hoverinfo": "skip"})
    depth = half + 0.5
    label = max(len(f"{m} (0.00)") for m in test.methods)
    share = min(0.42, CD_CHAR_PX * label / CD_WIDTH_PX)  # of the width, per side, for the labels
    span = (k - 1 + 0.4) / (1 - 2 * share)
    pad = (span - (k - 1)) / 2
    layout = {"xaxis": {"range": [1 - pad, k + pad], "tickvals": list(range(1, k + 1)),
                        "title": {"text": "mean rank (1 = best)"}, "zeroline": False, "showgrid": False},
              "yaxis": {"range": [-depth, 1.1], "visible": False}, "showlegend": False, "font": {"size": 11},
              "height": 200 + 40 * half, "shapes": [
                  {"type": "line", "x0": 1, "x1": k, "y0": 0, "y1": 0, "line": {"color": "black", "width": 1.5}}]}
    return fragment(traces, layout)


def winrate_plot(wins: pd.DataFrame, ties: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """Heat map of the row method against the column method: win rate and ties as text,
    colored by wins less losses."""
    names = [esc(m) for m in wins.index]
    z = wins.to_numpy(dtype=float)
    text = [[("" if np.isnan(z[i, j]) else f"{100 * z[i, j]:.0f} %"
              + (f"<br>{100 * ties.iat[i, j]:.0f} % ties" if ties.iat[i, j] > 0 else ""))
             for j in range(z.shape[1])] for i in range(z.shape[0])]
    hover = [[f"{names[i]} vs {names[j]}: wins {100 * z[i, j]:.1f} %, ties {100 * ties.iat[i, j]:.1f} %"
              f" of {int(pairs.iat[i, j])} pairs" if not np.isnan(z[i, j]) else "" for j in range(z.shape[1])]
             for i in range(z.shape[0])]
    net = z - z.T  # wins less losses: 0 for an even record or all ties
    trace = {"type": "heatmap", "x": names, "y": names, "z": [[None if np.isnan(v) else v for v in row] for row in net],
             "text": text, "texttemplate": "%{text}", "hovertext": hover, "hoverinfo": "text",
             "colorscale": "RdBu", "reversescale": True, "zmin": -1, "zmax": 1, "zmid": 0,
             "colorbar": {"title": {"text": "wins − losses"}}}
    size = max(360, 60 * len(names) + 200)
    return fragment([trace], {"height": size, "xaxis": {"title": {"text": "against"}, "side": "top"},
                              "yaxis": {"title": {"text": "method"}, "autorange": "reversed"},
                              "margin": {"l": 160, "r": 20, "t": 120, "b": 40}})


def pareto_plot(table: pd.DataFrame, colors: dict[str, str]) -> str:
    """Median decision time against median gap (log-log), the non-dominated front joined."""
    traces = []
    front = table[table["non_dominated"]].sort_values("decision_ms")
    traces.append({"type": "scatter", "mode": "lines", "name": "non-dominated front",
                   "x": front["decision_ms"].tolist(), "y": floored(front["gap_pct"]),
                   "line": {"color": "#888", "dash": "dot", "shape": "hv"}})
    for row in table.itertuples(index=False):
        traces.append({"type": "scatter", "mode": "markers", "name": esc(row.method),
                       "x": [row.decision_ms], "y": [max(row.gap_pct, GAP_FLOOR)],
                       "marker": {"size": 13 if row.non_dominated else 9, "color": colors.get(row.method),
                                  "symbol": "star" if row.non_dominated else "circle-open",
                                  "line": {"width": 1.5, "color": colors.get(row.method)}},
                       "hovertemplate": f"{esc(row.method)}<br>%{{x:.4g}} ms, gap %{{y:.3g}} %"
                                        f"<extra>{'non-dominated' if row.non_dominated else 'dominated'}</extra>"})
    return fragment(traces, {"xaxis": {"type": "log", "title": {"text": "median decision time (ms)"}},
                             "yaxis": {"type": "log", "title": {"text": "median gap (%)"}}})
