"""Fixed policies: every block on one tier (the paper's device-only, edge-only,
cloud-only, and in D2D Co-H / Co-L = every block on that collaborator). On a fleet every
user's blocks go to the tier: device_only is always feasible, edge_only and cloud_only
often overload their server."""

from __future__ import annotations

import numpy as np

from problems import Problem
from solvers.base import Solution, Solver, Unsupported
from solvers.registry import register


class _Fixed(Solver):
    tier: int = 0
    kinds: tuple[str, ...] = ("mec", "d2d", "fleet")
    fleets = True  # on a fleet: every block of every user on the tier

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        if problem.kind not in self.kinds:
            raise Unsupported(f"{self.name} places blocks on a tier that a {problem.kind} scenario does not have")
        return Solution(problem.fixed(self.tier), {"tier": problem.tier_names[self.tier]})


@register
class DeviceOnly(_Fixed):
    name = "device_only"


@register
class EdgeOnly(_Fixed):
    name = "edge_only"
    tier = 1
    kinds = ("mec", "fleet")


@register
class CloudOnly(_Fixed):
    name = "cloud_only"
    tier = 2
    kinds = ("mec", "fleet")


@register
class CollaboratorOnly(_Fixed):
    name = "collaborator_only"
    tier = 1
    kinds = ("d2d",)
    fleets = False
