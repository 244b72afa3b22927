"""The hub: the WebSocket server every tier connects to, and the static file server of the page.

Tensor messages between tiers go through the hub, which shapes them on their route
(`testbed.links`) and stamps the trace (arrival, release, shaped time). Control messages
(load, calibrate, start, done) are not shaped: they are the testbed's own, not the model's.
Both servers listen on 127.0.0.1 only. WebSocket compression is off: Chrome offers
permessage-deflate, and it makes a 1 MiB tensor an order of magnitude slower.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import mimetypes
import threading
import time
from collections.abc import AsyncIterator, Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from testbed.errors import TestbedError
from testbed.links import HopSpec, Shaper, Transfer, paced
from testbed.wire import decode, encode, now_ms

WS_OPTIONS: dict[str, Any] = {"compression": None, "max_size": None, "ping_interval": None}


class Hub:
    """Routes and shapes tensors between named tiers; queues their replies for the driver."""

    def __init__(self, tiers: list[str], routes: dict[tuple[int, int], list[str]], hops: dict[str, HopSpec]):
        self.tiers = tiers
        self.routes = routes
        self.shaper = Shaper(hops)
        self.conns: dict[str, ServerConnection] = {}
        self.replies: dict[str, asyncio.Queue] = {}
        self.failure: str | None = None
        self._failed = asyncio.Event()
        self._server = None
        self.port = 0
        #: (request, next block) -> the hub's stamps of that transfer (`hub_in`, `shaped_ms`)
        self.stamps: dict[tuple[int, int], dict[str, float]] = {}
        self.forwarding: set[asyncio.Task] = set()

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        self._server = await serve(self._handle, "127.0.0.1", 0, **WS_OPTIONS)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self.forwarding):
            task.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        self._failed.set()

    # -- traffic -----------------------------------------------------------------
    async def _handle(self, conn: ServerConnection) -> None:
        name = conn.request.path.rsplit("/", 1)[-1]
        self.conns[name] = conn
        self.replies.setdefault(name, asyncio.Queue())
        incoming: _Forward | None = None  # the message whose fragments are arriving
        try:
            async for message in conn:
                arrived, stamp = time.perf_counter(), now_ms()
                header, payload = decode(message)
                kind = header.get("type")
                if kind == "frag":
                    if incoming is None:
                        self.fail(f"{name}: a fragment without the message it belongs to")
                        continue
                    incoming.feed(bytes(payload), len(payload), arrived)
                elif kind in ("tensor", "probe"):
                    incoming = self._forward(header, payload, len(message), arrived, stamp)
                elif kind == "error":
                    self.fail(f"{name}: {header.get('message')}")
                else:
                    await self.replies[name].put((header, payload))
                if incoming is not None and incoming.left == 0:
                    incoming = None
        except ConnectionClosed:
            pass
        finally:
            if incoming is not None:
                incoming.abandon()
            if self.conns.get(name) is conn:
                del self.conns[name]
                if name in self.tiers:  # probe endpoints come and go
                    self.fail(f"the {name} tier closed its connection")

    def _forward(self, header: dict, payload: memoryview, nbytes: int, arrived: float,
                 stamp: float) -> _Forward | None:
        """Start shaping a message whose first fragment (`nbytes` on the wire) just arrived."""
        if header["type"] == "probe":
            hops, dst = header["hops"], header["dst"]
        else:
            hops = self.routes[(header["src"], header["dst"])]
            dst = self.tiers[header["dst"]]
        conn = self.conns.get(dst)
        if conn is None:
            self.fail(f"a message for the {dst} tier, which is not connected")
            return None
        header["hub_in"] = stamp
        key = (header["req"], header["next"]) if header["type"] == "tensor" else None
        forward = _Forward(self, conn, Transfer(self.shaper, hops, arrived), int(header.get("frags", 1)), key,
                           stamp)
        forward.feed(encode(header, payload), nbytes, arrived)
        return forward

    async def send(self, tier: str, header: dict, payload=b"") -> None:
        conn = self.conns.get(tier)
        if conn is None:
            raise TestbedError(f"the {tier} tier is not connected")
        await conn.send(encode(header, payload))

    async def reply(self, tier: str, kind: str, timeout_s: float, what: str) -> tuple[dict, memoryview]:
        """The next reply of `tier`, which must be of type `kind`, within `timeout_s`."""
        queue = self.replies.setdefault(tier, asyncio.Queue())
        getter = asyncio.ensure_future(queue.get())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            done, _ = await asyncio.wait({getter, failed}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
        if getter not in done:
            getter.cancel()
            if self.failure:
                raise TestbedError(self.failure)
            raise TestbedError(f"{what}: no answer from the {tier} tier within {timeout_s:g} s")
        header, payload = getter.result()
        if header.get("type") != kind:
            raise TestbedError(f"{what}: the {tier} tier answered {header.get('type')!r}, expected {kind!r}")
        return header, payload

    async def wait_connected(self, names: list[str], timeout_s: float, alive: Callable[[], None]) -> None:
        deadline = time.monotonic() + timeout_s
        while any(n not in self.conns for n in names):
            alive()
            if self.failure:
                raise TestbedError(self.failure)
            if time.monotonic() > deadline:
                missing = [n for n in names if n not in self.conns]
                raise TestbedError(f"start-up: {', '.join(missing)} did not connect within {timeout_s:g} s")
            await asyncio.sleep(0.05)


class _Forward:
    """One message on its way: fragments go in as they arrive, paced pieces go out to the
    receiver as one fragmented WebSocket message, the last at the route's deadline."""

    def __init__(self, hub: Hub, conn: ServerConnection, transfer: Transfer, frags: int,
                 key: tuple[int, int] | None, stamp: float):
        self.hub, self.transfer, self.left, self.key, self.stamp = hub, transfer, frags, key, stamp
        self.pending: list[bytes] = []
        self.queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.create_task(self._send(conn))
        hub.forwarding.add(task)
        task.add_done_callback(hub.forwarding.discard)

    def feed(self, data: bytes, nbytes: int, arrived: float) -> None:
        self.left -= 1
        last = self.left == 0
        self.pending.append(data)
        pieces = self.transfer.feed(nbytes, arrived, last)
        if pieces:
            (_, begin, end), = pieces
            self.queue.put_nowait((b"".join(self.pending), begin, end, last))
            self.pending.clear()
        if last and self.key is not None:
            self.hub.stamps[self.key] = {"hub_in": self.stamp,
                                         "shaped_ms": (self.transfer.end - self.transfer.arrived) * 1e3}

    def abandon(self) -> None:
        self.queue.put_nowait(None)

    async def _pieces(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            data, begin, end, last = item
            async for piece in paced(data, begin, end, precise=last):
                yield piece
            if last:
                return

    async def _send(self, conn: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.send(self._pieces())


# -- static files ------------------------------------------------------------------
class _Files(SimpleHTTPRequestHandler):
    mounts: ClassVar[dict[str, Path]] = {}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, root in self.mounts.items():
            if path.startswith(prefix):
                rel = path[len(prefix) :].lstrip("/")
                target = (root / rel).resolve()
                if root.resolve() in target.parents or target == root.resolve():
                    return str(target)
        return "/nonexistent"

    def end_headers(self) -> None:
        # cross-origin isolation gives the page finer performance.now() timers
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        return None


class FileServer:
    """Serves `mounts` (URL prefix -> folder) on 127.0.0.1 from a thread."""

    def __init__(self, mounts: dict[str, Path]):
        mimetypes.add_type("text/javascript", ".mjs")
        mimetypes.add_type("application/wasm", ".wasm")
        handler = type("Files", (_Files,), {"mounts": mounts,
                                             "extensions_map": {**_Files.extensions_map, ".mjs": "text/javascript",
                                                                ".wasm": "application/wasm"}})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="testbed-files", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
