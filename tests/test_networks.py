"""Network conditions: sampled networks inside Table 2's ranges with the average as mean; scaling."""

import math

import numpy as np
import pytest

from problems.build import build_problem
from problems.errors import FieldError
from problems.networks import CONCENTRATION, NetworkConfig, network_from_config, sample_network, sample_ranges
from problems.presets import NETWORKS
from problems.schema import from_mapping

QUANTITIES = sorted(sample_ranges())


def values(net):
    return np.array([getattr(getattr(net, link), key) for link, key in QUANTITIES])


def test_ranges_are_table2():
    r = sample_ranges()
    assert r["te", "up_mbps"] == (74.4, 76.1, 77.9)
    assert r["ec", "down_mbps"] == (466.3, 542.3, 600.7)
    assert r["d2d", "mbps"] == (71.1, 87.6, 97.3)
    assert r["te", "delay_ms"] == (1.61 / 2, 8.76 / 2, 104.25 / 2)  # one-way = end-to-end / 2
    assert r["ec", "delay_ms"] == (15.37 / 2, 27.04 / 2, 905.16 / 2)
    assert r["d2d", "delay_ms"] == (2.72 / 2, 23.14 / 2, 304.16 / 2)


@pytest.fixture(scope="module")
def draws():
    rng = np.random.default_rng(12345)
    return np.array([values(sample_network(rng)) for _ in range(20_000)])


def test_sampled_networks_stay_inside_table2(draws):
    lo = np.array([sample_ranges()[q][0] for q in QUANTITIES])
    hi = np.array([sample_ranges()[q][2] for q in QUANTITIES])
    assert np.all(draws >= lo) and np.all(draws <= hi)


def test_sampled_mean_converges_to_the_average(draws):
    lo, mean, hi = (np.array([sample_ranges()[q][j] for q in QUANTITIES]) for j in range(3))
    m = (mean - lo) / (hi - lo)
    sd = (hi - lo) * np.sqrt(m * (1 - m) / (CONCENTRATION + 1))  # the scaled Beta's standard deviation
    for n in (2_000, 20_000):
        err = np.abs(draws[:n].mean(axis=0) - mean)
        assert np.all(err < 4.5 * sd / math.sqrt(n)), dict(zip(QUANTITIES, err / sd * math.sqrt(n), strict=True))
    assert np.allclose(draws.std(axis=0), sd, rtol=0.05)


def test_sample_network_is_seeded():
    a = sample_network(np.random.default_rng(3))
    assert a == sample_network(np.random.default_rng(3))
    assert a != sample_network(np.random.default_rng(4))


def test_network_sampled_config():
    p3 = build_problem({}, {}, {"name": "sampled", "seed": 3})
    assert p3.name == "alexnet-mec-sampled3"
    assert p3.scenario.te == build_problem({}, {}, {"name": "sampled", "seed": 3}).scenario.te
    assert p3.scenario.te != build_problem({}, {}, {"name": "sampled", "seed": 4}).scenario.te
    d2d = build_problem({}, {"kind": "d2d"}, {"name": "sampled", "seed": 3}).scenario
    assert d2d.link == network_from_config(NetworkConfig(name="sampled", seed=3)).d2d


def test_scale_multiplies_presets_and_sampled_networks():
    base = network_from_config(NetworkConfig(name="sampled", seed=1))
    cfg = from_mapping(NetworkConfig, {"name": "sampled", "seed": 1, "scale": {"bandwidth": 0.1, "delay": 10}},
                       "network")
    net = network_from_config(cfg)
    assert net.te.up_mbps == pytest.approx(base.te.up_mbps * 0.1)
    assert net.ec.delay_ms == pytest.approx(base.ec.delay_ms * 10)
    assert net.d2d.mbps == pytest.approx(base.d2d.mbps * 0.1)
    assert net.name == "sampled1-bw0.1-dl10"
    avg = build_problem({}, {}, {"name": "5g_worst", "scale": {"bandwidth": 10}}).scenario
    assert avg.te.down_mbps == pytest.approx(NETWORKS["5g_worst"].te.down_mbps * 10)


@pytest.mark.parametrize("key", ["bandwidth", "delay"])
@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), "fast"])
def test_bad_scale_names_the_key(key, value):
    with pytest.raises(FieldError) as err:
        build_problem({}, {}, {"scale": {key: value}})
    assert err.value.field == f"network.scale.{key}" and "\n" not in str(err.value)


def test_bad_name_and_seed():
    with pytest.raises(FieldError, match=r"network\.name.*sampled"):
        build_problem({}, {}, {"name": "6g"})
    with pytest.raises(FieldError, match=r"network\.seed"):
        build_problem({}, {}, {"name": "sampled", "seed": -1})
