"""The report's "DAG models" section, from a small sweep of DAG instance files."""

from __future__ import annotations

import pandas as pd
import pytest
from dag_factory import synthetic_dag

from benchmark.job import run_job
from problems.instance import save_instance
from reports import analysis, dag
from reports.build import build_report
from reports.collect import read_sweep

SOLVERS = ("ilp", "mincut", "neurosurgeon", "genetic", "device_only", "dp")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("dag-sweep")
    num = 0
    for n, kind in ((20, "mec"), (40, "mec"), (20, "d2d")):
        path = save_instance(synthetic_dag(n, 7, kind), root / f"dag{n}-{kind}.json")
        for solver in SOLVERS:
            cfg = {"solver": {"name": solver, "timeout_s": None}, "instance": str(path), "seed": 0,
                   "timing": {"budget_s": 0.0, "max_repeats": 1}}
            run_job(cfg, root / str(num), [f"solver={solver}", f"instance={path}"])
            num += 1
    return root


def test_the_dag_section_has_every_part(sweep):
    df = analysis.prepare(read_sweep(sweep).frame)
    part = dag.section(df)
    assert part["jobs"] == 3 * len(SOLVERS)
    shapes = {r["model_label"]: (r["blocks"], r["edges"]) for r in part["structure"]}
    for n, kind in ((20, "mec"), (40, "mec"), (20, "d2d")):
        problem = synthetic_dag(n, 7, kind)
        assert shapes[problem.name] == (n, len(problem.chain.dag.producers))
    exact = pd.DataFrame(part["exact"])
    assert set(exact["method"]) == {"ilp", "mincut"}
    assert (exact[exact["method"] == "ilp"]["optimal"] == exact[exact["method"] == "ilp"]["jobs"]).all()
    gaps = pd.DataFrame(part["heuristics"]).set_index(["method", "scenario"])
    assert gaps.loc[("dp", "mec"), "finished"] == 0  # unsupported on a DAG
    assert (gaps["median_gap_pct"].dropna() >= -1e-7).all()
    split = pd.DataFrame(part["split"])
    assert len(split) == 3
    # the cheapest single split is never worse than Neurosurgeon's latency-minded one, nor than the optimum
    assert (split["split_gap_pct"] <= split["neurosurgeon_gap_pct"] + 1e-9).all()
    assert (split["split_gap_pct"] >= -1e-7).all()


def test_the_report_renders_the_section(sweep, tmp_path):
    html = build_report(read_sweep(sweep), tmp_path / "report.html").read_text()
    assert 'id="dag"' in html and "Blocks and edges per model" in html
    assert "exact solvers: decision time against blocks" in html
    assert "A chain-minded single split" in html


def test_a_run_without_dags_says_so(tmp_path):
    from test_report import job

    job(tmp_path, 0, "dp")
    html = build_report(read_sweep(tmp_path), tmp_path / "report.html").read_text()
    assert "Not in this run: no DAG problem" in html
