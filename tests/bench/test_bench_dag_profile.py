"""Time of tracing and profiling the zoo's DAG models (`make bench`).

Target: ResNet-50 (3x224x224) traced with torch.fx and profiled, from its configuration,
<= 10 s. Timed in process with torch imported and the in-memory caches cleared: it
covers building the module with seeded random weights, the trace, the forward pass
with ShapeProp and the profile. Reading the same network from an ONNX file (exported
once, outside the timing) is timed too. Numbers go to BENCHMARKS.md; nothing is asserted.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from problems.models import ModelConfig, _dag_module, clear_cache, profile_from_config

pytestmark = pytest.mark.bench


def uncached(cfg: ModelConfig):
    clear_cache()
    return profile_from_config(cfg)


#: stage granularity adds only a merge to the same trace: timed for resnet50 alone
CASES = [("resnet50", "layer"), ("resnet50", "stage"), ("resnet18", "layer"), ("googlenet", "layer"),
         ("densenet121", "layer"), ("mobilenet_v2", "layer")]


@pytest.mark.parametrize(("name", "granularity"), CASES)
def test_trace_and_profile(benchmark, name, granularity):
    cfg = ModelConfig(name=name, granularity=granularity)
    benchmark.group = "torch.fx trace + profile from config, 3x224x224 (caches cleared)"
    uncached(cfg)  # warm-up: first-use costs of torch kernels
    profile = benchmark.pedantic(uncached, args=(cfg,), rounds=5, iterations=1)
    benchmark.extra_info["blocks"] = profile.n_blocks


def test_read_onnx_resnet50(benchmark, tmp_path):
    path = tmp_path / "resnet50.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_dag_module("resnet50", 0, (3, 224, 224), 1000).eval(), (torch.randn(1, 3, 224, 224),),
                          str(path), dynamo=False)
    cfg = ModelConfig(source="onnx", path=str(path))
    benchmark.group = "ONNX read + shape inference + profile, resnet50"
    uncached(cfg)
    profile = benchmark.pedantic(uncached, args=(cfg,), rounds=5, iterations=1)
    benchmark.extra_info["blocks"] = profile.n_blocks
