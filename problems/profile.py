"""Layer profiles: a DNN as a chain of blocks, each a list of Table 1 layers.

A block's reference latency and device energy are the sums of its layers'
predictions unless the block carries measured values (`latency_ms`, `energy_j`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from problems.layers import predict


@dataclass(frozen=True)
class Layer:
    type: str
    in_kb: float
    out_kb: float


@dataclass(frozen=True)
class Block:
    name: str
    in_kb: float
    out_kb: float
    layers: tuple[Layer, ...] = ()
    latency_ms: float | None = None
    energy_j: float | None = None
    exit_prob: float | None = None
    #: spec section 11: one measured latency per tier of the scenario (not scaled by d)
    tier_latency_ms: tuple[float, ...] | None = None
    #: spec section 12: indices of the blocks whose outputs this block reads (None: [v-1])
    inputs: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Profile:
    """A DNN as the chain of blocks that are the unit of placement."""

    name: str
    blocks: tuple[Block, ...]
    num_classes: int | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    @property
    def is_dag(self) -> bool:
        """Explicit `inputs` on any block make a DAG instance (spec section 12)."""
        return any(b.inputs is not None for b in self.blocks)

    def inputs_of(self, v: int) -> tuple[int, ...]:
        """The blocks block v reads: its `inputs`, else [v-1] (none for block 0)."""
        given = self.blocks[v].inputs
        if given is not None:
            return given
        return (v - 1,) if v > 0 else ()

    def reference_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-block reference latency L_i (ms) and device energy W_i (J) (computed once)."""
        return self._reference_costs

    @cached_property
    def _reference_costs(self) -> tuple[np.ndarray, np.ndarray]:
        lat = np.zeros(self.n_blocks)
        eng = np.zeros(self.n_blocks)
        types, ins, outs, owner = [], [], [], []
        for i, b in enumerate(self.blocks):
            for layer in b.layers:
                types.append(layer.type)
                ins.append(layer.in_kb)
                outs.append(layer.out_kb)
                owner.append(i)
        if types:
            layer_lat, layer_eng = predict(types, ins, outs)
            np.add.at(lat, owner, layer_lat)
            np.add.at(eng, owner, layer_eng)
        for i, b in enumerate(self.blocks):
            if b.latency_ms is not None:
                lat[i] = b.latency_ms
            if b.energy_j is not None:
                eng[i] = b.energy_j
        lat.flags.writeable = eng.flags.writeable = False
        return lat, eng

    def sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Block input and output sizes in KB (computed once)."""
        return self._sizes

    @cached_property
    def _sizes(self) -> tuple[np.ndarray, np.ndarray]:
        ins = np.array([b.in_kb for b in self.blocks], dtype=float)
        outs = np.array([b.out_kb for b in self.blocks], dtype=float)
        ins.flags.writeable = outs.flags.writeable = False
        return ins, outs
