"""Per-layer prediction models of the paper (Sec. 3.2, Table 1).

`pred = alpha * x + beta * y + gamma` with x, y the layer's input and output size in
bytes; ReLU and Norm have no output term. Every prediction is clamped at 0 because
the conv and pool intercepts are negative.
"""

from __future__ import annotations

import numpy as np

KB = 1024.0

#: layer type -> (latency alpha, beta, gamma), (energy alpha, beta, gamma); ms and J.
TABLE1: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "conv": ((6.240e-5, 1.074e-4, -1.938), (9.240e-7, 1.874e-6, 3.810e-2)),
    "relu": ((1.534e-5, 0.0, 0.4844), (1.435e-6, 0.0, 0.2881)),
    "pool": ((1.136e-5, 1.313e-6, -1.695), (1.410e-6, 1.312e-7, 0.3572)),
    "norm": ((5.182e-5, 0.0, 0.6497), (5.187e-6, 0.0, 0.5991)),
    "fc": ((9.163e-5, 3.990e-4, 1.172), (9.213e-6, 4.012e-5, 1.125)),
}
LAYER_TYPES = tuple(TABLE1)


def _coefficients(types: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.array([TABLE1[t][0] for t in types], dtype=float).reshape(-1, 3)
    eng = np.array([TABLE1[t][1] for t in types], dtype=float).reshape(-1, 3)
    return lat, eng


def predict(types, in_kb, out_kb) -> tuple[np.ndarray, np.ndarray]:
    """Reference latency (ms) and device energy (J) of each layer, clamped at 0."""
    x = np.asarray(in_kb, dtype=float) * KB
    y = np.asarray(out_kb, dtype=float) * KB
    lat, eng = _coefficients(list(types))
    latency = np.maximum(lat[:, 0] * x + lat[:, 1] * y + lat[:, 2], 0.0)
    energy = np.maximum(eng[:, 0] * x + eng[:, 1] * y + eng[:, 2], 0.0)
    return latency, energy
