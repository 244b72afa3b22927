"""The block-by-block pipeline across the real tiers returns what one torch forward pass of the
whole model returns (atol 1e-4): all on the device (onnxruntime-web in Chromium), all on the
edge (onnxruntime), and a partition that visits every tier and comes back to the device.
The calibration in context (single-tier requests) gives every block a median per tier."""

from __future__ import annotations

import asyncio
import statistics

import numpy as np
import pytest
from testbed_env import need_browser_tier

from problems.build import build_problem
from problems.models import ModelConfig
from problems.schema import from_mapping
from testbed.calibrate import calibrate_blocks
from testbed.export import export_blocks
from testbed.session import Testbed

pytestmark = pytest.mark.slow
MODEL = {"name": "resnet32", "source": "torch"}


def _run(tmp_path, assignments):
    problem = build_problem(MODEL, {"kind": "mec"}, {"name": "5g_best"})
    exported = export_blocks(from_mapping(ModelConfig, MODEL, "model"), problem, tmp_path / "files", seed=3)

    async def main():
        tb = Testbed(problem, tmp_path / "files", tmp_path, cpu_throttling=2.0, threads={"edge": 1, "cloud": 1})
        async with tb.running():
            await tb.load("blocks", exported.files, image=exported.image)
            await tb.throttle()
            results = [await tb.request(r, a) for r, a in enumerate(assignments)]
            rows = await calibrate_blocks(tb, exported, warmup=1, repeats=3)
            assert not tb.hub.stamps  # every transfer's stamps went onto its request's trace
            return results, rows

    results, rows = asyncio.run(main())
    return problem, exported, results, rows


def test_pipeline_equals_one_torch_forward_pass(tmp_path):
    need_browser_tier()
    n = 17
    mixed = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1, 1, 0, 0, 2, 2, 1]
    assert len(mixed) == n
    problem, exported, results, rows = _run(tmp_path, [[0] * n, [1] * n, mixed])
    assert problem.n_blocks == n
    for (done, result), label in zip(results, ["device-only", "edge-only", "mixed"], strict=True):
        assert result.shape == exported.reference.shape == (1, 10)
        np.testing.assert_allclose(result, exported.reference, atol=1e-4, rtol=0, err_msg=label)
        ran = [(e["i"], e["tier"]) for e in done["trace"] if e["k"] == "block"]
        assert [i for i, _ in ran] == list(range(n)), label
    # the mixed request ran each block where the partition put it and moved at every boundary
    done, _ = results[2]
    assert [t for _, t in ((e["i"], e["tier"]) for e in done["trace"] if e["k"] == "block")] == mixed
    moves = [(e["src"], e["dst"]) for e in done["trace"] if e["k"] == "xfer"]
    assert moves == [(0, 1), (1, 2), (2, 1), (1, 0), (0, 2), (2, 1), (1, 0)]
    for e in done["trace"]:
        if e["k"] == "xfer":  # the hub's stamps: it got the first fragment after the send and held it shaped
            assert e["hub_in"] >= e["t_send"] - 5.0 and e["shaped_ms"] > 0, e
    # calibration in context: per block, per tier, the median of its times in single-tier requests
    assert [r["name"] for r in rows] == [b.name for b in problem.profile.blocks]
    for r in rows:
        assert len(r["tier_latency_ms"]) == len(r["samples_ms"]) == 3
        for ms, samples in zip(r["tier_latency_ms"], r["samples_ms"], strict=True):
            assert len(samples) == 3 and all(x > 0 for x in samples)
            assert ms == statistics.median(samples)
