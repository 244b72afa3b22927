"""`python -m testbed`: the Hydra app. `command=run` (default) or `command=calibrate`, with the
benchmark's `model`, `scenario` and `network` groups and the `testbed.*` keys (conf/testbed.yaml).

Bad input and a failure of the live system (a missing browser, a worker that dies, a
request that times out) are one line on stderr and a non-zero exit (2 and 1); every
process the testbed started is gone before it exits.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from benchmark.schemas import register
from problems.errors import ProblemError
from testbed.errors import TestbedError
from testbed.run import Job

register()  # the schemas the shared model, scenario and network group files extend (benchmark.schemas)


def _print_result(doc: dict) -> None:
    for p in doc.get("partitions", []):
        print(f"{p['solver']:>14}  {''.join(map(str, p['assignment']))}  predicted {p['predicted_ms']:9.2f} ms  "
              f"measured {p['measured_median_ms']:9.2f} ms  rel_error {p['rel_error']:+.3f}")
    if "linear_best" in doc:
        print(f"layer models: linear is the best of three for {doc['linear_best']['count']} of "
              f"{doc['linear_best']['of']} (type, tier) pairs (leave-one-out error; layer_errors.md)")
    if "summary" in doc:
        s = doc["summary"]
        same = " (the same assignment)" if s["same_assignment"] else ""
        print(f"median |rel_error| {s['median_abs_rel_error']:.3f}  kendall_tau {s['kendall_tau']}  "
              f"predicted best {s['predicted_best']}  measured best {s['measured_best']}{same}, "
              f"{100 * s['predicted_best_gap']:.1f} % apart")


@hydra.main(version_base="1.3", config_path="../conf", config_name="testbed")
def main(cfg: DictConfig) -> None:
    outdir = Path(HydraConfig.get().runtime.output_dir)
    logging.getLogger("websockets").setLevel(logging.WARNING)  # one line per connection is noise
    data = OmegaConf.to_container(cfg, resolve=True)
    try:
        job = Job(data, outdir)
        doc = asyncio.run(job.execute())
    except TestbedError as exc:
        print(f"error: testbed: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("error: testbed: interrupted; every process it started is stopped", file=sys.stderr, flush=True)
        sys.exit(130)
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    _print_result(doc)
    print(f"testbed: results in {outdir}")


if __name__ == "__main__":
    from benchmark.cli_errors import run_cli

    run_cli(main)
