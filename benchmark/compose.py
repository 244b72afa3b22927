"""A sweep composes each job's config once, not twice, and checks a sample before it starts.

Hydra's sweepers call `Sweeper.validate_batch_is_legal` on every batch before launching
it: it composes every job's config (about a quarter of a second each with conf/'s
schemas) and throws the result away; then the launcher composes each job again. On the
paper grid (384 jobs) that doubled composition was most of the sweep's time, and with
the joblib launcher the check ran serially in the parent before any worker started.

`install()` changes two things for the sweep that calls it:

- the check composes a sample of the batch: the fewest jobs that between them use every
  override value of the batch (each model, scenario, network and solver option at least
  once), in the batch's order. An unknown option or a bad value in a group file is still
  refused before the first job runs; a failure that only a particular combination of
  values produces shows up when that job is composed, as it would with Hydra's own
  launchers in other processes;
- a config the check composed is handed to the launcher when it composes that job in the
  same process (Hydra's basic launcher), instead of being composed again. Each one is
  handed out once: the launcher writes into the config it gets.

- every composition shares the ConfigStore instead of deep-copying it: Hydra's
  `CachingConfigRepository` deep-copies its delegate repository (to keep
  `initialize_sources` from changing it), and with it the store of every registered
  schema (a sixth of a composition's time), although the store is only read and hands
  out deep copies of its nodes (`ConfigStore.load`). `share_store()` does only this,
  and the joblib launcher's workers call it too.

(Keeping one config repository across compositions, so that each file is parsed once, was
tried and dropped: a composed config shares nodes with the loaded files, so jobs composed
from one repository overwrote each other's values; copying them kept only a tenth.)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

_composed: dict[tuple[int, tuple[str, ...]], Any] = {}  # (id of the master config, overrides) -> config
_installed = False


def sample(batch: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The first jobs of `batch` that together contain every override of it, in order."""
    seen: set[str] = set()
    chosen = []
    for job in batch:
        new = set(job) - seen
        if new:
            chosen.append(job)
            seen |= new
    return chosen


def share_store() -> None:
    """Deep copies of Hydra's structured config source share its ConfigStore (idempotent)."""
    from hydra._internal.core_plugins.structured_config_source import StructuredConfigSource

    def shallow(self: Any, memo: dict) -> Any:
        clone = copy.copy(self)  # provider, path and the same store: the store is only read
        memo[id(self)] = clone
        return clone

    StructuredConfigSource.__deepcopy__ = shallow


def install() -> None:
    """Patch Hydra's sweeper check and config loader for this process (idempotent)."""
    global _installed
    if _installed:
        return
    share_store()
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.plugins.sweeper import Sweeper

    compose = ConfigLoaderImpl.load_sweep_config

    def validate_batch_is_legal(self: Any, batch: Sequence[Sequence[str]]) -> None:
        loader = getattr(self, "hydra_context", None) and self.hydra_context.config_loader
        loader = loader or self.config_loader
        _composed.clear()
        for overrides in sample(batch):
            cfg = compose(loader, self.config, list(overrides))
            _composed[(id(self.config), tuple(overrides))] = cfg

    def load_sweep_config(self: Any, master_config: Any, sweep_overrides: list[str]) -> Any:
        cfg = _composed.pop((id(master_config), tuple(sweep_overrides)), None)
        return cfg if cfg is not None else compose(self, master_config, sweep_overrides)

    Sweeper.validate_batch_is_legal = validate_batch_is_legal
    ConfigLoaderImpl.load_sweep_config = load_sweep_config
    _installed = True
