"""An edge or cloud server: `python -m testbed.worker HUB_URL TIER_NAME TIER_INDEX THREADS`.

It connects to the hub, loads ONNX files with onnxruntime (CPU, `THREADS` intra-op threads,
one inter-op thread), times them on request, and during a request runs every consecutive
block the assignment gives its tier, then sends the output to the tier of the next block.
It exits when the hub closes the connection.
"""

from __future__ import annotations

import sys
import time
import traceback

import numpy as np
import onnxruntime as ort
from websockets.sync.client import connect

from testbed.timing import time_runs
from testbed.wire import decode, encode, fragments, now_ms, tensor


def _session(path: str, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    # idle pool threads must not spin: the tiers share a few cores with each other
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


class Worker:
    def __init__(self, conn, name: str, index: int, threads: int):
        self.conn, self.name, self.index, self.threads = conn, name, index, threads
        self.sets: dict[str, list[ort.InferenceSession]] = {}

    def send(self, header: dict, payload=b"") -> None:
        self.conn.send(encode(header, payload))

    def run(self, session: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
        return session.run(None, {"x": x})[0]

    def handle(self, header: dict, payload: memoryview, received: float) -> None:
        kind = header["type"]
        if kind == "load":
            self.sets[header["set"]] = [_session(p, self.threads) for p in header["files"]]
            self.send({"type": "loaded", "set": header["set"], "count": len(header["files"])})
        elif kind == "calibrate":
            session = self.sets[header["set"]][header["index"]]
            x = np.array(tensor(payload, header["shape"]))
            timed = time_runs(lambda: self.run(session, x), header["warmup"], header["repeats"],
                              header["min_loop_ms"], header.get("mode", "single"))
            self.send({"type": "calibrated", "set": header["set"], "index": header["index"], **timed})
        elif kind == "tensor":
            self.pipeline(header, payload, received)
        else:
            raise ValueError(f"unknown message type {kind!r}")

    def pipeline(self, header: dict, payload: memoryview, received: float) -> None:
        """Run this tier's consecutive blocks from `next`, then send the output on."""
        trace = header["trace"]
        trace.append({"k": "xfer", "src": header["src"], "dst": self.index, "next": header["next"],
                      "bytes": len(payload), "t_send": header["t_send"], "t_recv": received})
        assign, i = header["assign"], header["next"]
        blocks = self.sets["blocks"]
        x = np.array(tensor(payload, header["shape"]))
        while i < len(assign) and assign[i] == self.index:
            t0 = now_ms()
            x = self.run(blocks[i], x)
            trace.append({"k": "block", "i": i, "tier": self.index, "t0": t0, "t1": now_ms()})
            i += 1
        dst = assign[i] if i < len(assign) else 0
        out = {"type": "tensor", "req": header["req"], "next": i, "assign": assign, "shape": list(x.shape),
               "src": self.index, "dst": dst, "trace": trace, "t_send": now_ms()}
        for message in fragments(out, x):
            self.conn.send(message)


def main(argv: list[str]) -> int:
    hub, name, index, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    with connect(f"{hub}/tier/{name}", compression=None, max_size=None, open_timeout=30,
                 ping_interval=None) as conn:
        worker = Worker(conn, name, index, threads)
        worker.send({"type": "hello", "engine": f"onnxruntime {ort.__version__}", "threads": threads})
        try:
            for message in conn:
                received = now_ms()
                header, payload = decode(message)
                worker.handle(header, payload, received)
        except Exception as exc:
            traceback.print_exc()
            worker.send({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
            time.sleep(0.2)
            return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as exc:  # the hub went away: nothing to report to
        if "ConnectionClosed" not in type(exc).__name__:
            raise
        sys.exit(0)
