"""conf/ extends the dataclass schemas (benchmark.schemas): every solver, scenario, model and
network file composes to its dataclass's defaults plus only what the file sets (as
`python -m problems show` reads it too), a file repeats no default, and a misspelt key fails
when the config is composed."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import yaml
from config_compose import CONF, composer
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from benchmark.job import solver_params
from benchmark.runner import TimingConfig
from benchmark.schemas import RUNNER_KEYS, BaseConfig
from problems.__main__ import parse_overrides
from problems.build import SCENARIO_SCHEMAS, build_problem, scenario_config
from problems.models import ModelConfig
from problems.networks import NetworkConfig
from problems.schema import from_mapping
from solvers import builtin, make_solver, solver_class

GROUPS = {"model": ModelConfig, "network": NetworkConfig}


def plain(value):
    """A dataclass's defaults as the composed config shows them (tuples are lists)."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def file_keys(group: str, option: str) -> dict:
    data = yaml.safe_load((CONF / group / f"{option}.yaml").read_text()) or {}
    defaults = data.pop("defaults", None)
    return {"defaults": defaults, "values": data}


@pytest.fixture
def compose():
    with composer() as run:
        yield run


def test_every_solver_has_a_file_and_composes_to_its_config_defaults(compose):
    names = builtin()
    assert {p.stem for p in (CONF / "solver").glob("*.yaml")} == set(names)
    for name in names:
        solver = compose([f"solver={name}"])["solver"]
        defaults = plain(solver_class(name).Config())
        assert solver == {"name": name, "timeout_s": None, **defaults}, name
        assert solver_params({"solver": solver}) == (name, defaults)
        make_solver(name, defaults)


@pytest.mark.parametrize("kind", sorted(SCENARIO_SCHEMAS))
def test_scenario_files_compose_to_their_dataclass(compose, kind):
    scenario = compose([f"scenario={kind}"])["scenario"]
    assert scenario == plain(SCENARIO_SCHEMAS[kind]())
    assert scenario_config(scenario) == SCENARIO_SCHEMAS[kind]()


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_model_and_network_files_compose_to_their_dataclass_plus_the_file(compose, group):
    for path in sorted((CONF / group).glob("*.yaml")):
        composed = compose([f"{group}={path.stem}"])[group]
        assert composed == plain(GROUPS[group]()) | file_keys(group, path.stem)["values"], path.stem
        assert parse_overrides([f"{group}={path.stem}"])[0][group] == composed, path.stem  # `problems show`
        assert composed["name"] == path.stem
        from_mapping(GROUPS[group], composed, group)
        small = composed | {"depth": 20} if composed["name"] == "synthetic" else composed  # the file's 100 is slower
        problem = build_problem(small, {}, {}) if group == "model" else build_problem({}, {}, composed)
        assert path.stem in problem.name


def test_the_groups_build_the_default_problem(compose):
    cfg = compose()
    assert build_problem(cfg["model"], cfg["scenario"], cfg["network"]).name == "alexnet-mec-5g_avg"
    assert {k: cfg[k] for k in ("seed", "instance", "resume", "plugins")} == {
        "seed": 0, "instance": None, "resume": False, "plugins": []}
    assert cfg["timing"] == plain(TimingConfig())
    assert cfg["solver"]["name"] == "dp"


def test_no_file_repeats_a_default():
    from problems.fleet_build import FleetConfig

    schemas = {"model": ModelConfig, "network": NetworkConfig, "scenario/fleet": FleetConfig,
               **{f"scenario/{k}": v for k, v in SCENARIO_SCHEMAS.items()}}
    for path in sorted(CONF.glob("*/*.yaml")):
        group, option = path.parent.name, path.stem
        if group == "experiment":
            continue
        keys = file_keys(group, option)
        schema = f"{option}_schema" if group in ("solver", "scenario") else f"{group}_schema"
        assert keys["defaults"] == [schema, "_self_"], path
        cls = solver_class(option).Config if group == "solver" else schemas.get(group) or schemas[f"{group}/{option}"]
        defaults = plain(cls())
        for key, value in keys["values"].items():
            assert key in defaults, (path, key)
            if key == "name":  # an option names itself, even where that is the dataclass default
                assert value == option, path
                continue
            assert defaults[key] != value, f"{path}: {key} repeats the default {value!r}"


def test_top_level_defaults_live_in_the_base_schema():
    data = yaml.safe_load((CONF / "config.yaml").read_text())
    assert data["defaults"][0] == "base_config"
    assert set(data) == {"defaults", "hydra"}
    assert {f.name for f in dataclasses.fields(BaseConfig)} >= {"seed", "instance", "timing", "resume", "plugins",
                                                                 "isolation"}


def test_runner_keys_are_the_base_of_every_solver_config():
    assert RUNNER_KEYS == ("name", "timeout_s")
    for name in builtin():
        assert not set(RUNNER_KEYS) & {f.name for f in dataclasses.fields(solver_class(name).Config)}, name


BAD_OVERRIDES = [["solver=genetic", "solver.populaton=3"], ["scenario.colour=red"], ["model.deph=3"],
                 ["timing.budget=1"], ["solver=genetic", "solver.population=x"]]


@pytest.mark.parametrize("overrides", BAD_OVERRIDES)
def test_a_misspelt_or_mistyped_override_fails_when_composing(compose, overrides):
    with pytest.raises((HydraException, OmegaConfBaseException)):
        compose(overrides)


def test_a_misspelt_key_in_a_file_fails_when_composing(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "solver" / "typo.yaml").write_text("defaults:\n  - genetic_schema\n  - _self_\npopulaton: 64\n")
    with composer(conf) as run:
        assert run(["solver=genetic"])["solver"]["population"] == 128
        with pytest.raises((HydraException, OmegaConfBaseException), match="populaton"):
            run(["solver=typo"])


@pytest.mark.slow
def test_registering_the_schemas_imports_no_solver_module():
    import subprocess
    import sys

    code = ("import sys; from benchmark.schemas import register; register(); "
            "print(sorted(m for m in sys.modules if m.startswith('solvers.') and m != 'solvers.registry' "
            "and m != 'solvers.base'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
