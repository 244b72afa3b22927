"""One live testbed: the hub, the page's file server, the browser and the server workers.

`Testbed` starts everything, loads a set of ONNX files on every tier, times them, runs
requests and checks the links; `close` (always called, also on failure) stops every
process it started. A child that dies, a page error and a request that takes too long all
end the run with a `TestbedError` naming what failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from problems import Problem
from testbed.browser import Browser, find_browser
from testbed.errors import TestbedError
from testbed.hub import FileServer, Hub
from testbed.links import hop_specs, routes
from testbed.procs import Children

WEB = Path(__file__).resolve().parent / "web"
ORT_DIST = WEB / "node_modules" / "onnxruntime-web" / "dist"


@dataclass
class Limits:
    startup_s: float = 120.0
    request_s: float = 60.0
    calibrate_s: float = 300.0


class Testbed:
    __test__ = False  # not a pytest test class

    def __init__(self, problem: Problem, files_dir: Path, workdir: Path, *, logdir: Path | None = None,
                 browser: str = "chromium", cpu_throttling: float = 4.0, threads: dict[str, int] | None = None,
                 limits: Limits | None = None):
        if not (ORT_DIST / "ort.wasm.min.js").exists():
            raise TestbedError(f"onnxruntime-web is not installed in {WEB / 'node_modules'}; run "
                               f"`npm ci --prefix {WEB}` (make sets it up)")
        self.problem = problem
        self.tier_names = ["device", "edge", "cloud"] if problem.kind == "mec" else ["device", "collaborator"]
        self.servers = self.tier_names[1:]
        self.threads = threads or {}
        self.cpu_throttling = cpu_throttling
        self.limits = limits or Limits()
        self.browser_binary = find_browser(browser)
        self.workdir = workdir
        self.files_dir = files_dir
        self.logdir = logdir or workdir
        self.logdir.mkdir(parents=True, exist_ok=True)
        (workdir / "home").mkdir(parents=True, exist_ok=True)
        self.children = Children(workdir / "home")
        self.hub = Hub(self.tier_names, routes(problem), hop_specs(problem))
        self.files = FileServer({"/ort/": ORT_DIST, "/files/": files_dir, "/": WEB})
        self.browser: Browser | None = None
        self.hello: dict[str, dict] = {}
        self._watch: asyncio.Task | None = None

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        await self.hub.start()
        self.files.start()
        for index, name in enumerate(self.tier_names[1:], start=1):
            args = [sys.executable, "-m", "testbed.worker", self.hub.url, name, str(index),
                    str(self.threads.get(name, 1))]
            self.children.spawn(f"{name} worker", args, self.logdir / f"{name}.log")
        self.browser = Browser(self.browser_binary, self.children, self.workdir, self.logdir)
        self.browser.on_error = self.hub.fail
        await self.browser.start(self.limits.startup_s)
        self._watch = asyncio.create_task(self._watchdog())
        await self.browser.navigate(f"{self.files.url}/index.html?hub={self.hub.url}")
        await self.hub.wait_connected(self.tier_names, self.limits.startup_s, self._alive)
        for name in self.tier_names:
            header, _ = await self.hub.reply(name, "hello", self.limits.startup_s, "start-up")
            self.hello[name] = header

    def _alive(self) -> None:
        if (dead := self.children.dead()) is not None:
            raise TestbedError(dead)

    async def _watchdog(self) -> None:
        while True:
            if (dead := self.children.dead()) is not None:
                self.hub.fail(dead)
                return
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        if self.browser is not None:
            await self.browser.close()
        await self.hub.stop()
        with contextlib.suppress(Exception):
            self.files.stop()
        self.children.stop_all()

    # -- work ----------------------------------------------------------------------
    async def load(self, set_name: str, files: list[Path], *, image: np.ndarray | None = None) -> None:
        """Load `files` (inside files_dir) on every tier, as the set `set_name`."""
        for name in self.tier_names:
            if name == "device":
                header = {"type": "load", "set": set_name,
                          "urls": [f"/files/{f.relative_to(self.files_dir)}" for f in files]}
                if image is not None:
                    header.update(input_url="/files/input.bin", input_shape=list(image.shape))
            else:
                header = {"type": "load", "set": set_name, "files": [str(f) for f in files]}
            await self.hub.send(name, header)
        for name in self.tier_names:
            await self.hub.reply(name, "loaded", self.limits.calibrate_s, f"loading {set_name}")

    async def throttle(self) -> None:
        assert self.browser is not None
        await self.browser.throttle(self.cpu_throttling)

    async def time_file(self, set_name: str, index: int, x: np.ndarray, *, warmup: int, repeats: int,
                        min_loop_ms: float) -> list[dict]:
        """Per tier, the timing (median ms, samples, loop) of file `index` of a set on input `x`."""
        out = []
        for name in self.tier_names:
            header = {"type": "calibrate", "set": set_name, "index": index, "shape": list(x.shape),
                      "warmup": warmup, "repeats": repeats, "min_loop_ms": min_loop_ms,
                      "mode": "loop" if name == "device" else "single"}  # testbed.timing says why
            await self.hub.send(name, header, x)
            reply, _ = await self.hub.reply(name, "calibrated", self.limits.calibrate_s,
                                            f"timing {set_name}[{index}]")
            out.append({k: reply[k] for k in ("ms", "samples", "loop")})
        return out

    async def request(self, req: int, assignment: list[int]) -> tuple[dict, np.ndarray]:
        """One end-to-end inference: (the device's done message with its trace, the result)."""
        await self.hub.send("device", {"type": "start", "req": req, "assign": [int(s) for s in assignment]})
        t0 = time.monotonic()
        header, payload = await self.hub.reply("device", "done", self.limits.request_s,
                                               f"request {req} of partition {''.join(map(str, assignment))}")
        header["wall_ms"] = (time.monotonic() - t0) * 1e3
        for entry in header["trace"]:  # the hub's stamps of each transfer (arrival, shaped time)
            if entry["k"] == "xfer":
                entry.update(self.hub.stamps.pop((req, entry["next"])))
        result = np.frombuffer(payload, dtype="<f4").reshape(header["shape"]).copy()
        return header, result

    @contextlib.asynccontextmanager
    async def running(self):
        try:
            await self.start()
            yield self
        finally:
            await self.close()
