"""The "Testbed" report section: a live run's measurements held against the cost model.

From a `python -m testbed` run directory: predicted against measured latency per partition
(a scatter with the diagonal, and a table), the per-block and per-transfer breakdown of every
partition (`requests.json`), the link check, the runtimes, and the Sec. 3.2 layer-model error
table when the directory holds a `layer_models.json` (`command=calibrate`). Every number is
read from the run's files; nothing is recomputed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from markupsafe import Markup

from problems.errors import FieldError
from reports import figures

TESTBED_FILE = "testbed.json"
TEMPLATE = "testbed.html.j2"
TIER_NAMES = {"mec": ["device", "edge", "cloud"], "d2d": ["device", "collaborator"]}


def is_testbed_dir(path: Path) -> bool:
    return path.is_dir() and ((path / TESTBED_FILE).exists() or (path / "layer_models.json").exists())


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FieldError("path", f"unreadable {path.name} ({type(exc).__name__})", str(path)) from None


def _scatter(rows: list[dict]) -> str:
    top = max([r["predicted_ms"] for r in rows] + [r["measured_median_ms"] for r in rows]) * 1.1
    data = [{"type": "scatter", "mode": "lines", "x": [0, top], "y": [0, top], "name": "measured = predicted",
             "line": {"dash": "dot", "color": "#888"}, "hoverinfo": "skip"}]
    colors = figures.palette(r["solver"] for r in rows)
    for r in rows:
        label = "".join(map(str, r["assignment"]))
        data.append({"type": "scatter", "mode": "markers", "x": [r["predicted_ms"]], "y": [r["measured_median_ms"]],
                     "name": f"{r['solver']} {label}", "marker": {"size": 11, "color": colors[r["solver"]]},
                     "error_y": {"type": "data", "symmetric": False,
                                 "array": [max(r["measured_ms"]) - r["measured_median_ms"]],
                                 "arrayminus": [r["measured_median_ms"] - min(r["measured_ms"])]}})
    layout = {"xaxis": {"title": {"text": "predicted T (ms, cost model)"}, "range": [0, top]},
              "yaxis": {"title": {"text": "measured end-to-end (ms, median; bars: min-max)"}, "range": [0, top]},
              "legend": {"title": {"text": "partition"}}}
    return figures.fragment(data, layout)


def _breakdowns(requests: dict | None, tiers: list[str]) -> list[dict]:
    if not requests:
        return []
    calibrated = requests.get("calibration") or []
    out = []
    for p in requests["partitions"]:
        b = p["breakdown"]
        blocks = [{"block": f"b{x['block'] + 1}", "tier": tiers[x["tier"]], "ms": x["ms"],
                   "calibrated": calibrated[x["block"]][x["tier"]] if calibrated else None} for x in b["blocks"]]
        transfers = [{"route": f"{tiers[x['src']]} → {tiers[x['dst']]}", "kb": x["bytes"] / 1024, **x}
                     for x in b["transfers"]]
        out.append({"solver": p["solver"], "assignment": "".join(map(str, p["assignment"])), "e2e": b["e2e_ms"],
                    "other": b["other_ms"], "blocks": blocks, "transfers": transfers,
                    "compute": sum(x["ms"] for x in blocks), "moving": sum(x["ms"] for x in transfers)})
    return out


def section(run_dir: Path) -> dict[str, Any]:
    """The template context of one testbed run directory."""
    doc = _read(run_dir / TESTBED_FILE) if (run_dir / TESTBED_FILE).exists() else None
    requests = _read(run_dir / "requests.json") if (run_dir / "requests.json").exists() else None
    layers = _read(run_dir / "layer_models.json") if (run_dir / "layer_models.json").exists() else None
    tiers = (requests or {}).get("tiers") or (layers or {}).get("tiers") or TIER_NAMES["mec"]
    out: dict[str, Any] = {"path": str(run_dir), "doc": doc, "layers": layers, "scatter": None, "breakdowns": []}
    if doc is not None:
        out["scatter"] = Markup(_scatter(doc["partitions"]))
        out["breakdowns"] = _breakdowns(requests, tiers)
        out["best_gap"] = doc["summary"].get("predicted_best_gap")  # absent in older testbed.json files
    return out


def sections(paths: list[Path]) -> list[dict[str, Any]]:
    return [section(p) for p in paths if is_testbed_dir(p)]
