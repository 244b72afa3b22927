"""A sweep composes each job once and checks a sample first (benchmark.compose): every
override value checked before the first job, each job its own config."""

from __future__ import annotations

import copy
import itertools
from types import SimpleNamespace

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.structured_config_source import StructuredConfigSource
from hydra.plugins.sweeper import Sweeper
from hydra.types import RunMode
from omegaconf import OmegaConf

from benchmark import compose
from benchmark.pretrain import _loader, sweep_jobs


@pytest.fixture
def patched(monkeypatch):
    """compose.install() for one test; Hydra's classes are restored afterwards."""
    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config", ConfigLoaderImpl.load_sweep_config)
    monkeypatch.setattr(Sweeper, "validate_batch_is_legal", Sweeper.validate_batch_is_legal)
    monkeypatch.setattr(compose, "_installed", False)
    monkeypatch.setattr(compose, "_composed", {})
    monkeypatch.setattr(StructuredConfigSource, "__deepcopy__", None, raising=False)  # undone: Hydra's own copy
    compose.install()


def test_the_sample_holds_every_override_value_in_batch_order():
    batch = [[f"model={m}", f"scenario={s}", f"solver={v}"]
             for m, s, v in itertools.product("abcd", ("mec", "d2d"), ("dp", "greedy", "ilp"))]
    chosen = compose.sample(batch)
    assert len(chosen) == 1 + 3 + 1 + 2  # the first job, then one per value not seen yet
    assert set(itertools.chain(*chosen)) == set(itertools.chain(*batch))
    assert chosen == [job for job in batch if job in chosen]  # the batch's order
    assert compose.sample([]) == []


def jobs():
    return sweep_jobs(["+experiment=paper", "model=alexnet,vgg16", "solver=dp,greedy,maui"])[:8]


def composed(loader, master, batch):
    return [OmegaConf.to_container(loader.load_sweep_config(master, list(j)), resolve=False) for j in batch]


def test_configs_composed_by_the_check_keep_their_own_values(patched):
    """Composed one after another before any job runs, each job still gets its own values."""
    loader = _loader()
    master = loader.load_configuration("config", ["seed=0,1,2"], RunMode.MULTIRUN)
    sweeper = SimpleNamespace(hydra_context=SimpleNamespace(config_loader=loader), config=master)
    batch = [[f"seed={s}", f"model={m}", "solver=dp"] for s, m in enumerate(("alexnet", "vgg16", "resnet32"))]
    Sweeper.validate_batch_is_legal(sweeper, batch)
    configs = [loader.load_sweep_config(master, list(job)) for job in batch]
    assert [c.seed for c in configs] == [0, 1, 2]
    assert [c.model.name for c in configs] == ["alexnet", "vgg16", "resnet32"]
    assert [list(c.hydra.overrides.task) for c in configs] == batch


def test_the_check_composes_the_sample_and_hands_each_config_to_the_launcher_once(patched):
    batch = jobs()
    loader = _loader()
    master = loader.load_configuration("config", ["+experiment=paper"], RunMode.MULTIRUN)
    sweeper = SimpleNamespace(hydra_context=SimpleNamespace(config_loader=loader), config=master)
    Sweeper.validate_batch_is_legal(sweeper, batch)
    sampled = compose.sample(batch)
    assert 0 < len(sampled) < len(batch)
    first = loader.load_sweep_config(master, list(sampled[0]))
    assert first is compose._composed.get((id(master), tuple(sampled[0])), first)  # handed out ...
    assert (id(master), tuple(sampled[0])) not in compose._composed  # ... once
    second = loader.load_sweep_config(master, list(sampled[0]))
    assert second is not first
    assert OmegaConf.to_container(second, resolve=False) == OmegaConf.to_container(first, resolve=False)


def test_a_bad_option_is_refused_by_the_check(patched):
    loader = _loader()
    master = loader.load_configuration("config", ["+experiment=paper"], RunMode.MULTIRUN)
    sweeper = SimpleNamespace(hydra_context=SimpleNamespace(config_loader=loader), config=master)
    batch = [["model=alexnet", "solver=dp"], ["model=alexnet", "solver=no_such_solver"]]
    with pytest.raises(Exception, match="no_such_solver"):
        Sweeper.validate_batch_is_legal(sweeper, batch)


def test_a_shared_store_composes_the_same_configs(monkeypatch):
    """share_store: copies of the repository read the one ConfigStore, and every job's config is
    what Hydra's own deep copy of the store gives."""
    batch = jobs()[:3]
    loader = _loader()
    monkeypatch.setattr(StructuredConfigSource, "__deepcopy__", None, raising=False)  # _loader shares it
    master = loader.load_configuration("config", ["+experiment=paper"], RunMode.MULTIRUN)
    stock = composed(loader, master, batch)
    source = loader.repository.get_schema_source()
    compose.share_store()
    assert copy.deepcopy(source).store is source.store
    assert composed(loader, master, batch) == stock
