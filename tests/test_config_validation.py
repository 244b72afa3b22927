"""Config-built problems pass the instance loader's checks, and refusals name the key the user set."""

from __future__ import annotations

import pytest

from problems import FieldError
from problems.build import build_problem, make_scenario
from problems.instance import problem_from_dict, problem_to_dict
from problems.schema import Bound, bounded, from_mapping


@pytest.mark.parametrize(("scenario", "network", "field", "value"), [
    ({}, {"scale": {"bandwidth": 1e-300}}, "network.scale.bandwidth", 1e-300),
    ({}, {"scale": {"delay": 1e305}}, "network.scale.delay", 1e305),
    ({"device": {"d": 1e308}}, {}, "scenario.device.d", 1e308),
    ({"cloud": {"d": 1e308}}, {}, "scenario.cloud.d", 1e308),
    ({"kind": "d2d", "collaborator_d": 1e308}, {}, "scenario.collaborator_d", 1e308),
    ({"weights": {"energy": 1e308}}, {}, "scenario.weights.energy", 1e308),
    ({"kind": "d2d", "collaborators": [{"name": "co-h", "mbps": 1e-300}]}, {}, "scenario.collaborators[0].mbps",
     1e-300),
])
def test_overflow_refusals_name_the_config_key_and_its_value(scenario, network, field, value):
    with pytest.raises(FieldError) as err:
        build_problem({"name": "alexnet"}, scenario, network)
    assert (err.value.field, err.value.value) == (field, value)


def test_a_config_accepts_only_what_its_instance_file_loads():
    with pytest.raises(FieldError) as err:
        build_problem({"name": "alexnet"}, {"early_exit": {"enabled": True, "num_classes": 1e30}}, {})
    assert err.value.field == "scenario.early_exit.num_classes"
    p = build_problem({"name": "alexnet"}, {"early_exit": {"enabled": True, "num_classes": 2**53}}, {})
    assert problem_from_dict(problem_to_dict(p)).score([1] * 10) == p.score([1] * 10)


def test_bounds_have_one_wording():
    cases = ((Bound(gt=0), 0, "a: must be > 0 (got 0)"), (Bound(ge=0), -1, "a: must be >= 0 (got -1)"),
             (Bound(le=1), 2, "a: must be <= 1 (got 2)"))
    for bound, value, text in cases:
        with pytest.raises(FieldError) as err:
            bound.check("a", value)
        assert str(err.value) == text
    Bound(gt=0, le=1).check("a", None)  # null passes


def test_bounded_fields_are_enforced_by_from_mapping():
    from dataclasses import dataclass

    @dataclass
    class C:
        x: float = bounded(1.0, gt=0)
        ys: tuple[float, ...] = bounded((1.0,), ge=0)

    assert from_mapping(C, {"x": 2}, "c").x == 2
    with pytest.raises(FieldError, match=r"^c\.x: must be > 0"):
        from_mapping(C, {"x": 0}, "c")
    with pytest.raises(FieldError, match=r"^c\.ys\[1\]: must be >= 0"):
        from_mapping(C, {"ys": [1, -1]}, "c")


def test_make_scenario_takes_the_spec_defaults_and_overrides():
    sc = make_scenario("mec", "5g_worst", weights={"energy": 0})
    assert (sc.w_energy, sc.w_deploy, sc.te.delay_ms) == (0.0, 500.0, 104.25 / 2)
    d2d = make_scenario("d2d", collaborator="co-l")
    assert d2d.tiers[1].name == "co-l" and d2d.link.mbps == 87.6
    with pytest.raises(FieldError, match=r"^scenario\.weights\.energy: must be >= 0"):
        make_scenario("mec", weights={"energy": -1})


def test_with_network_changes_only_the_links():
    from problems.presets import network_preset

    p = build_problem({"name": "alexnet"}, {}, {"name": "5g_avg"})
    q = p.with_network(network_preset("5g_worst"))
    r = build_problem({"name": "alexnet"}, {}, {"name": "5g_worst"})
    assert q.score([1] * 10) == r.score([1] * 10)
    pool = build_problem({"name": "alexnet"}, {"kind": "d2d", "collaborators": [{"name": "co-h"}, {"name": "co-l"}]},
                         {})
    with pytest.raises(Exception, match="resolve the pool"):
        pool.with_network(network_preset("5g_worst"))
    assert pool.with_scenario(pool.scenario.resolved()).score([1] * 10) == pool.score([1] * 10)
