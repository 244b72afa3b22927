"""testbed.json's partition rows and summary: measurements held against the model's T.

`predicted_ms` is the problem's own score of the assignment (Problem.score via the
benchmark runner); nothing here computes a latency. rel_error = (measured median -
predicted) / measured median; Kendall's tau-b (scipy) compares the two orders of the partitions.
"""

from __future__ import annotations

import math
import statistics

from scipy import stats


def partition_row(solver: str, assignment: list[int], predicted_ms: float, measured_ms: list[float]) -> dict:
    median = statistics.median(measured_ms)
    return {"solver": solver, "assignment": assignment, "predicted_ms": predicted_ms, "measured_ms": measured_ms,
            "measured_median_ms": median, "rel_error": (median - predicted_ms) / median}


def kendall_tau(a: list[float], b: list[float]) -> float | None:
    """Kendall's tau-b (scipy; ties in either list handled); None when either list is constant."""
    tau = stats.kendalltau(a, b).statistic
    return None if math.isnan(tau) else float(tau)


def summary(rows: list[dict]) -> dict:
    """The targets' numbers. `predicted_best_gap`: how far the predicted optimum's measured median
    is above the measured best's; `same_assignment` says when the two are one assignment found by
    two solvers (their medians then differ by the system's noise alone)."""
    predicted = [r["predicted_ms"] for r in rows]
    measured = [r["measured_median_ms"] for r in rows]
    guess, best = rows[predicted.index(min(predicted))], rows[measured.index(min(measured))]
    fastest = best["measured_median_ms"]
    return {"median_abs_rel_error": statistics.median(abs(r["rel_error"]) for r in rows),
            "kendall_tau": kendall_tau(predicted, measured),
            "predicted_best": guess["solver"], "measured_best": best["solver"],
            "predicted_best_gap": (guess["measured_median_ms"] - fastest) / fastest,
            "same_assignment": list(guess["assignment"]) == list(best["assignment"])}
