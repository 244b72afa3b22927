"""One timing rule for every tier runtime (the page's device.js follows it too).

Warm-up runs first. Then each of `repeats` samples is the mean of a loop of runs that
lasts at least `min_loop_ms` (at least one run): throttled short blocks are bimodal (the
throttler pauses some runs and not others), and the mean over a loop is the expected
cost of one run. The block's time is the median of the samples.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_runs(run: Callable[[], object], warmup: int, repeats: int, min_loop_ms: float) -> dict:
    t0 = time.perf_counter()
    for _ in range(max(1, warmup)):
        run()
    once_ms = (time.perf_counter() - t0) * 1e3 / max(1, warmup)
    loop = max(1, int(min_loop_ms / max(once_ms, 1e-3)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loop):
            run()
        samples.append((time.perf_counter() - t0) * 1e3 / loop)
    return {"ms": statistics.median(samples), "samples": samples, "loop": loop}
