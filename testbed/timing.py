"""How every tier runtime times a block or a layer (the page's device.js does `loop` too).

Warm-up runs come first. Then:
- `loop` (the device): each of `repeats` samples is the mean of a loop of runs lasting at
  least `min_loop_ms`. DevTools CPU throttling pauses the page's thread now and then, so one
  short run is either unthrottled or pays a whole pause (bimodal); the mean over a loop is
  the expected cost of a run, which is what a stretch of blocks in a request pays.
- `single` (the servers): every sample is one run, as in a request; there are `repeats`
  samples, or as many as fit in `repeats * min_loop_ms` (at most MAX_SINGLE). On a shared
  machine a long loop is preempted by other processes far more often than one short run,
  which a single run's median does not count.
The time is the median of the samples.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

MAX_SINGLE = 200
MODES = ("loop", "single")


def time_runs(run: Callable[[], object], warmup: int, repeats: int, min_loop_ms: float,
              mode: str = "loop") -> dict:
    t0 = time.perf_counter()
    for _ in range(max(1, warmup)):
        run()
    once_ms = max((time.perf_counter() - t0) * 1e3 / max(1, warmup), 1e-3)
    samples = []
    if mode == "single":
        count = max(repeats, min(MAX_SINGLE, int(repeats * min_loop_ms / once_ms)))
        for _ in range(count):
            t0 = time.perf_counter()
            run()
            samples.append((time.perf_counter() - t0) * 1e3)
        return {"ms": statistics.median(samples), "samples": samples, "loop": 1}
    loop = max(1, int(min_loop_ms / once_ms))
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loop):
            run()
        samples.append((time.perf_counter() - t0) * 1e3 / loop)
    return {"ms": statistics.median(samples), "samples": samples, "loop": loop}
