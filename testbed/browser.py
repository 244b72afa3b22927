"""The device's browser: Debian's headless Chromium, driven over the DevTools protocol.

Plain CDP over one WebSocket (the `websockets` package the testbed already uses) does all
the testbed needs: open a page, throttle its CPU (`Emulation.setCPUThrottlingRate`), read
the user agent and hear about page errors. puppeteer-core would add a Node process and an
npm dependency between Python and the browser, and Playwright's Python client ships its own
driver and pins browser builds; neither buys anything for five protocol commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from testbed.errors import TestbedError
from testbed.procs import Children

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--mute-audio", "--disable-breakpad", "--disable-crash-reporter",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows", "--remote-debugging-port=0", "--remote-allow-origins=*",
    "--js-flags=--no-liftoff",  # wasm compiled optimized at once: no tier-up speeding blocks up mid-calibration
]


def find_browser(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise TestbedError(f"testbed.device.browser: {name!r} not found; install Debian's chromium "
                           "(apt-get install chromium)")
    return path


class Browser:
    """One headless Chromium with one page, attached through a flat CDP session."""

    def __init__(self, binary: str, children: Children, workdir: Path, logdir: Path):
        self.binary = binary
        self.children = children
        self.profile = workdir / "chromium-profile"
        self.log = logdir / "chromium.log"
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._conn = None
        self._reader: asyncio.Task | None = None
        self.session: str | None = None
        self.errors: list[str] = []
        self.on_error = None

    async def start(self, timeout_s: float) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        port_file = self.profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a stale file names a dead browser's port
        self.children.spawn("browser", [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                            self.log)
        deadline = time.monotonic() + timeout_s
        while not port_file.exists() or len(port_file.read_text().split()) < 2:
            if (dead := self.children.dead()) is not None:
                raise TestbedError(f"start-up: {dead}")
            if time.monotonic() > deadline:
                raise TestbedError(f"start-up: chromium did not open its DevTools port within {timeout_s:g} s")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self._conn = await connect(f"ws://127.0.0.1:{port}{path}", max_size=None, compression=None,
                                   ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        targets = await self.call("Target.getTargets", session=False)
        page = next(t for t in targets["targetInfos"] if t["type"] == "page")
        attached = await self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                   session=False)
        self.session = attached["sessionId"]
        await self.call("Runtime.enable")
        await self.call("Page.enable")

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self._conn:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self._pending.pop(msg["id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                else:
                    self._event(msg)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(TestbedError("the browser closed its DevTools connection"))

    def _event(self, msg: dict) -> None:
        method, params = msg.get("method"), msg.get("params", {})
        text = None
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
        elif method in ("Inspector.targetCrashed", "Target.targetCrashed"):
            text = "the page crashed"
        elif method == "Target.detachedFromTarget":
            text = "the page was closed"
        if text:
            line = f"device page: {str(text).splitlines()[0]}"
            self.errors.append(line)
            if self.on_error is not None:
                self.on_error(line)

    async def call(self, method: str, params: dict | None = None, *, session: bool = True,
                   timeout_s: float = 30) -> dict[str, Any]:
        msg_id = next(self._ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        fut = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        await self._conn.send(json.dumps(msg))
        try:
            reply = await asyncio.wait_for(fut, timeout_s)
        except TimeoutError:
            raise TestbedError(f"browser: {method} got no answer within {timeout_s:g} s") from None
        if "error" in reply:
            raise TestbedError(f"browser: {method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    async def navigate(self, url: str) -> None:
        await self.call("Page.navigate", {"url": url})

    async def throttle(self, rate: float) -> None:
        await self.call("Emulation.setCPUThrottlingRate", {"rate": rate})

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.call("Browser.close", session=False, timeout_s=3), 4)
            with contextlib.suppress(Exception):
                await self._conn.close()
        if self._reader is not None:
            self._reader.cancel()
