"""Block calibration: every block timed on every tier runtime -> `calibration.json` and the
calibrated problem, whose blocks carry `tier_latency_ms` (spec section 11).

The calibrated problem keeps the configured scenario (tiers, links, weights); only the
blocks' latencies change. A saved calibration can be reused with other network settings:
`calibrated_problem` puts its latencies on the blocks of the problem being run.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path
from typing import Any

from tqdm import tqdm

from problems import Problem
from problems.atomic import atomic_write_text
from problems.errors import FieldError
from testbed.export import Exported
from testbed.session import Testbed

FORMAT = "testbed-calibration/1"


def chain_medians(samples: list[list[list[float]]]) -> list[list[float]]:
    """[block][tier] median ms from [tier][block][run] samples of the tiers' chain runs."""
    return [[statistics.median(tier[i]) for tier in samples] for i in range(len(samples[0]))]


#: request ids of calibration requests (measured requests count from 0, warm-ups from -1)
CALIBRATION_REQ = -1_000_000


async def calibrate_blocks(tb: Testbed, exported: Exported, *, warmup: int, repeats: int) -> list[dict[str, Any]]:
    """Per block: its sizes and, per tier, the median ms and the samples.

    Blocks are timed in context: for each tier, `warmup` and then `repeats` real requests
    that give that tier every block (device-only, edge-only, cloud-only), and a block's time
    on the tier is the median of its times inside those requests. A block timed alone, or
    a tier's chain timed by a loop of its own, is not what a request sees: the page's
    message handling, the CPU throttler, a process that just woke from waiting for its
    input and cold caches all differ (BENCHMARKS.md, Testbed, has the numbers)."""
    n = tb.problem.n_blocks
    samples = []
    for s in tqdm(range(len(tb.tier_names)), desc="calibrating blocks in single-tier requests", unit="tier",
                  leave=False):
        per_block: list[list[float]] = [[] for _ in range(n)]
        for r in range(warmup + repeats):
            done, _ = await tb.request(CALIBRATION_REQ - s * 10_000 - r, [s] * n)
            if r < warmup:
                continue
            for e in done["trace"]:
                if e["k"] == "block":
                    per_block[e["i"]].append(e["t1"] - e["t0"])
        samples.append(per_block)
    medians = chain_medians(samples)
    return [{"name": b.name, "in_kb": b.in_kb, "out_kb": b.out_kb, "tier_latency_ms": medians[i],
             "samples_ms": [tier[i] for tier in samples]} for i, b in enumerate(tb.problem.profile.blocks)]


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
