"""The anytime trace a searching solver returns as `info["trace"]`.

A trace is a list of `[seconds, evaluations, best_cost]` points, one each time the
best-so-far cost improved, `seconds` counted from the start of `solve` and `best_cost`
the cost `problem.evaluate` gave. Recording costs one `perf_counter` call per batch
that improves the best and one vectorized argmin per improving row of a batch, so the
decision time the runner measures stays what it was (BENCHMARKS.md, "Anytime traces"). At most `LIMIT` points are
returned, thinned evenly by index with the first and last points kept.
"""

from __future__ import annotations

import math
import time

import numpy as np

LIMIT = 200
ARGMIN_STEPS = 16  # a batch with more improving rows falls back to a (slower) running minimum


def thin(points: list, limit: int = LIMIT) -> list:
    """At most `limit` of `points`, evenly spaced by index, first and last kept."""
    if len(points) <= limit:
        return list(points)
    keep = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [points[i] for i in keep]


class Trace:
    """Best-so-far recorder; create it when the search starts."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._points: list[list[float]] = []
        self.best = math.inf

    def record(self, evaluations: int, cost: float, at: float | None = None) -> None:
        """One scored assignment; `evaluations` counts it. `at` (a `perf_counter` reading) dates
        an assignment found earlier and scored now, e.g. a MIP incumbent."""
        if cost < self.best:
            self.best = float(cost)
            stamp = time.perf_counter() if at is None else at
            self._points.append([max(0.0, stamp - self._t0), int(evaluations), self.best])

    def record_batch(self, evaluations_before: int, costs: np.ndarray) -> None:
        """A batch scored at once: every row that beats all before it, at the batch's time."""
        end, found = costs.size, []
        while end and len(found) < ARGMIN_STEPS:  # the improving rows, last first: prefix argmins
            j = int(np.argmin(costs[:end]))
            if not costs[j] < self.best:
                end = 0
                break
            found.append(j)
            end = j
        if not found:
            return
        if end:  # many improvements: the rest from one running minimum
            running = np.minimum.accumulate(np.minimum(costs[:end], self.best))
            previous = np.concatenate(([self.best], running[:-1]))
            found.extend(np.flatnonzero(running < previous)[::-1].tolist())
        seconds = time.perf_counter() - self._t0
        for j in reversed(found):
            self._points.append([seconds, int(evaluations_before + j + 1), float(costs[j])])
        self.best = float(costs[found[0]])

    def points(self, limit: int = LIMIT) -> list[list[float]]:
        return thin(self._points, limit)


def improvements(costs: np.ndarray, seconds: np.ndarray, evaluations: np.ndarray, limit: int = LIMIT) -> list:
    """The trace of costs seen in order (NaN: not seen): a point wherever the running
    minimum fell, at that step's `seconds` and `evaluations`; for training loops that
    score their steps in batches after the fact."""
    costs = np.asarray(costs, dtype=float)
    running = np.fmin.accumulate(costs)
    before = np.concatenate(([math.inf], running[:-1]))
    where = np.flatnonzero(running < before)
    return thin([[float(seconds[i]), int(evaluations[i]), float(costs[i])] for i in where], limit)


def step_seconds(episode_ends: np.ndarray, steps: int) -> np.ndarray:
    """Seconds at each of `steps` steps per episode, spread evenly over the episode whose end
    times (seconds since the start) are `episode_ends`: steps are not timed one by one."""
    ends = np.asarray(episode_ends, dtype=float)
    starts = np.concatenate(([0.0], ends[:-1]))
    fraction = np.arange(1, steps + 1) / steps
    return (starts[:, None] + (ends - starts)[:, None] * fraction[None, :]).ravel()
