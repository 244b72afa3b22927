"""`python -m benchmark.tune`: search spaces, studies that resume, outputs usable as overrides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from benchmark import tune as tuning
from problems import FieldError
from solvers import make_solver

ROOT = Path(__file__).resolve().parents[1]
GENETIC = {"name": "genetic", "timeout_s": None, "population": 16, "generations": 5, "patience": 3, "elite": 2,
           "tournament": 2, "crossover": "two_point", "crossover_rate": 0.9, "mutation_rate": None,
           "seed_uniform": True, "segment_rate": 0.2, "dedupe": True}
SMALL = ["mobilenet_v1/mec/5g_avg"]


def dims(solver: str, user=None, exclude=()) -> dict[str, tuning.Dim]:
    return {d.name: d for d in tuning.search_space(solver, user or {}, list(exclude))}


def test_space_derived_from_the_config_dataclass():
    space = dims("genetic")
    assert space["population"] == tuning.Dim("population", "int", 32, 512, log=True)
    assert space["crossover_rate"].kind == "float" and space["crossover_rate"].high == 1.0
    assert space["crossover"].choices == ("two_point", "uniform")
    assert "mutation_rate" not in space  # null default: no known scale
    assert "dedupe" not in space and "seed_uniform" not in space  # switches stay as configured


def test_declared_space_of_the_learners_leaves_intent_and_run_fields_alone():
    for solver in ("iorlo", "iorlo_ctx"):
        space = dims(solver)
        assert not {"eps", "phi", "zeta", "seed", "progress", "checkpoint_dir", "retrain"} & set(space)
    assert dims("iorlo")["reward_scale"].log and dims("iorlo")["batch_size"].kind == "int"


def test_user_ranges_override_and_exclude():
    space = dims("genetic", {"population": [8, 64], "mutation_rate": {"low": 0.01, "high": 0.5, "log": True},
                             "dedupe": {"choices": [True, False]}}, exclude=["elite"])
    assert space["population"] == tuning.Dim("population", "int", 8, 64, log=False)
    assert space["mutation_rate"].log and space["dedupe"].choices == (True, False)
    assert "elite" not in space


@pytest.mark.parametrize(("user", "match"), [
    ({"populaton": [1, 2]}, r"tune\.params\.populaton"),
    ({"exclude": ["elit"]}, r"tune\.exclude"),
    ({"population": [64, 8]}, "low < high"),
    ({"population": [1, 2, 3]}, r"\[low, high\]"),
    ({"crossover": [0, 1]}, "int or float field"),
    ({"crossover_rate": {"low": 0.0, "high": 1.0, "log": True}}, "log range needs low > 0"),
])
def test_bad_ranges_name_the_field(user, match):
    with pytest.raises(FieldError, match=match):
        if "exclude" in user:
            dims("genetic", exclude=user["exclude"])
        else:
            dims("genetic", user)


def test_study_runs_resumes_and_writes_usable_overrides(tmp_path):
    cfg = {"solver": GENETIC, "tune": {"n_trials": 3, "instances": SMALL, "seeds": [0, 1]}}
    study = tuning.tune(cfg, tmp_path)
    assert len(study.trials) == 3 and (tmp_path / "optuna.db").exists()
    best = yaml.safe_load((tmp_path / "best_params.yaml").read_text())
    assert best == study.best_trial.params
    make_solver("genetic", {k: v for k, v in GENETIC.items() if k not in ("name", "timeout_s")} | best)
    full = yaml.safe_load((tmp_path / "solver" / "genetic_tuned.yaml").read_text())
    assert full["name"] == "genetic" and set(full) == set(GENETIC)
    make_solver("genetic", {k: v for k, v in full.items() if k not in ("name", "timeout_s")})
    assert len((tmp_path / "trials.csv").read_text().splitlines()) == 4

    first = [t.params for t in study.trials]
    again = tuning.tune({**cfg, "tune": {**cfg["tune"], "n_trials": 5}}, tmp_path)
    assert len(again.trials) == 5  # two more, the first three kept
    assert [t.params for t in again.trials[:3]] == first
    assert again.trials[3].params not in first  # the resumed sampler does not replay the start
    with pytest.raises(FieldError, match="other instances"):
        tuning.tune({**cfg, "tune": {**cfg["tune"], "instances": ["alexnet/mec/5g_avg"]}}, tmp_path)


def test_configs_the_solver_refuses_are_pruned(tmp_path):
    cfg = {"solver": GENETIC, "tune": {"n_trials": 4, "instances": SMALL,
                                       "params": {"population": [2, 3], "elite": [1, 8]}}}
    study = tuning.tune(cfg, tmp_path)
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.PRUNED in states
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all("solver.elite" in t.user_attrs["invalid"] for t in pruned)


@pytest.mark.parametrize(("solver", "short"), [
    ("iorlo", {"episodes": 2, "steps": 10, "memory": 10, "batch_size": 4}),
    ("iorlo_ctx", {"updates": 2, "contexts": 2, "samples": 2, "search_rounds": 1}),
])
def test_learning_solvers_tune(tmp_path, solver, short):
    base = {"name": solver, "timeout_s": None} | make_solver(solver).config.__dict__ | short
    exclude = [k for k in short if k in {d.name for d in tuning.search_space(solver, {}, [])}]
    cfg = {"solver": base, "tune": {"n_trials": 2, "instances": SMALL, "startup_trials": 1, "exclude": exclude}}
    study = tuning.tune(cfg, tmp_path)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert not list(tmp_path.rglob("*.pt"))  # no checkpoint files while tuning
    tuned = yaml.safe_load((tmp_path / "solver" / f"{solver}_tuned.yaml").read_text())
    assert tuned["progress"] is base["progress"]  # the written config keeps the user's run settings


def test_instance_files_and_bad_instance_specs(tmp_path):
    from problems.instance import save_instance
    from problems.paper import paper_profile
    from problems.presets import mec_tiers, network_preset
    from problems.problem import Problem
    from problems.scenario import MecScenario

    net = network_preset("5g_avg")
    path = tmp_path / "inst.json"
    save_instance(Problem(paper_profile("mobilenet_v1"), MecScenario(tiers=mec_tiers(), te=net.te, ec=net.ec)), path)
    assert tuning.load_problems([str(path)])[0][1].n_blocks == 6
    with pytest.raises(FieldError, match=r"tune\.instances\[0\]"):
        tuning.load_problems(["nomodel/mec/5g_avg"])


@pytest.mark.slow
def test_cli_end_to_end(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "benchmark.tune", "solver=genetic", "solver.population=16", "solver.generations=3",
           "tune.n_trials=1", f"tune.instances=[{SMALL[0]}]", f"hydra.run.dir={out}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "best mean gap" in proc.stdout and (out / "best_params.yaml").exists()
    bad = subprocess.run([*cmd[:3], "tune.n_trials=-1", f"hydra.run.dir={out}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "tune.n_trials" in bad.stderr
