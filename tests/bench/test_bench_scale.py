"""Solvers on synthetic chains of 1,000 and 10,000 blocks: time, peak memory, refusals (`make bench`).

Each case runs through the benchmark runner in a fresh interpreter (`benchmark.measure_scale`,
`benchmark.isolate` with start method spawn), so that its peak RSS (VmHWM) is its own.
Asserted: every solver finishes or, for `exhaustive`, refuses with a one-line reason; the
exact solvers reach the dp optimum; peak RSS stays under 4 GB; repeated `solve` / `evaluate` calls keep the RSS flat.
Times are recorded (`record_property`), not asserted; docs/bench-scale.md has the numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.measure_scale import LOOPS, build_instance, loop_case, run_case

pytestmark = pytest.mark.bench

DEPTHS = (1000, 10_000)
PEAK_LIMIT_MB = 4096
#: RSS growth allowed over a loop after its warm-up (allocator noise): 8 MB or 2 % of the RSS
GROWTH_LIMIT_MB = 8.0
GROWTH_LIMIT_SHARE = 0.02


@pytest.fixture(scope="module")
def instances(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("scale")
    return {depth: build_instance(depth, False, folder) for depth in DEPTHS}


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("label", ["dp", "exhaustive", "ilp", "genetic", "iorlo"])
def test_scale_case(instances, record_property, depth, label):
    row = run_case(instances[depth], label, repeats=3, budget_s=30, timeout_s=1800)
    for key in ("load_s", "prepare_s", "first_solve_ms", "decision_ms", "start_MB", "prepared_MB", "peak_MB"):
        if key in row:
            record_property(key, row[key])
    if label == "exhaustive":
        assert row["status"] == "unsupported", row
        assert len(row["error"].splitlines()) == 1 and "solver.limit" in row["error"]
        return
    assert row["status"] == "ok", row
    assert row["n_blocks"] == depth
    assert row["peak_MB"] < PEAK_LIMIT_MB
    if label in ("dp", "ilp"):
        assert abs(row["gap"]) < 1e-6, row
    assert row["gap"] > -1e-9


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(("what", "label", "iterations"), LOOPS)
def test_memory_stays_flat(instances, record_property, depth, what, label, iterations):
    row = loop_case(instances[depth], what, label, iterations, timeout_s=1800)
    assert "growth_MB" in row, row
    record_property("samples_MB", row["samples_MB"])
    limit = max(GROWTH_LIMIT_MB, GROWTH_LIMIT_SHARE * row["rss_after_warmup_MB"])
    assert row["growth_MB"] < limit, row
    assert row["rss_max_MB"] - row["rss_after_warmup_MB"] < limit, row
