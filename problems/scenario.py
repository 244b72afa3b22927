"""The two collaboration scenarios (spec sections 3-5): tiers, links and radio power.

A scenario reduces to four k x k matrices over (from-tier, to-tier): the time and the
device radio energy of moving `kb` kilobytes are `kb * A + B` and `kb * C + D`. Every
transfer in the problem goes through `Scenario.move`, so the hop rules live here once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from problems.errors import ProblemError
from problems.schema import bounded

#: ms per KB per (1/Mbit/s): kb * 1024 * 8 / (mbps * 1e6) * 1e3 (spec section 1)
MS_PER_KB_MBPS = 1024 * 8 / 1e6 * 1e3
#: the spec's cost weights (ms per J, ms per unit of deploy share) and deploy weights (sections 4, 5)
W_ENERGY = 300.0
W_DEPLOY = 500.0
DEPLOY_WEIGHTS = (0.0, 1.0, 1.0)
#: classes of an early-exit result when neither the model nor the config says
NUM_CLASSES = 10
#: the largest class count a float holds exactly (the exit result size is num_classes * 4 bytes)
MAX_CLASSES = 2**53


@dataclass(frozen=True)
class Tier:
    name: str
    d: float
    e: float = 1.0


@dataclass(frozen=True)
class Link:
    """A MEC link with asymmetric bandwidth and a one-way delay."""

    up_mbps: float
    down_mbps: float
    delay_ms: float


@dataclass(frozen=True)
class D2DLink:
    mbps: float
    delay_ms: float


@dataclass(frozen=True)
class Collaborator:
    name: str
    d: float
    mbps: float
    delay_ms: float


@dataclass(frozen=True)
class EarlyExit:
    enabled: bool = False
    num_classes: int = NUM_CLASSES


@dataclass(frozen=True)
class MecPower:
    """Device radio power P = alpha * Mbit/s + beta on MEC hops (spec section 4; also the config schema)."""

    alpha_up_mw_per_mbps: float = bounded(65.0, ge=0)
    alpha_down_mw_per_mbps: float = bounded(6.5, ge=0)
    beta_mw: float = bounded(11475.97, ge=0)


@dataclass(frozen=True)
class D2DPower:
    """Device radio power on the D2D hop, both directions (spec section 5; also the config schema)."""

    alpha_mw_per_mbps: float = bounded(283.17, ge=0)
    beta_mw: float = bounded(132.86, ge=0)


@dataclass(frozen=True)
class Hop:
    mbps: float
    delay_ms: float
    power_mw: float


def _hop_matrices(paths: dict[tuple[int, int], list[Hop]], k: int, device_pays: set[tuple[int, int]]):
    a, b, c, d = (np.zeros((k, k)) for _ in range(4))
    for (p, s), hops in paths.items():
        for h in hops:
            per_kb = MS_PER_KB_MBPS / h.mbps
            a[p, s] += per_kb
            b[p, s] += h.delay_ms
            if (p, s) in device_pays:
                c[p, s] += per_kb * h.power_mw * 1e-6
                d[p, s] += h.delay_ms * h.power_mw * 1e-6
    return a, b, c, d


@dataclass(frozen=True)
class MecScenario:
    """Device (0), edge (1), cloud (2) with device-edge and edge-cloud links."""

    tiers: tuple[Tier, Tier, Tier]
    te: Link
    ec: Link
    power: MecPower = field(default_factory=MecPower)
    deploy_weights: tuple[float, float, float] = DEPLOY_WEIGHTS
    w_energy: float = W_ENERGY
    w_deploy: float = W_DEPLOY
    early_exit: EarlyExit = field(default_factory=EarlyExit)

    kind = "mec"

    def with_network(self, net) -> MecScenario:
        """The same tiers and weights over the links of `net` (a `problems.presets.Network`)."""
        return dataclasses.replace(self, te=net.te, ec=net.ec)

    def with_tiers(self, tiers) -> MecScenario:
        return dataclasses.replace(self, tiers=tuple(tiers))

    @property
    def n_tiers(self) -> int:
        return 3

    @property
    def weights(self) -> np.ndarray:
        """Weights of (T, E, D) in the cost."""
        return np.array([1.0, self.w_energy, self.w_deploy])

    def deploy_vector(self) -> np.ndarray:
        return np.asarray(self.deploy_weights, dtype=float)

    def hop_matrices(self):
        pw = self.power

        def up(link: Link) -> Hop:
            return Hop(link.up_mbps, link.delay_ms, pw.alpha_up_mw_per_mbps * link.up_mbps + pw.beta_mw)

        def down(link: Link) -> Hop:
            return Hop(link.down_mbps, link.delay_ms, pw.alpha_down_mw_per_mbps * link.down_mbps + pw.beta_mw)

        paths = {
            (0, 1): [up(self.te)],
            (0, 2): [up(self.te), up(self.ec)],
            (1, 2): [up(self.ec)],
            (1, 0): [down(self.te)],
            (2, 0): [down(self.ec), down(self.te)],
            (2, 1): [down(self.ec)],
        }
        device_pays = {(0, 1), (0, 2), (1, 0), (2, 0)}
        return _hop_matrices(paths, 3, device_pays)


def select_collaborator(pool: tuple[Collaborator, ...]) -> int:
    """Index of H_x = argmax_k (1/d_k)/max_j(1/d_j) + mbps_k/max_j mbps_j + 1/(2 delay_k); ties: first."""
    inv_d = np.array([1.0 / c.d for c in pool])
    mbps = np.array([c.mbps for c in pool])
    delay = np.array([c.delay_ms for c in pool])
    with np.errstate(divide="ignore"):
        score = inv_d / inv_d.max() + mbps / mbps.max() + 1.0 / (2.0 * delay)
    return int(np.argmax(score))


@dataclass(frozen=True)
class D2DScenario:
    """Device (0) and one collaborator (1), either given or chosen from a pool."""

    device: Tier
    collaborator: Tier | None = None
    link: D2DLink | None = None
    collaborators: tuple[Collaborator, ...] | None = None
    power: D2DPower = field(default_factory=D2DPower)
    w_energy: float = W_ENERGY
    early_exit: EarlyExit = field(default_factory=EarlyExit)

    kind = "d2d"

    def resolved(self) -> D2DScenario:
        """The scenario with its pool replaced by the collaborator it selects (spec section 5)."""
        collaborator, link = self.chosen()
        return dataclasses.replace(self, collaborator=collaborator, link=link, collaborators=None)

    def with_network(self, net) -> D2DScenario:
        """The same device and collaborator over the d2d link of `net`; a pool's members carry
        links of their own, so resolve the pool first."""
        if self.collaborators:
            raise ProblemError("a collaborator pool has per-member links: resolve the pool before changing the network")
        return dataclasses.replace(self, link=net.d2d)

    def with_tiers(self, tiers) -> D2DScenario:
        if self.collaborators:
            raise ProblemError("a collaborator pool chooses its tier: resolve the pool before changing the tiers")
        device, collaborator = tiers
        return dataclasses.replace(self, device=device, collaborator=collaborator)

    @property
    def n_tiers(self) -> int:
        return 2

    @property
    def weights(self) -> np.ndarray:
        return np.array([1.0, self.w_energy, 0.0])

    def deploy_vector(self) -> np.ndarray:
        return np.zeros(2)

    def chosen(self) -> tuple[Tier, D2DLink]:
        """The collaborator tier and its link (pool selection of spec section 5)."""
        if self.collaborators:
            c = self.collaborators[select_collaborator(self.collaborators)]
            return Tier(c.name, c.d), D2DLink(c.mbps, c.delay_ms)
        assert self.collaborator is not None and self.link is not None
        return self.collaborator, self.link

    @property
    def tiers(self) -> tuple[Tier, Tier]:
        return (self.device, self.chosen()[0])

    def hop_matrices(self):
        _, link = self.chosen()
        power = self.power.alpha_mw_per_mbps * link.mbps + self.power.beta_mw
        hop = Hop(link.mbps, link.delay_ms, power)
        return _hop_matrices({(0, 1): [hop], (1, 0): [hop]}, 2, {(0, 1), (1, 0)})


Scenario = MecScenario | D2DScenario
