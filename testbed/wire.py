"""The testbed's one message format, shared by the hub, the Python workers and the browser page.

A message is one binary WebSocket message: a little-endian uint32 header length, a JSON
header (space-padded so that the payload starts on a 4-byte boundary, which lets the page
view it as a Float32Array without a copy) and the raw float32 payload. `device.js` holds
the same encoder in JavaScript.

A tensor travels in fragments of FRAGMENT_BYTES of payload, each its own WebSocket message:
the first carries the header (with `frags`, their count) and the first bytes, the others a
`{"type": "frag"}` header and the next bytes. The hub shapes each fragment as it arrives
and hands the receiver one message; the fragments' own headers are framing, not counted.
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


#: payload bytes per fragment (a multiple of 4: a float32 never straddles two fragments)
FRAGMENT_BYTES = 64 * 1024
FRAG_HEADER = {"type": "frag"}


def fragments(header: dict[str, Any], payload: bytes | memoryview | np.ndarray,
              size: int = FRAGMENT_BYTES) -> list[bytes]:
    """The messages that carry `header` and `payload` in fragments of `size` payload bytes."""
    if isinstance(payload, np.ndarray):
        payload = np.ascontiguousarray(payload, dtype="<f4").tobytes()
    view = memoryview(payload).cast("B")
    count = max(1, -(-len(view) // size))
    first = encode({**header, "frags": count}, view[:size])
    return [first, *(encode(FRAG_HEADER, view[k * size:(k + 1) * size]) for k in range(1, count))]


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
