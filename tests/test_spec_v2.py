"""Spec v2: per-tier latencies (§11), DAG scoring (§12), the /2 file (§14), golden values (§15)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from dag_factory import random_dags
from dag_reference import dag_reference_score
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_score
from test_golden import GOLDEN, _rel

from problems import FieldError, Problem
from problems.build import build_problem
from problems.instance import dumps_instance, problem_from_dict, problem_to_dict
from problems.profile import Block, Profile
from solvers.dp import optimum


def paper(model: str, kind: str = "mec") -> Problem:
    return build_problem({"name": model}, {"kind": kind}, {"name": "5g_avg"})


def with_blocks(p: Problem, fn) -> Problem:
    blocks = tuple(fn(i, b) for i, b in enumerate(p.profile.blocks))
    return Problem(dataclasses.replace(p.profile, blocks=blocks), p.scenario, name=p.name)


def tier_latencies(p: Problem) -> Problem:
    lat, _ = p.profile.reference_costs()
    d = [t.d for t in p.scenario.tiers]
    return with_blocks(p, lambda i, b: dataclasses.replace(b, tier_latency_ms=tuple(x * lat[i] for x in d)))


def explicit_chain(p: Problem) -> Problem:
    return with_blocks(p, lambda i, b: dataclasses.replace(b, inputs=(i - 1,) if i else ()))


@pytest.mark.parametrize("transform", [tier_latencies, explicit_chain])
@pytest.mark.parametrize(("model", "kind", "assignment", "T", "E", "D", "cost"), GOLDEN)
def test_v2_forms_reproduce_the_v1_golden_values(transform, model, kind, assignment, T, E, D, cost):
    p = transform(paper(model, kind))
    reloaded = problem_from_dict(json.loads(dumps_instance(p)))
    for q in (p, reloaded):
        got = q.score([int(c) for c in assignment])
        for key, want in (("latency_ms", T), ("energy_j", E), ("deploy", D), ("cost", cost)):
            assert got[key] == pytest.approx(want, rel=_rel(want), abs=1e-9), key


@pytest.mark.parametrize("transform", [tier_latencies, explicit_chain])
def test_v2_forms_keep_the_golden_optimum(transform):
    p = transform(paper("alexnet"))
    assert not p.is_dag  # a chain written with inputs = [v-1] keeps the chain path
    assignment, value = optimum(p.cost_tables)
    assert "".join(map(str, assignment)) == "1122222222"
    assert value == pytest.approx(765.492, abs=5e-4)
    assert p.score([1] * 10)["cost"] == pytest.approx(833.775, rel=_rel(833.775))


def test_tier_latencies_with_early_exits_reproduce_v1():
    base = build_problem({"name": "alexnet"}, {"kind": "mec", "early_exit": {"enabled": True}}, {"name": "5g_avg"})
    p = tier_latencies(base)
    X = np.random.default_rng(0).integers(0, 3, (200, base.n_blocks))
    assert np.allclose(p.evaluate(X).cost, base.evaluate(X).cost, rtol=1e-12)
    assert optimum(p.cost_tables)[1] == pytest.approx(optimum(base.cost_tables)[1], rel=1e-12)


def test_tier_latencies_are_not_scaled_by_d():
    base = paper("alexnet")
    p = with_blocks(base, lambda i, b: dataclasses.replace(b, tier_latency_ms=(100.0, 10.0, 1.0)))
    X = np.random.default_rng(1).integers(0, 3, (50, base.n_blocks))
    got = p.evaluate(X)
    for j in range(5):
        assert got.row(j) == pytest.approx(dag_reference_score(p, X[j]), rel=1e-12)
    assert (p.score([2] * 10)["latency_ms"] - base.score([2] * 10)["latency_ms"]
            == pytest.approx(10 * 1.0 - base.chain.compute[:, 2].sum(), rel=1e-9))


def test_writer_keeps_v1_when_nothing_of_v2_is_used():
    doc = problem_to_dict(paper("alexnet"))
    assert doc["format"] == "partition-instance/1"
    assert "tier_latency_ms" not in doc["blocks"][0] and "inputs" not in doc["blocks"][0]
    assert problem_to_dict(tier_latencies(paper("alexnet")))["format"] == "partition-instance/2"
    assert problem_to_dict(explicit_chain(paper("alexnet")))["blocks"][3]["inputs"] == [2]


def _doc(p: Problem) -> dict:
    return json.loads(dumps_instance(p))


def test_v1_files_refuse_the_v2_keys():
    doc = _doc(tier_latencies(paper("alexnet")))
    doc["format"] = "partition-instance/1"
    with pytest.raises(FieldError, match=r"^blocks\[0\]\.tier_latency_ms: unknown key"):
        problem_from_dict(doc)


def _bad(doc: dict, path: str, value) -> str:
    node = doc
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    node[int(last) if isinstance(node, list) else last] = value
    with pytest.raises(FieldError) as err:
        problem_from_dict(doc)
    return str(err.value)


@pytest.mark.parametrize(("path", "value", "message"), [
    ("blocks.2.tier_latency_ms", [1.0, 2.0], r"^blocks\[2\]\.tier_latency_ms: needs one latency per tier \(3\)"),
    ("blocks.2.tier_latency_ms", [1.0, -2.0, 1.0], r"^blocks\[2\]\.tier_latency_ms\[1\]: must be >= 0"),
    ("blocks.2.tier_latency_ms", [1.0, "x", 1.0], r"^blocks\[2\]\.tier_latency_ms\[1\]: must be a number"),
    ("blocks.2.tier_latency_ms", 5, r"^blocks\[2\]\.tier_latency_ms: must be a JSON array"),
])
def test_tier_latency_errors_name_the_field(path, value, message):
    import re

    assert re.match(message, _bad(_doc(tier_latencies(paper("alexnet"))), path, value))


def test_tier_latencies_are_refused_with_a_collaborator_pool():
    p = build_problem({"name": "mobilenet_v1"}, {"kind": "d2d", "collaborators": [{"name": "co-h"}, {"name": "co-l"}]},
                      {"name": "5g_avg"})
    with pytest.raises(FieldError, match=r"^blocks\[0\]\.tier_latency_ms: not allowed with a collaborator pool"):
        tier_latencies(p)


# -- DAGs ------------------------------------------------------------------------------------
def diamond(kind: str = "mec") -> Problem:
    """0 -> {1, 2} -> 3 (a concat), with a raw-input side branch 4 joining at 5."""
    sizes = [(100.0, 40.0), (40.0, 30.0), (40.0, 20.0), (50.0, 10.0), (100.0, 5.0), (15.0, 2.0)]
    inputs = [(), (0,), (0,), (1, 2), (), (3, 4)]
    blocks = tuple(Block(f"b{i}", a, b, latency_ms=3.0 + i, energy_j=0.1 * (i + 1), inputs=inputs[i])
                   for i, (a, b) in enumerate(sizes))
    base = paper("alexnet", kind)
    return Problem(Profile("diamond", blocks), base.scenario, name="diamond")


@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_dag_scores_like_the_reference(kind):
    p = diamond(kind)
    assert p.is_dag
    X = np.indices((p.n_tiers,) * p.n_blocks).reshape(p.n_blocks, -1).T
    got = p.evaluate(X)
    for j in range(len(X)):
        assert got.row(j) == pytest.approx(dag_reference_score(p, X[j]), rel=1e-12), X[j]


def test_a_fan_out_is_paid_once_per_destination_tier():
    p = diamond()
    one = p.score([0, 1, 1, 1, 1, 1])
    # block 0's output goes to tier 1 once, though blocks 1 and 2 both read it there
    split = p.score([0, 1, 2, 1, 1, 1])
    assert split["latency_ms"] > one["latency_ms"]
    assert split == pytest.approx(dag_reference_score(p, [0, 1, 2, 1, 1, 1]), rel=1e-12)


def test_dag_round_trips_through_the_v2_file():
    p = diamond()
    doc = _doc(p)
    assert doc["format"] == "partition-instance/2"
    q = problem_from_dict(doc)
    X = np.random.default_rng(2).integers(0, 3, (100, p.n_blocks))
    assert np.array_equal(q.evaluate(X).cost, p.evaluate(X).cost)


@pytest.mark.parametrize(("path", "value", "message"), [
    ("blocks.3.inputs", [1, 4], r"^blocks\[3\]\.inputs\[1\]: must be the index of an earlier block \(0\.\.2\)"),
    ("blocks.3.inputs", [1, 1], r"^blocks\[3\]\.inputs\[1\]: repeats an input"),
    ("blocks.3.inputs", [1, True], r"^blocks\[3\]\.inputs\[1\]: must be a block index"),
    ("blocks.0.inputs", [0], r"^blocks\[0\]\.inputs\[0\]: block 0 can only read the raw input"),
    ("blocks.3.inputs", [1], r"^blocks\[3\]\.in_kb: must equal the summed out_kb of its inputs"),
    ("blocks.4.in_kb", 99.0, r"^blocks\[4\]\.in_kb: raw-input blocks read the same raw input"),
    ("blocks.5.inputs", [3], r"^blocks\[4\]: no later block reads its output"),
    ("scenario.early_exit.enabled", True, r"^scenario\.early_exit\.enabled: early exits are not defined on DAG"),
])
def test_dag_errors_name_the_field(path, value, message):
    import re

    doc = _doc(diamond())
    if path == "blocks.5.inputs":
        doc["blocks"][5]["in_kb"] = 10.0
    assert re.match(message, _bad(doc, path, value))


def test_dp_refuses_dags_and_names_the_exact_solvers():
    from solvers.base import Unsupported

    with pytest.raises(Unsupported, match=r"ilp.*mincut"):
        optimum(diamond().cost_tables)


def test_exhaustive_on_a_dag_is_the_brute_force_optimum():
    from solver_helpers import brute_optimum

    from solvers.registry import make_solver

    p = diamond()
    sol = make_solver("exhaustive").solve(p, np.random.default_rng(0))
    assert p.score(sol.assignment)["cost"] == pytest.approx(brute_optimum(p), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(random_dags(), st.integers(0, 2**32 - 1))
def test_random_dags_score_like_the_reference(p, seed):
    X = np.random.default_rng(seed).integers(0, p.n_tiers, (20, p.n_blocks))
    got = p.evaluate(X)
    for j in range(len(X)):
        assert got.row(j) == pytest.approx(dag_reference_score(p, X[j]), rel=1e-9, abs=1e-9)
    if not p.is_dag and all(b.tier_latency_ms is None for b in p.profile.blocks):
        assert got.row(0) == pytest.approx(reference_score(p, X[0]), rel=1e-9, abs=1e-9)  # chain-shaped
