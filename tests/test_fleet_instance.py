"""Fleet instance files (spec section 14): round trip, configs, and field-named errors."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from fleet_factory import random_fleet

from problems.build import build_problem
from problems.errors import FieldError
from problems.fleet import FleetProblem
from problems.instance import dumps_instance, load_instance, problem_from_dict, problem_to_dict


def _doc():
    return problem_to_dict(random_fleet(7, "ps"))


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_scores_identically(seed, tmp_path):
    fleet = random_fleet(seed, ("none", "ps")[seed % 2])
    path = tmp_path / "fleet.json"
    path.write_text(dumps_instance(fleet))
    again = load_instance(path)
    assert isinstance(again, FleetProblem)
    X = np.random.default_rng(seed).integers(0, 3, (50, fleet.n_users, fleet.n_max))
    assert np.array_equal(fleet.evaluate(X).cost, again.evaluate(X).cost, equal_nan=True)
    assert json.loads(dumps_instance(again)) == json.loads(dumps_instance(fleet))
    assert json.loads(dumps_instance(fleet))["format"] == "partition-instance/2"


def _set(doc, path, value):
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


BAD = [
    (("users", 0, "rate_rps"), 0, "users[0].rate_rps"),
    (("users", 0, "rate_rps"), -1.0, "users[0].rate_rps"),
    (("users", 0, "rate_rps"), KeyError, "users[0].rate_rps"),
    (("users", 0, "blocks", 0, "in_kb"), "x", "users[0].blocks[0].in_kb"),
    (("users", 0, "blocks", 0, "inputs"), [], "users[0].blocks[0].inputs"),
    (("users", 0, "blocks", 0, "tier_latency_ms"), [1.0, 2.0], "users[0].blocks[0].tier_latency_ms"),
    (("users", 0, "te", "up_mbps"), 0.0, "users[0].te.up_mbps"),
    (("users", 0, "device", "d"), float("inf"), "users[0].device.d"),
    (("users", 0, "color"), 1, "users[0].color"),
    (("users",), [], "users"),
    (("scenario", "edge", "workers"), 1.5, "scenario.edge.workers"),
    (("scenario", "edge", "workers"), 0, "scenario.edge.workers"),
    (("scenario", "cloud", "workers"), True, "scenario.cloud.workers"),
    (("scenario", "edge", "workers"), KeyError, "scenario.edge.workers"),
    (("scenario", "max_utilization"), 1.5, "scenario.max_utilization"),
    (("scenario", "max_utilization"), 0.0, "scenario.max_utilization"),
    (("scenario", "queueing"), "fifo", "scenario.queueing"),
    (("scenario", "ec", "down_mbps"), 0, "scenario.ec.down_mbps"),
    (("scenario", "kind"), "mec", "scenario.kind"),
    (("scenario", "tiers"), [], "scenario.tiers"),
    (("format",), "partition-instance/1", "users"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD)
def test_errors_name_the_field(path, value, field):
    with pytest.raises(FieldError) as err:
        problem_from_dict(_set(_doc(), path, value))
    assert err.value.field == field, str(err.value)


def test_config_builds_the_fleet_with_the_offered_load():
    fleet = build_problem({"name": "alexnet"}, {"kind": "fleet", "users": 8, "load": 0.5,
                                               "models": ["alexnet", "vgg16", "resnet32", "mobilenet_v1"]},
                          {"name": "5g_avg"})
    assert fleet.n_users == 8 and len(set(fleet.rates)) == 1
    assert fleet.score(fleet.fixed(2))["rho_cloud"] == pytest.approx(0.5, rel=1e-12)
    assert [u.profile.name for u in fleet.users][:5] == ["alexnet", "vgg16", "resnet32", "mobilenet_v1", "alexnet"]


def test_config_sampled_user_networks_are_seeded_and_differ():
    cfg = {"kind": "fleet", "users": 3, "user_networks": "sampled", "rates": [1.0, 2.0, 3.0]}
    a = build_problem({"name": "alexnet"}, cfg, {"name": "5g_avg", "seed": 4})
    b = build_problem({"name": "alexnet"}, cfg, {"name": "5g_avg", "seed": 4})
    assert [u.te for u in a.users] == [u.te for u in b.users]
    assert len({u.te for u in a.users}) == 3
    assert list(a.rates) == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(("key", "value", "field"), [
    ("users", 0, "scenario.users"), ("rates", [1.0], "scenario.rates"), ("rates", [1.0, 0.0], "scenario.rates[1]"),
    ("queueing", "fifo", "scenario.queueing"), ("max_utilization", 2.0, "scenario.max_utilization"),
    ("edge", {"workers": 0}, "scenario.edge.workers"), ("user_networks", "x", "scenario.user_networks"),
    ("models", ["nope"], "scenario.models[0].name"), ("load", -1.0, "scenario.load"),
])
def test_config_errors_name_the_field(key, value, field):
    cfg = {"kind": "fleet", "users": 2, key: value}
    with pytest.raises(FieldError) as err:
        build_problem({"name": "alexnet"}, cfg, {"name": "5g_avg"})
    assert err.value.field == field, str(err.value)
