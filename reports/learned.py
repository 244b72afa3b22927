"""The "Learned solvers" section: IoRLO, iorlo_ctx and the SB3 baselines side by side.

All of them train on the same environment (`partbench_env`), so their gaps separate what
the paper's settings cost from what DDPG itself can reach. Per method: the decision's gap,
the gap of the best assignment met while training (what search alone would have found),
the training time and environment steps; per instance the decision gaps side by side;
and, in numbers, whether SB3's DDPG reaches the optimum where `iorlo` does not. Every
gap is the problem's re-scoring as the runner recorded it (`gap`, `info.best_seen_cost`
over `optimal_cost`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reports import figures
from reports.analysis import training_curves
from reports.collect import parse_json

LEARNED = ("iorlo", "iorlo_ctx", "sb3_ddpg", "sb3_ddpg_small", "sb3_td3", "sb3_sac", "sb3_ppo")
OPTIMAL = 0.01  # a decision within 1 % of the optimum counts as reaching it


def pct(value: float | None) -> str:
    """A gap as a table string; rounding noise below 1e-12 of the optimum shows as 0."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{100 * (0.0 if abs(value) < 1e-12 else value):,.2f} %"


def _solver(method: str) -> str:
    return method.split(" ", 1)[0]


def rows(df: pd.DataFrame) -> pd.DataFrame:
    """One row per finished learned-solver job with its gaps, training time and env steps."""
    sel = df[df["solver"].isin(LEARNED) & (df["status"] == "ok")]
    out = []
    for r in sel.itertuples(index=False):
        info = parse_json(r.info) or {}
        best = info.get("best_seen_cost")
        opt = r.optimal_cost
        steps = info.get("env_steps")
        out.append({
            "method": r.method, "instance": f"{r.model_label} · {r.scenario} · {r.network}",
            "gap": r.gap,
            "gap_best_seen": best / opt - 1 if best is not None and opt and np.isfinite(opt) else np.nan,
            "train_s": info.get("train_s", np.nan), "env_steps": steps if steps is not None else np.nan,
            "cached": info.get("cached"),
        })
    return pd.DataFrame(out, columns=["method", "instance", "gap", "gap_best_seen", "train_s", "env_steps",
                                      "cached"])


def summary(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    order = {name: i for i, name in enumerate(LEARNED)}
    for method, g in sorted(table.groupby("method"), key=lambda kv: (order.get(_solver(kv[0]), 99), kv[0])):
        out.append({
            "method": method, "jobs": len(g),
            "gap": pct(float(g["gap"].median())), "gap_p90": pct(float(g["gap"].quantile(0.9))),
            "optimal": int((g["gap"] <= OPTIMAL).sum()),
            "gap_best_seen": pct(float(g["gap_best_seen"].median())) if g["gap_best_seen"].notna().any() else "–",
            "train_s": float(g["train_s"].median()) if g["train_s"].notna().any() else None,
            "env_steps": float(g["env_steps"].median()) if g["env_steps"].notna().any() else None,
        })
    return out


def answer(table: pd.DataFrame) -> dict[str, Any] | None:
    """Where iorlo's decision misses the optimum (> 1 %), how often sb3_ddpg's reaches it."""
    wide = table.pivot_table(index="instance", columns="method", values="gap", aggfunc="median")
    iorlo_cols = [c for c in wide.columns if _solver(c) == "iorlo"]
    ddpg_cols = [c for c in wide.columns if _solver(c) == "sb3_ddpg"]
    if not iorlo_cols or not ddpg_cols:
        return None
    both = wide[[iorlo_cols[0], ddpg_cols[0]]].dropna()
    missed = both[both[iorlo_cols[0]] > OPTIMAL]
    return {
        "iorlo": iorlo_cols[0], "ddpg": ddpg_cols[0], "instances": len(both), "iorlo_missed": len(missed),
        "ddpg_reached": int((missed[ddpg_cols[0]] <= OPTIMAL).sum()),
        "iorlo_median": pct(float(both[iorlo_cols[0]].median())) if len(both) else "–",
        "ddpg_median": pct(float(both[ddpg_cols[0]].median())) if len(both) else "–",
        "ddpg_better": int((both[ddpg_cols[0]] < both[iorlo_cols[0]] - 1e-12).sum()),
    }


def matrix(table: pd.DataFrame) -> dict[str, Any] | None:
    wide = table.pivot_table(index="instance", columns="method", values="gap", aggfunc="median")
    if wide.empty:
        return None
    order = {name: i for i, name in enumerate(LEARNED)}
    cols = sorted(wide.columns, key=lambda c: (order.get(_solver(c), 99), c))
    return {"columns": cols, "rows": [(i, [pct(wide.loc[i, c]) for c in cols]) for i in wide.index]}


def section(df: pd.DataFrame) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The section's tables and answer, and its training-curve figures."""
    table = rows(df)
    figs = []
    for method, entry in training_curves(df[df["solver"].isin(LEARNED)]).items():
        shown, found = len(entry["curves"]), entry["found"]
        title = f"{method}: mean reward per episode ({found} job{'s' if found != 1 else ''}"
        title += f", the first {shown} shown)" if found > shown else ")"
        figs.append((title, figures.curves_plot(entry["curves"])))
    return {"summary": summary(table), "matrix": matrix(table), "answer": answer(table),
            "present": sorted({_solver(m) for m in table["method"]})}, figs
