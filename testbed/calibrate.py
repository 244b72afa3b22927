"""Block calibration: every block timed on every tier runtime -> `calibration.json` and the
calibrated problem, whose blocks carry `tier_latency_ms` (spec section 11).

The calibrated problem keeps the configured scenario (tiers, links, weights); only the
blocks' latencies change. A saved calibration can be reused with other network settings:
`calibrated_problem` puts its latencies on the blocks of the problem being run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from problems import Problem
from problems.atomic import atomic_write_text
from problems.errors import FieldError
from testbed.export import Exported
from testbed.session import Testbed

FORMAT = "testbed-calibration/1"


async def calibrate_blocks(tb: Testbed, exported: Exported, *, warmup: int, repeats: int,
                           min_loop_ms: float) -> list[dict[str, Any]]:
    """Per block: its sizes and, per tier, the median ms, the samples and the loop length."""
    rows = []
    blocks = tb.problem.profile.blocks
    for i in tqdm(range(len(blocks)), desc="calibrating blocks", unit="block", leave=False):
        timed = await tb.time_file("blocks", i, exported.inputs[i], warmup=warmup, repeats=repeats,
                                   min_loop_ms=min_loop_ms)
        rows.append({"name": blocks[i].name, "in_kb": blocks[i].in_kb, "out_kb": blocks[i].out_kb,
                     "tier_latency_ms": [t["ms"] for t in timed], "samples_ms": [t["samples"] for t in timed],
                     "loop": [t["loop"] for t in timed]})
    return rows


def calibration_document(tb: Testbed, rows: list[dict], settings: dict, model: dict) -> dict:
    return {"format": FORMAT, "problem": tb.problem.name, "model": model, "tiers": tb.tier_names,
            "device_runtime": device_runtime(tb), "server_runtime": server_runtime(tb),
            "settings": settings, "blocks": rows}


def device_runtime(tb: Testbed) -> dict:
    hello = tb.hello["device"]
    return {"user_agent": hello["user_agent"], "engine": hello["engine"], "backend": hello["backend"],
            "cpu_throttling": tb.cpu_throttling}


def server_runtime(tb: Testbed) -> dict:
    out = {"engine": tb.hello[tb.servers[0]]["engine"]}
    for name in tb.servers:
        out[f"{name}_threads"] = tb.hello[name]["threads"]
    return out


def write_calibration(doc: dict, path: Path) -> None:
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def load_calibration(path: str | Path) -> dict:
    path = Path(path).expanduser()
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise FieldError("testbed.calibration", exc.strerror or "cannot be read", str(path)) from None
    except json.JSONDecodeError as exc:
        raise FieldError("testbed.calibration", f"not JSON ({exc.msg}, line {exc.lineno})", str(path)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FieldError("testbed.calibration", f"not a {FORMAT} file", str(path))
    return doc


def calibrated_problem(problem: Problem, doc: dict) -> Problem:
    """`problem` with every block's `tier_latency_ms` from the calibration `doc`."""
    rows = doc["blocks"]
    if len(rows) != problem.n_blocks:
        raise FieldError("testbed.calibration", f"calibrates {len(rows)} blocks, the problem has "
                         f"{problem.n_blocks}", doc.get("problem"))
    if len(doc["tiers"]) != problem.n_tiers:
        raise FieldError("testbed.calibration", f"calibrates tiers {doc['tiers']}, the problem has "
                         f"{problem.n_tiers}", doc.get("problem"))
    blocks = []
    for i, (b, row) in enumerate(zip(problem.profile.blocks, rows, strict=True)):
        if abs(row["in_kb"] - b.in_kb) > 1e-9 or abs(row["out_kb"] - b.out_kb) > 1e-9:
            raise FieldError(f"testbed.calibration.blocks[{i}]", "sizes differ from the problem's block",
                             [row["in_kb"], row["out_kb"]])
        blocks.append(dataclasses.replace(b, tier_latency_ms=tuple(float(v) for v in row["tier_latency_ms"])))
    profile = dataclasses.replace(problem.profile, blocks=tuple(blocks), meta=dict(problem.profile.meta))
    return Problem(profile, problem.scenario, name=problem.name)
