"""The remote tier of two-tier baselines (Neurosurgeon, MAUI) in either scenario.

Tier indices follow the spec: MEC 0 device, 1 edge, 2 cloud; D2D 0 device, 1 the
collaborator. A two-tier method names its server by role, so that a config written
for MEC still runs in D2D, where the collaborator is the only remote tier.
"""

from __future__ import annotations

from problems import Problem

MEC_REMOTE = {"edge": 1, "cloud": 2}


def remote_tier(problem: Problem, server: str) -> int:
    """Index of `server` ('edge' or 'cloud') in MEC; the collaborator (1) in D2D."""
    if problem.kind == "d2d":
        return 1
    return MEC_REMOTE[server]
