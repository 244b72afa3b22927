"""Exit probabilities for early-exit branches: a seeded confidence model.

BranchyNet-style exits stop a sample when the normalized entropy of the exit branch's
softmax (entropy / log(classes), in [0, 1]) falls under `threshold`. Deeper branches
see better features, so more samples are confident there. The model:

- The branch after block i sits at relative depth t_i = (i + 1) / n.
- A sample's normalized entropy there is sigmoid(z) with z ~ Normal(mu_i, 1) and
  mu_i = a - b * t_i + eps_i: a ~ U(1.5, 2.5) (hard early), b ~ U(4, 6) (gain with
  depth), eps_i ~ Normal(0, 0.25) (branches differ), all drawn from `seed`.
- h_i = P(sigmoid(z) < threshold) = Phi(logit(threshold) - mu_i): the fraction of samples
  confident at branch i, which rises with depth (about 0.07 at t = 0.1, 0.7 at t = 0.5
  and 0.99 at t = 0.9 for a = 2, b = 5, threshold = 0.5). threshold 0 gives 0 and
  threshold >= 1 gives 1.

The cost model treats the exits as independent (spec section 6), so h_i is this
marginal fraction. The last block has no branch (None).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from problems.profile import Profile

#: ranges of the seeded parameters (module docstring)
INTERCEPT = (1.5, 2.5)
SLOPE = (4.0, 6.0)
JITTER = 0.25


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[float])(x / math.sqrt(2.0)))


def exit_probs(n: int, threshold: float, seed: int) -> np.ndarray:
    """h_i of the branches after blocks 0..n-2 of an n-block chain (module docstring)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(*INTERCEPT)
    b = rng.uniform(*SLOPE)
    t = np.arange(1, n) / n
    mu = a - b * t + rng.normal(0.0, JITTER, size=n - 1)
    if threshold <= 0:
        return np.zeros(n - 1)
    if threshold >= 1:
        return np.ones(n - 1)
    logit = math.log(threshold / (1.0 - threshold))
    return np.clip(_phi(logit - mu), 0.0, 1.0)


def with_exit_probs(profile: Profile, threshold: float, seed: int) -> Profile:
    """`profile` with `exit_prob` on every block but the last; given values are kept."""
    h = exit_probs(profile.n_blocks, threshold, seed)
    blocks = tuple(
        b if b.exit_prob is not None or i == profile.n_blocks - 1 else dataclasses.replace(b, exit_prob=float(h[i]))
        for i, b in enumerate(profile.blocks)
    )
    return dataclasses.replace(profile, blocks=blocks)
