"""The report's Fleets section, built from real fleet rows of the runner."""

from __future__ import annotations

import json

from benchmark.runner import TimingConfig, run
from problems.build import build_problem
from reports.build import build_report
from reports.collect import Collected, flatten, to_frame

FAST = TimingConfig(budget_s=0.0, max_repeats=1)


def test_fleets_section_from_runner_rows(tmp_path):
    rows = []
    for users in (1, 2):
        for load in (0.5, 4.0):
            fleet = build_problem({}, {"kind": "fleet", "users": users, "load": load,
                                       "models": ["alexnet", "mobilenet_v1"]}, {"name": "5g_avg"})
            for solver in ("independent", "ilp", "lagrangian", "cloud_only", "device_only", "dp"):
                row = run(fleet, solver, timing=FAST)
                row = json.loads(json.dumps(row))  # as result.json holds it
                rows.append(flatten(row, tmp_path, "sweep", f"{users}-{load}-{solver}"))
    frame = to_frame(rows)
    html = build_report(Collected(frame, ["sweep"], [], {}), tmp_path / "report.html").read_text()
    assert "Fleets: users sharing the edge and the cloud" in html
    assert "infeasible" in html  # cloud_only at load 4
    assert "0.875" in html
    assert "Not in this run: no fleet jobs" not in html
