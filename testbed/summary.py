"""testbed.json's partition rows and summary: measurements held against the model's T.

`predicted_ms` is the problem's own score of the assignment (Problem.score via the
benchmark runner); nothing here computes a latency. rel_error = (measured median -
predicted) / measured median; Kendall's tau-b compares the two orders of the partitions.
"""

from __future__ import annotations

import itertools
import math
import statistics


def partition_row(solver: str, assignment: list[int], predicted_ms: float, measured_ms: list[float]) -> dict:
    median = statistics.median(measured_ms)
    return {"solver": solver, "assignment": assignment, "predicted_ms": predicted_ms, "measured_ms": measured_ms,
            "measured_median_ms": median, "rel_error": (median - predicted_ms) / median}


def kendall_tau(a: list[float], b: list[float]) -> float | None:
    """Kendall's tau-b (ties in either list handled); None when either list is constant."""
    concordant = discordant = ties_a = ties_b = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        da, db = a[i] - a[j], b[i] - b[j]
        if da == 0 and db == 0:
            continue
        if da == 0:
            ties_a += 1
        elif db == 0:
            ties_b += 1
        elif (da > 0) == (db > 0):
            concordant += 1
        else:
            discordant += 1
    denom = math.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return None if denom == 0 else (concordant - discordant) / denom


def summary(rows: list[dict]) -> dict:
    predicted = [r["predicted_ms"] for r in rows]
    measured = [r["measured_median_ms"] for r in rows]
    return {"median_abs_rel_error": statistics.median(abs(r["rel_error"]) for r in rows),
            "kendall_tau": kendall_tau(predicted, measured),
            "predicted_best": rows[predicted.index(min(predicted))]["solver"],
            "measured_best": rows[measured.index(min(measured))]["solver"]}
