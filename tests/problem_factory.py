"""Random small problems for property tests: both scenarios, pools, early exits."""

from __future__ import annotations

import copy

import numpy as np

from problems import Problem
from problems.layers import LAYER_TYPES
from problems.presets import mec_tiers
from problems.profile import Block, Layer, Profile
from problems.scenario import (
    Collaborator,
    D2DLink,
    D2DScenario,
    EarlyExit,
    Link,
    MecScenario,
    Tier,
)


def random_profile(rng: np.random.Generator, n: int, exits: bool = False, measured: bool | None = None) -> Profile:
    sizes = rng.uniform(0.2, 1500.0, n + 1)
    blocks = []
    for i in range(n):
        layers = tuple(
            Layer(str(rng.choice(LAYER_TYPES)), float(rng.uniform(0.1, 2000)), float(rng.uniform(0.1, 2000)))
            for _ in range(int(rng.integers(1, 4)))
        )
        use_measured = rng.random() < 0.5 if measured is None else measured
        blocks.append(
            Block(
                name=f"b{i + 1}",
                in_kb=float(sizes[i]),
                out_kb=float(sizes[i + 1]),
                layers=layers,
                latency_ms=float(rng.uniform(0.5, 300)) if use_measured else None,
                energy_j=float(rng.uniform(0.0, 5)) if use_measured and rng.random() < 0.5 else None,
                exit_prob=float(rng.uniform(0, 1)) if exits and rng.random() < 0.8 else None,
            )
        )
    return Profile(name="random", blocks=tuple(blocks))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def _wide_problem(seed: int, n: int, kind: str, exits: bool) -> Problem:
    """Measured blocks and links drawn log-uniformly over several decades (`wide=True`)."""
    rng = np.random.default_rng(seed)
    sizes = _log_uniform(rng, 0.05, 3000.0, n + 1)
    lat = _log_uniform(rng, 0.01, 300.0, n)
    eng = _log_uniform(rng, 1e-4, 3.0, n)
    probs = np.where(rng.random(n) < 0.7, rng.uniform(0, 1, n), 0.0) if exits else np.zeros(n)
    blocks = tuple(
        Block(f"b{i}", float(sizes[i]), float(sizes[i + 1]), latency_ms=float(lat[i]), energy_j=float(eng[i]),
              exit_prob=float(probs[i]) if exits else None)
        for i in range(n)
    )
    ee = EarlyExit(enabled=exits, num_classes=int(rng.integers(2, 1000)))

    def link() -> Link:
        return Link(float(_log_uniform(rng, 1, 1000)), float(_log_uniform(rng, 1, 1000)), float(rng.uniform(0, 80)))

    if kind == "mec":
        tiers = (Tier("device", float(rng.uniform(2, 20)), float(rng.uniform(0.2, 3))), Tier("edge", 1.0),
                 Tier("cloud", float(rng.uniform(0.1, 1.0))))
        sc = MecScenario(tiers=tiers, te=link(), ec=link(), w_energy=float(rng.uniform(0, 600)),
                         w_deploy=float(rng.uniform(0, 1000)), early_exit=ee)
    else:
        sc = D2DScenario(device=Tier("device", float(rng.uniform(2, 20))),
                         collaborator=Tier("co", float(rng.uniform(1, 20))),
                         link=D2DLink(float(_log_uniform(rng, 1, 500)), float(rng.uniform(0, 80))),
                         w_energy=float(rng.uniform(0, 600)), early_exit=ee)
    return Problem(Profile(f"random-{seed}", blocks), sc, name=f"random-{kind}-{n}-{seed}")


def random_problem(seed: int, n: int, kind: str | None = None, exits: bool | None = None, *,
                   wide: bool = False) -> Problem:
    """A seeded random problem of `n` blocks. Default: layered blocks, either scenario,
    collaborator pools and early exits drawn when `kind` / `exits` are None. `wide=True`
    (the solver tests): measured blocks and links spread over several decades, MEC unless
    `kind` says otherwise, no exits unless asked."""
    if wide:
        return _wide_problem(seed, n, kind or "mec", bool(exits))
    rng = np.random.default_rng(seed)
    kind = kind or ("mec" if rng.random() < 0.6 else "d2d")
    exits = bool(rng.random() < 0.5) if exits is None else exits
    profile = random_profile(rng, n, exits)
    ee = EarlyExit(exits, int(rng.integers(2, 1000)))
    if kind == "mec":
        dev = mec_tiers(float(rng.uniform(0.5, 2)))[0]
        tiers = (Tier("device", float(rng.uniform(2, 20)), dev.e), Tier("edge", float(rng.uniform(0.5, 2))),
                 Tier("cloud", float(rng.uniform(0.1, 1))))

        def link() -> Link:
            return Link(float(rng.uniform(5, 600)), float(rng.uniform(5, 600)), float(rng.uniform(0, 300)))

        sc = MecScenario(tiers=tiers, te=link(), ec=link(), deploy_weights=tuple(rng.uniform(0, 3, 3)),
                         w_energy=float(rng.uniform(0, 600)), w_deploy=float(rng.uniform(0, 1000)), early_exit=ee)
    else:
        device = Tier("device", float(rng.uniform(2, 20)), float(rng.uniform(0.5, 2)))
        if rng.random() < 0.5:
            pool = tuple(
                Collaborator(f"c{j}", float(rng.uniform(1, 20)), float(rng.uniform(5, 200)), float(rng.uniform(0, 200)))
                for j in range(int(rng.integers(1, 5)))
            )
            sc = D2DScenario(device=device, collaborators=pool, w_energy=float(rng.uniform(0, 600)), early_exit=ee)
        else:
            sc = D2DScenario(device=device, collaborator=Tier("co", float(rng.uniform(1, 20))),
                             link=D2DLink(float(rng.uniform(5, 200)), float(rng.uniform(0, 200))),
                             w_energy=float(rng.uniform(0, 600)), early_exit=ee)
    return Problem(profile, sc, name=f"random-{kind}-{seed}")


def mutated(doc: dict, path: tuple, value) -> dict:
    """A deep copy of an instance document with `path` set to `value` (KeyError: deleted)."""
    doc = copy.deepcopy(doc)
    *head, last = path
    target = doc
    for key in head:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc
