"""Early-exit probabilities: the seeded confidence model of `problems.exits`."""

import json
import math

import numpy as np
import pytest

from problems.build import build_problem
from problems.exits import INTERCEPT, JITTER, SLOPE, exit_probs, with_exit_probs
from problems.instance import problem_from_dict, problem_to_dict
from problems.paper import paper_profile
from solvers.dp import optimum


def test_the_documented_model():
    """h_i = Phi(logit(threshold) - mu_i), mu_i = a - b (i + 1) / n + eps_i, drawn from the seed."""
    n, threshold, seed = 12, 0.3, 9
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(*INTERCEPT), rng.uniform(*SLOPE)
    mu = a - b * np.arange(1, n) / n + rng.normal(0, JITTER, n - 1)
    z = math.log(threshold / (1 - threshold)) - mu
    expected = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]
    assert exit_probs(n, threshold, seed) == pytest.approx(expected)


def test_every_block_but_the_last_gets_a_probability():
    p = with_exit_probs(paper_profile("alexnet"), threshold=0.5, seed=0)
    h = [b.exit_prob for b in p.blocks]
    assert h[-1] is None
    assert all(0.0 <= x <= 1.0 for x in h[:-1])


def test_seeded():
    assert np.array_equal(exit_probs(50, 0.5, 1), exit_probs(50, 0.5, 1))
    assert not np.array_equal(exit_probs(50, 0.5, 1), exit_probs(50, 0.5, 2))


@pytest.mark.parametrize("seed", range(10))
def test_confidence_rises_with_depth(seed):
    h = exit_probs(60, 0.5, seed)
    assert h[:20].mean() < h[20:40].mean() < h[40:].mean()
    assert np.corrcoef(np.arange(59), h)[0, 1] > 0.8


def test_threshold_controls_the_fraction():
    lo, mid, hi = (exit_probs(30, t, 4) for t in (0.2, 0.5, 0.8))
    assert np.all(lo < mid) and np.all(mid < hi)
    assert np.all(exit_probs(30, 0.0, 4) == 0) and np.all(exit_probs(30, 1.0, 4) == 1)
    assert exit_probs(1, 0.5, 0).shape == (0,)


def test_given_probabilities_are_kept():
    base = paper_profile("resnet32")
    blocks = (base.blocks[0].__class__(**{**vars(base.blocks[0]), "exit_prob": 0.123}), *base.blocks[1:])
    p = with_exit_probs(base.__class__(base.name, blocks), 0.5, 0)
    assert p.blocks[0].exit_prob == 0.123 and p.blocks[1].exit_prob is not None


@pytest.mark.parametrize("model", [
    {"name": "alexnet"}, {"name": "mobilenet_v1", "source": "torch"}, {"name": "resnet", "depth": 44},
    {"name": "synthetic", "depth": 40, "seed": 1},
])
@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_early_exit_works_for_every_model(model, kind):
    ee = {"enabled": True, "threshold": 0.4, "seed": 3}
    problem = build_problem(model, {"kind": kind, "early_exit": ee}, {})
    assert all(b.exit_prob is not None for b in problem.profile.blocks[:-1])
    plain = build_problem(model, {"kind": kind}, {})
    assert all(b.exit_prob is None for b in plain.profile.blocks)
    assignment, value = optimum(problem.cost_tables)
    assert problem.score(assignment)["cost"] == pytest.approx(value)
    again = problem_from_dict(json.loads(json.dumps(problem_to_dict(problem))))
    assert again.profile.blocks == problem.profile.blocks
    assert again.score(assignment)["cost"] == pytest.approx(value)
