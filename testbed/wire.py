"""The testbed's one message format, shared by the hub, the Python workers and the browser page.

A message is one binary WebSocket message: a little-endian uint32 header length, a JSON
header (space-padded so that the payload starts on a 4-byte boundary, which lets the page
view it as a Float32Array without a copy) and the raw float32 payload. `device.js` holds
the same encoder in JavaScript.
"""

from __future__ import annotations

import json
import struct
import time
from typing import Any

import numpy as np

_LEN = struct.Struct("<I")


def now_ms() -> float:
    """Epoch milliseconds: the clock every tier stamps its trace with (the page uses
    performance.timeOrigin + performance.now(), the same wall clock)."""
    return time.time() * 1e3


def encode(header: dict[str, Any], payload: bytes | memoryview | np.ndarray = b"") -> bytes:
    if isinstance(payload, np.ndarray):
        payload = np.ascontiguousarray(payload, dtype="<f4").tobytes()
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-(_LEN.size + len(head)) % 4)
    return b"".join((_LEN.pack(len(head)), head, payload))


def decode(message: bytes | str) -> tuple[dict[str, Any], memoryview]:
    """(header, payload) of a message; a text message is a header without payload."""
    if isinstance(message, str):
        return json.loads(message), memoryview(b"")
    view = memoryview(message)
    (size,) = _LEN.unpack_from(view)
    start = _LEN.size + size
    return json.loads(bytes(view[_LEN.size : start])), view[start:]


def tensor(payload: memoryview, shape: list[int]) -> np.ndarray:
    return np.frombuffer(payload, dtype="<f4").reshape(shape)
