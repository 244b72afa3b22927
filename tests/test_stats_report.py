"""The comparison sections of report.html: a 2-seed x 3-solver x 4-problem sweep draws every
one of them (checked in headless Chromium), a one-problem run says what each needs, and
separate sweeps merge into repetitions."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from test_report import CHROMIUM_FLAGS, chromium, section

from benchmark.job import run_job
from reports import analysis, stats
from reports.build import write_sweep_outputs
from reports.collect import read_paths

STATS_SECTIONS = ("performance-profiles", "anytime", "rank-tests", "win-rates", "pareto")
SOLVERS = {"dp": {}, "genetic": {"population": 16, "generations": 30},
           "random_search": {"evaluations": 2000, "batch": 200}}
PROBLEMS = [(model, scenario) for model in ("alexnet", "mobilenet_v1") for scenario in ("mec", "d2d")]


def stats_sweep(sweep: Path, seeds=(0, 1), solvers=SOLVERS, problems=PROBLEMS) -> Path:
    n = 0
    for seed in seeds:
        for model, scenario in problems:
            for solver, params in solvers.items():
                cfg = {"solver": {"name": solver, "timeout_s": None, **params}, "model": {"name": model},
                       "scenario": {"kind": scenario}, "network": {"name": "5g_avg"}, "seed": seed,
                       "timing": {"budget_s": 0.0, "max_repeats": 1}}
                run_job(cfg, sweep / str(n), [f"solver={solver}", f"model={model}", f"scenario={scenario}",
                                              f"seed={seed}"])
                n += 1
    return sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    path = stats_sweep(tmp_path_factory.mktemp("stats") / "sweep")
    write_sweep_outputs(path)
    return path


@pytest.mark.slow
def test_every_comparison_section_is_drawn_in_headless_chromium(sweep, tmp_path):
    page = (sweep / "report.html").read_text()
    expected = {"performance-profiles": 1, "anytime": 5, "rank-tests": 2, "win-rates": 1, "pareto": 1}
    for name, figures in expected.items():
        body = section(page, name)
        assert body.count('class="plotly-graph-div"') == figures, name  # 4 anytime groups + the ECDF
        assert 'class="missing"' not in body, name
    seeds = dict(re.findall(r'<tr><td class="text">([^<]+)</td><td>4</td><td>2</td>\s*<td class="text">([^<]+)</td>',
                            section(page, "summary")))
    assert seeds == {"dp": "deterministic: identical across seeds", "genetic": "random", "random_search": "random"}
    assert "Friedman" in section(page, "rank-tests") and "Nemenyi" in section(page, "rank-tests")
    exe = chromium()
    proc = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=15000", "--dump-dom", (sweep / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=180)
    dom = proc.stdout
    assert proc.returncode == 0 and "</html>" in dom, proc.stderr[-2000:]
    for name, figures in expected.items():
        body = section(dom, name)
        plots = body.split('class="plotly-graph-div')[1:]
        assert len(plots) == figures, name
        for plot in plots:
            assert 'class="main-svg"' in plot[:200_000], name  # plotly drew an SVG into every figure div
    assert section(dom, "anytime").count('class="scatterlayer') >= 5
    assert 'class="hm"' in section(dom, "win-rates") or "heatmaplayer" in section(dom, "win-rates")


def test_sweep_writes_parquet_beside_the_csv(sweep):
    csv, parquet = pd.read_csv(sweep / "results.csv"), pd.read_parquet(sweep / "results.parquet")
    assert list(parquet.columns) == list(csv.columns) and len(parquet) == len(csv) == 24
    assert parquet["seed"].tolist() == csv["seed"].tolist()
    assert parquet["cost"].dtype == "float64" and parquet["info"].dtype == "string"


def test_sections_with_too_little_data_say_what_they_need(tmp_path):
    small = stats_sweep(tmp_path / "small", seeds=(0,), solvers={"dp": {}, "device_only": {}},
                        problems=PROBLEMS[:1])
    _, html_path = write_sweep_outputs(small)
    page = html_path.read_text()
    for name in STATS_SECTIONS:
        body = section(page, name)
        if name in ("pareto", "win-rates"):  # two methods on one problem are enough for these
            assert body.count('class="plotly-graph-div"') == 1
            continue
        assert 'class="plotly-graph-div"' not in body, name
        assert body.count('class="missing"') >= 1 and "need" in body, name
    assert "Confidence intervals need repetitions" in section(page, "summary")
    assert "info.trace" in section(page, "anytime")


def test_separate_sweeps_merge_into_repetitions(tmp_path):
    first = stats_sweep(tmp_path / "seed0", seeds=(0,), solvers={"genetic": SOLVERS["genetic"]},
                        problems=PROBLEMS[:2])
    second = stats_sweep(tmp_path / "seed1", seeds=(1,), solvers={"genetic": SOLVERS["genetic"]},
                         problems=PROBLEMS[:2])
    df = stats.with_problems(analysis.prepare(read_paths([first, second]).frame))
    table = stats.repetitions(df).set_index("method")
    assert table.loc["genetic", "problems"] == 2 and table.loc["genetic", "repetitions"] == 2


def test_the_anytime_section_draws_ilp_incumbents_and_a_learned_solvers_training(tmp_path):
    solvers = {"ilp": {"backend": "cp-sat"},
               "iorlo": {"episodes": 3, "steps": 20, "memory": 40, "batch_size": 8, "progress": False,
                         "checkpoint_dir": None},
               "genetic": {"population": 16, "generations": 20}}
    sweep = stats_sweep(tmp_path / "sweep", seeds=(0,), solvers=solvers, problems=[("alexnet", "mec")])
    df = stats.with_problems(analysis.prepare(read_paths([str(sweep)]).frame))
    points = stats.trace_points(df)
    assert set(points["method"]) == set(solvers)
    env_steps = json.loads(df.set_index("method").loc["iorlo", "info"])["env_steps"]
    learned = points[points["method"] == "iorlo"]
    assert learned["evaluations"].max() <= env_steps  # evaluations are training env steps
    curves = stats.anytime_curves(points, "evaluations")
    assert {"ilp", "iorlo"} <= set(curves["method"])
    write_sweep_outputs(sweep)
    anytime = section((sweep / "report.html").read_text(), "anytime")
    assert 'class="missing"' not in anytime and '"iorlo"' in anytime and '"ilp"' in anytime
