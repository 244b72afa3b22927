"""Every comparison solver's conf/solver/<name>.yaml lists exactly its config defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from solvers import make_solver, solver_class

CONF = Path(__file__).resolve().parents[1] / "conf" / "solver"
NAMES = ("neurosurgeon", "maui", "ilp", "genetic", "random_search", "optuna")
RUNNER_KEYS = {"name", "timeout_s"}


@pytest.mark.parametrize("name", NAMES)
def test_yaml_matches_config_defaults(name):
    data = yaml.safe_load((CONF / f"{name}.yaml").read_text())
    assert data["name"] == name and data["timeout_s"] is None
    params = {k: v for k, v in data.items() if k not in RUNNER_KEYS}
    defaults = {f.name: f.default for f in dataclasses.fields(solver_class(name).Config)}
    assert params == defaults
    make_solver(name, params)  # strict build accepts the file
