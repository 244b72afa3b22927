"""The report's "Fleets" section (spec section 13), computed from the fleet rows alone.

Every number is read from the rows (the problem's own re-scoring of each answer): fleet
cost against load per solver, how often `independent` overloads a server, each policy's
throughput headroom theta against cloud_only's (the paper's "0.875x throughput
improvement" is theta(S) / theta(cloud_only) - 1 = 0.875), the load from which the exact
optimum keeps blocks on the devices, and each solver's gap against K.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

#: the paper's claim (abstract): 0.875x more throughput than cloud-only
PAPER_THROUGHPUT_GAIN = 0.875
KEYS = ["queueing", "users", "offered_load"]


def fleet_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if "scenario" not in frame.columns:
        return frame.iloc[0:0]
    df = frame[frame["scenario"] == "fleet"].copy()
    if df.empty:
        return df
    for col in ("users", "offered_load", "cost", "gap", "rho_edge", "rho_cloud", "theta"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col].replace({"inf": math.inf, "-inf": -math.inf}), errors="coerce")
    df["load"] = df["offered_load"].round(6)
    return df


def _device_share(text: Any) -> float | None:
    try:
        users = json.loads(text) if isinstance(text, str) else text
        tiers = [t for u in users for t in u]
    except (TypeError, ValueError):
        return None
    return sum(1 for t in tiers if t == 0) / len(tiers) if tiers else None


def _table(frame: pd.DataFrame, digits: int = 2) -> dict[str, Any] | None:
    if frame is None or frame.empty:
        return None
    rows = []
    for index, values in zip(frame.index, frame.to_numpy(), strict=True):
        label = " / ".join(str(i) for i in index) if isinstance(index, tuple) else str(index)
        rows.append((label, [_cell(v, digits) for v in values]))
    return {"index": " / ".join(str(n) for n in frame.index.names if n), "columns": [str(c) for c in frame.columns],
            "rows": rows}


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:,.{digits}f}"


def cost_vs_load(df: pd.DataFrame) -> pd.DataFrame:
    """Median fleet cost over K of each (queueing, solver) and load; 'infeasible' where no row is."""
    ok = df[df["status"] == "ok"]
    table = ok.pivot_table(index=["queueing", "solver"], columns="load", values="cost", aggfunc="median")
    ran = df[df["status"].isin(["ok", "infeasible"])]
    allbad = ran.groupby(["queueing", "solver", "load"])["status"].apply(lambda s: (s == "infeasible").all())
    table = table.reindex(allbad.index.droplevel("load").unique(), columns=sorted(ran["load"].unique()))
    table = table.astype(object)
    for (q, s, load), bad in allbad.items():
        if bad:
            table.loc[(q, s), load] = "infeasible"
    return table


def independent_overloads(df: pd.DataFrame) -> pd.DataFrame:
    """Share of independent's answers that overload a server, per queueing and load (over K)."""
    ind = df[(df["solver"] == "independent") & df["status"].isin(["ok", "infeasible"])]
    if ind.empty:
        return ind
    return ind.assign(over=ind["status"] == "infeasible").pivot_table(
        index="queueing", columns="load", values="over", aggfunc="mean")


def theta_vs_cloud_only(df: pd.DataFrame) -> pd.DataFrame:
    """Median of theta(S) / theta(cloud_only) - 1 over every problem both solved (feasible or not)."""
    ran = df[df["status"].isin(["ok", "infeasible"]) & df["theta"].notna()]
    cloud = ran[ran["solver"] == "cloud_only"].set_index(["instance"])["theta"]
    if cloud.empty:
        return cloud.to_frame()
    out = ran[ran["solver"] != "cloud_only"].copy()
    out["gain"] = out["theta"] / out["instance"].map(cloud) - 1.0
    table = out.pivot_table(index="solver", columns="queueing", values="gain", aggfunc="median")
    table["paper (IoRLO)"] = PAPER_THROUGHPUT_GAIN
    return table


def optimum_device_load(df: pd.DataFrame) -> pd.DataFrame:
    """Per queueing and K: the exact optimum's share of blocks on the devices at each load."""
    exact = df[(df["solver"] == "ilp") & (df["status"] == "ok")]
    if exact.empty or "assignment" not in exact.columns:
        return exact.iloc[0:0]
    exact = exact.assign(device=exact["assignment"].map(_device_share))
    return exact.pivot_table(index=["queueing", "users"], columns="load", values="device", aggfunc="median")


def first_device_load(shares: pd.DataFrame) -> pd.DataFrame:
    """The smallest load at which the optimum keeps any block on a device (per queueing and K)."""
    rows = {}
    for key, row in shares.iterrows():
        keeping = [load for load, v in row.items() if isinstance(v, float) and v > 0]
        rows[key] = {"first load with device blocks": min(keeping) if keeping else math.nan}
    out = pd.DataFrame.from_dict(rows, orient="index")
    if not out.empty:
        out.index = pd.MultiIndex.from_tuples(out.index, names=shares.index.names)
    return out


def gap_vs_users(df: pd.DataFrame) -> pd.DataFrame:
    """Median gap (%) of each solver against the reference (optimal or bound), per K."""
    ok = df[(df["status"] == "ok") & df["gap"].notna()]
    if ok.empty:
        return ok
    return ok.assign(gap_pct=100 * ok["gap"]).pivot_table(index="solver", columns="users", values="gap_pct",
                                                            aggfunc="median")


def section(frame: pd.DataFrame) -> dict[str, Any] | None:
    """The context of the Fleets section, or None when the run has no fleet rows."""
    df = fleet_rows(frame)
    if df.empty:
        return None
    shares = optimum_device_load(df)
    kinds = df.dropna(subset=["reference_kind"]).drop_duplicates("instance")["reference_kind"].value_counts()
    return {
        "n_rows": len(df),
        "references": kinds.to_dict(),
        "cost": _table(cost_vs_load(df)),
        "overloads": _table(independent_overloads(df)),
        "theta": _table(theta_vs_cloud_only(df), 3),
        "device_share": _table(shares),
        "first_device": _table(first_device_load(shares)),
        "gaps": _table(gap_vs_users(df), 3),
        "paper_gain": PAPER_THROUGHPUT_GAIN,
    }
