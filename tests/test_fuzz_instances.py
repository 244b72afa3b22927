"""Fuzzing the instance loader: any document or file is a valid Problem or a one-line FieldError.

Documents come from a recursive JSON strategy (biased towards the format's own keys and
values) and from valid instances of random problems mutated by deleting, replacing and
inserting keys and values (wrong types, NaN/inf, huge, tiny and negative numbers, deep
nesting). Files add bytes that are not UTF-8, truncated text and broken literals.
A loaded problem must score every assignment to finite numbers and survive a round trip.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from problem_factory import random_problem

from problems import Problem
from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import FORMAT, dumps_instance, load_instance, problem_from_dict, problem_to_dict
from problems.layers import LAYER_TYPES

KEYS = sorted({
    "format", "name", "blocks", "scenario", "in_kb", "out_kb", "latency_ms", "energy_j", "exit_prob", "layers",
    "type", "kind", "tiers", "d", "e", "links", "te", "ec", "up_mbps", "down_mbps", "delay_ms", "power",
    "alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw", "alpha_mw_per_mbps", "deploy_weights",
    "weights", "energy", "deploy", "early_exit", "enabled", "num_classes", "link", "mbps", "collaborators",
})
NASTY = [
    None, True, False, 0, -0.0, -1, 1, 2**63, 10**400, -(10**400), float("nan"), float("inf"), float("-inf"),
    1e308, -1e308, 1e-308, 5e-324, 1e300, 1e-300, "", "a\nb", "\x00", "\ud800", "\u2028", "x" * 500,
    FORMAT, "mec", "d2d", "conv", "fc", "relu",
]
#: containers are built fresh for every draw: the mutations edit them in place
EMPTY = st.builds(list) | st.builds(dict) | st.builds(lambda: [[]]) | st.builds(lambda: {"": None})
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-(10**400), 10**400)
           | st.floats() | st.text(max_size=12) | st.sampled_from(NASTY) | st.sampled_from(KEYS) | EMPTY)
KEY = st.sampled_from(KEYS) | st.text(max_size=8)


def _deep(depth: int, kind: int) -> object:
    value: object = 1.0
    for j in range(depth):
        value = [value] if (kind + j) % 2 else {"in_kb": value}
    return value


DEEP = st.builds(_deep, st.integers(1, 3000), st.integers(0, 1))
JSON = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(KEY, c, max_size=5),
                    max_leaves=25) | DEEP


def _obj(required: dict, optional: dict | None = None) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(required, optional=optional or {})


#: mostly plausible numbers (so that documents get deep), sometimes anything
PLAUSIBLE = st.floats(0, 1e4) | st.integers(0, 1000)


def _mostly(good: st.SearchStrategy, bad: st.SearchStrategy, one_in: int) -> st.SearchStrategy:
    """`good`, but `bad` once in `one_in` draws."""
    return st.integers(0, one_in - 1).flatmap(lambda k: bad if k == 0 else good)


NUM = _mostly(PLAUSIBLE, SCALARS, 25)
NAME = _mostly(st.text(max_size=6), SCALARS, 20)
LAYER = _obj({"type": _mostly(st.sampled_from(LAYER_TYPES), SCALARS, 20), "in_kb": NUM, "out_kb": NUM})
BLOCK = _obj({"in_kb": NUM, "out_kb": NUM, "layers": _mostly(st.lists(LAYER, min_size=1, max_size=3), JSON, 20)},
             {"name": NAME, "latency_ms": NUM, "energy_j": NUM, "exit_prob": _mostly(st.floats(0, 1), NUM, 4)})
TIER = _obj({"name": NAME, "d": NUM}, {"e": NUM})


def _tiers(k: int) -> st.SearchStrategy:
    return _mostly(st.lists(TIER, min_size=k, max_size=k), st.lists(TIER, max_size=4), 10)


LINK = _obj({"up_mbps": NUM, "down_mbps": NUM, "delay_ms": NUM})
EARLY = _obj({}, {"enabled": _mostly(st.booleans(), SCALARS, 10),
                  "num_classes": _mostly(st.integers(1, 1000), SCALARS, 10)})
D2D_COMMON = {"power": _obj({}, {"alpha_mw_per_mbps": NUM, "beta_mw": NUM}), "weights": _obj({}, {"energy": NUM}),
              "early_exit": EARLY}
MEC = _obj({"kind": st.just("mec"), "tiers": _tiers(3), "links": _obj({"te": LINK, "ec": LINK})},
           {"power": _obj({}, {"alpha_up_mw_per_mbps": NUM, "alpha_down_mw_per_mbps": NUM, "beta_mw": NUM}),
            "deploy_weights": _mostly(st.lists(NUM, min_size=3, max_size=3), JSON, 10),
            "weights": _obj({}, {"energy": NUM, "deploy": NUM}), "early_exit": EARLY})
D2D = _obj({"kind": st.just("d2d"), "tiers": _tiers(2), "link": _obj({"mbps": NUM, "delay_ms": NUM})}, D2D_COMMON)
POOL = _obj({"kind": st.just("d2d"), "tiers": _tiers(1),
             "collaborators": st.lists(_obj({"name": NAME, "d": NUM, "mbps": NUM, "delay_ms": NUM}), max_size=3)},
            D2D_COMMON)
#: documents shaped like instances, with the format's keys and mostly plausible values
SHAPED = _obj({"format": st.just(FORMAT), "blocks": st.lists(BLOCK, min_size=1, max_size=4),
               "scenario": MEC | D2D | POOL}, {"name": NAME})
DOCS = JSON | SHAPED


def check_error(exc: FieldError) -> None:
    text = str(exc)
    assert isinstance(exc.field, str) and exc.field, text
    assert text.startswith(f"{exc.field}: "), text
    assert len(text.splitlines()) == 1, text
    assert len(text) < 1000, text[:200]


def check_problem(p: Problem) -> None:
    """A valid problem scores every assignment to finite numbers and round-trips exactly."""
    assert isinstance(p, Problem) and p.n_blocks >= 1 and p.n_tiers in (2, 3)
    rng = np.random.default_rng(0)
    X = np.vstack([rng.integers(0, p.n_tiers, (16, p.n_blocks)),
                   *(p.fixed(t)[None, :] for t in range(p.n_tiers))])
    ev = p.evaluate(X)
    for values in (ev.latency_ms, ev.energy_j, ev.deploy, ev.cost):
        assert np.isfinite(values).all() and (values >= 0).all()
    again = problem_from_dict(json.loads(dumps_instance(p)))
    np.testing.assert_array_equal(again.evaluate(X).cost, ev.cost)


def outcome(doc: object) -> Problem | None:
    """The loader's outcome; anything but a Problem or a FieldError fails the test."""
    try:
        p = problem_from_dict(doc)
    except FieldError as exc:
        check_error(exc)
        return None
    check_problem(p)
    return p


# -- mutations of valid instances ------------------------------------------------------------
def _nodes(doc, max_depth: int = 8) -> list[tuple[tuple, object]]:
    """(path, node) of every node down to `max_depth` (a deep inserted value counts once)."""
    out, todo = [], [((), doc)]
    while todo:
        path, node = todo.pop()
        out.append((path, node))
        if len(path) < max_depth:
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            todo += [((*path, key), value) for key, value in items]
    return out


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _as_text(node: object) -> str:
    try:
        return str(node)[:100]
    except (RecursionError, ValueError):  # deep nesting, or an int beyond the digit limit
        return "text"


def _number_variants(x: float) -> list:
    return [-x, x * 1e300, x * 1e-300, 0, -0.0, int(x), str(x), [x], {"value": x}, True, x + 1e-9, 10**400, 2**53 + 1]


@st.composite
def mutated(draw) -> dict:
    """A valid instance of a random problem with 1-4 random edits."""
    p = random_problem(draw(st.integers(0, 2**31 - 1)), draw(st.integers(1, 5)),
                       kind=draw(st.sampled_from([None, "mec", "d2d"])), exits=draw(st.sampled_from([None, True])))
    doc = problem_to_dict(p)
    for _ in range(draw(st.integers(1, 4))):
        nodes = _nodes(doc)
        path, node = draw(st.sampled_from(nodes))
        op = draw(st.sampled_from(["delete", "replace", "insert", "number", "retype"]))
        if op == "delete" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif op == "insert" and isinstance(node, dict):
            node[draw(KEY)] = draw(JSON)
        elif op == "insert" and isinstance(node, list):
            node.insert(draw(st.integers(0, len(node))), draw(JSON))
        elif path:
            parent = _get(doc, path[:-1])
            if op == "number" and isinstance(node, float | int) and not isinstance(node, bool) and abs(node) < 1e300:
                value = draw(st.sampled_from(_number_variants(float(node))))
            elif op == "retype":
                value = draw(st.sampled_from([[node], {"value": node}, _as_text(node), None]))
            else:
                value = draw(JSON)
            parent[path[-1]] = value
    return doc


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(doc=DOCS)
def test_random_documents_load_or_name_a_field(doc):
    outcome(doc)


@FUZZ
@given(doc=mutated())
def test_mutated_instances_load_or_name_a_field(doc):
    outcome(doc)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 8))
def test_unmutated_instances_load(seed, n):
    assert outcome(problem_to_dict(random_problem(seed, n))) is not None


# -- files -------------------------------------------------------------------------------------
VALID_TEXT = dumps_instance(random_problem(3, 3, kind="mec", exits=True))


@st.composite
def file_bytes(draw) -> bytes:
    raw = VALID_TEXT.encode()
    kind = draw(st.sampled_from(["random", "truncated", "spliced", "bom", "utf16", "literal"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "truncated":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "spliced":  # bytes that are not UTF-8, or JSON breakers, somewhere inside valid text
        at = draw(st.integers(0, len(raw)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"}", b"NaN", b"1" * 5000])
                    | st.binary(min_size=1, max_size=8))
        return raw[:at] + junk + raw[at + draw(st.integers(0, 3)):]
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw
    if kind == "utf16":
        return VALID_TEXT.encode("utf-16")
    return draw(st.sampled_from([b"[" * 100_000, b'{"format": ' + b"9" * 5000 + b"}", b"", b"null", b"Infinity",
                                 b'{"format": "partition-instance/1", "blocks": [' + b"{}," * 1000 + b"{}]}"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=file_bytes())
def test_instance_files_load_or_name_a_field(data, tmp_path):
    path = tmp_path / "instance.json"
    path.write_bytes(data)
    try:
        p = load_instance(path)
    except FieldError as exc:
        check_error(exc)
        return
    check_problem(p)


# -- the crashes the fuzzing found, kept as cases ----------------------------------------------
BASE = problem_to_dict(random_problem(1, 4, kind="mec"))


def _edit(path, value):
    doc = json.loads(json.dumps(BASE))
    target = _get(doc, path[:-1])
    target[path[-1]] = value
    return doc


FOUND = [
    (("scenario", "kind"), [], "scenario.kind"),  # unhashable kind: TypeError
    (("blocks", 0, "in_kb"), 10**400, "blocks[0].in_kb"),  # int beyond float: OverflowError
    (("scenario", "early_exit"), {"enabled": True, "num_classes": 10**400}, "scenario.early_exit.num_classes"),
    (("blocks", 0, "name"), _deep(5000, 1), "blocks[0].name"),  # repr of deep nesting: RecursionError
    (("format",), _deep(5000, 0), "format"),
    (("scenario", "early_exit"), {"enabled": 10**5000}, "scenario.early_exit.enabled"),  # repr of a huge int
    (("blocks", 0, "a\nb"), 1, "blocks[0].'a\\nb'"),  # a key with a newline made a two-line error
    (("scenario", "links", "te", "up_mbps"), 5e-324, "scenario.links.te.up_mbps"),  # costs overflow to inf
    (("scenario", "links", "te", "up_mbps"), 1e-300, "scenario.links.te.up_mbps"),  # a sum that can overflow
    (("scenario", "tiers", 0, "d"), 1e308, "scenario.tiers[0].d"),
    (("scenario", "weights", "energy"), 1e308, "scenario.weights.energy"),
    (("blocks", 3, "out_kb"), 1e306, "blocks[3].out_kb"),  # the last output's return
]


@pytest.mark.parametrize(("path", "value", "field"), FOUND)
def test_found_crashes_are_field_errors(path, value, field):
    with pytest.raises(FieldError) as err:
        problem_from_dict(_edit(path, value))
    assert err.value.field == field
    check_error(err.value)


@pytest.mark.parametrize("data", [b'{"format": ' + b"9" * 5000 + b"}", b"[" * 100_000, b'{"a": "\xff"}'])
def test_unreadable_files_are_field_errors(data, tmp_path):
    (tmp_path / "x.json").write_bytes(data)
    with pytest.raises(FieldError) as err:
        load_instance(tmp_path / "x.json")
    assert err.value.field == "instance"
    check_error(err.value)


@pytest.mark.parametrize("path", ["a\0b", "x" * 5000, "."])
def test_bad_paths_are_short_field_errors(path):
    with pytest.raises(FieldError) as err:
        load_instance(path)
    check_error(err.value)


def test_large_values_below_the_overflow_still_load():
    p = outcome(_edit(("blocks", 3, "out_kb"), 1e250))
    assert p is not None and p.score(p.fixed(1))["cost"] > 1e240


# -- the configuration groups (the same strict reading, from YAML and the command line) --------
CONFIG_KEYS = ["device", "edge", "cloud", "power", "deploy_weights", "weights", "early_exit", "collaborator",
               "collaborator_d", "collaborators", "d", "e", "energy", "deploy", "enabled", "num_classes",
               "threshold", "seed", "name", "mbps", "delay_ms", "scale", "bandwidth", "delay", "beta_mw"]
CONFIG_KEY = st.sampled_from(CONFIG_KEYS) | st.text(max_size=5)
CONFIG_VALUE = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(CONFIG_KEY, c, max_size=4),
                            max_leaves=12)
CONFIG = st.dictionaries(CONFIG_KEY, CONFIG_VALUE, max_size=5)


@settings(max_examples=150, deadline=None)
@given(scenario=CONFIG, network=CONFIG, kind=st.sampled_from(["mec", "d2d"]))
def test_config_groups_build_or_name_a_field(scenario, network, kind):
    try:
        p = build_problem({"name": "alexnet"}, {**scenario, "kind": kind}, network)
    except FieldError as exc:
        check_error(exc)
        return
    check_problem(p)


def test_config_scenario_kind_of_a_wrong_type_is_a_field_error():
    with pytest.raises(FieldError):
        build_problem({"name": "alexnet"}, {"kind": ["mec"]}, {})


def test_config_values_whose_costs_overflow_are_field_errors():
    with pytest.raises(FieldError):
        build_problem({"name": "alexnet"}, {"kind": "mec", "weights": {"energy": 1e308}}, {})
