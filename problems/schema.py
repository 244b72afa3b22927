"""Strict mapping -> dataclass conversion: a typo or a bad value fails with one line.

Used for solver configs, Hydra config groups and anything else read from YAML or
the command line. Errors are `FieldError`s naming the dotted key and the value.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from problems.errors import FieldError

T = TypeVar("T")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]{1,40}")


def short(value: Any) -> Any:
    """The value itself if its repr is short, else a truncated repr: an error shows any
    value (deeply nested, a huge integer, a megabyte of text) on one short line."""
    try:
        text = repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply>"
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"<{type(value).__name__} too large to print>"
    return value if len(text) <= 60 else text[:57] + "..."


def key_text(key: Any) -> str:
    """A key as it appears in a field path: plain keys as they are, others quoted and short,
    so that a key with a newline or a megabyte of text still gives a one-line error."""
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return key
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Bound:
    """Limits of a number, each with one wording everywhere: "must be > 0", "must be >= 0",
    "must be <= 1", "must be < 1"."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    lt: float | None = None

    def check(self, key: str, value: Any) -> None:
        """Raise a FieldError naming `key` if `value` (a number, or None: passes) is out of bounds."""
        if value is None:
            return
        if self.gt is not None and not value > self.gt:
            self._fail(key, ">", self.gt, value)
        if self.ge is not None and not value >= self.ge:
            self._fail(key, ">=", self.ge, value)
        if self.le is not None and not value <= self.le:
            self._fail(key, "<=", self.le, value)
        if self.lt is not None and not value < self.lt:
            self._fail(key, "<", self.lt, value)

    @staticmethod
    def _fail(key: str, sign: str, limit: float, value: Any) -> None:
        raise FieldError(key, f"must be {sign} {limit:g}", short(value))


POSITIVE = Bound(gt=0)
NON_NEGATIVE = Bound(ge=0)


def bounded(default: Any = dataclasses.MISSING, *, gt: float | None = None, ge: float | None = None,
            le: float | None = None, lt: float | None = None, **kwargs: Any) -> Any:
    """A dataclass field whose bounds `from_mapping` enforces (declared once, in the schema)."""
    return dataclasses.field(default=default, metadata={"bound": Bound(gt, ge, le, lt)}, **kwargs)


def check_bounds(obj: Any, prefix: str) -> None:
    """Enforce every `bounded` field of dataclass `obj`, naming `prefix.field`."""
    for f in dataclasses.fields(obj):
        bound = f.metadata.get("bound")
        if bound is None:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, list | tuple):
            for j, v in enumerate(value):
                bound.check(f"{prefix}.{f.name}[{j}]", v)
        else:
            bound.check(f"{prefix}.{f.name}", value)


def require(prefix: str, obj: Any, positive: tuple[str, ...] = (), non_negative: tuple[str, ...] = ()) -> None:
    """Bounds of config fields (null fields pass): `positive` > 0, `non_negative` >= 0."""
    for key in positive:
        POSITIVE.check(f"{prefix}.{key}", getattr(obj, key))
    for key in non_negative:
        NON_NEGATIVE.check(f"{prefix}.{key}", getattr(obj, key))


def finite_number(value: Any, key: str) -> float:
    """`value` as a finite float (JSON and YAML numbers; booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(key, "must be a number", short(value))
    try:
        value = float(value)
    except OverflowError:  # an integer beyond the float range
        raise FieldError(key, "must be finite (too large for a float)", short(value)) from None
    if not math.isfinite(value):
        raise FieldError(key, "must be finite", short(value))
    return value


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except FieldError as exc:
                errors.append(exc)
        raise errors[0] if errors else FieldError(key, "must not be null", short(value))
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise FieldError(key, f"must be one of {list(typing.get_args(tp))}", short(value))
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_mapping(tp, value, key)
    if origin in (tuple, list):
        if isinstance(value, str) or not isinstance(value, typing.Sequence | list | tuple):
            try:
                value = list(value)  # OmegaConf ListConfig
            except TypeError:
                raise FieldError(key, "must be a list", short(value)) from None
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise FieldError(key, f"must have {len(args)} entries", short(list(value)))
            return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise FieldError(key, "must be a mapping", short(value))
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise FieldError(key, "must be true or false", short(value))
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise FieldError(key, "must be an integer", short(value))
        return value
    if tp is float:
        return finite_number(value, key)
    if tp is str:
        if not isinstance(value, str):
            raise FieldError(key, "must be a string", short(value))
        return value
    return value


def from_mapping(cls: type[T], data: Mapping | None, prefix: str) -> T:
    """Build dataclass `cls` from `data`; unknown keys and bad values name `prefix.key`."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        try:
            data = dict(data)
        except (TypeError, ValueError):
            raise FieldError(prefix, "must be a mapping", short(data)) from None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise FieldError(f"{prefix}.{key_text(key)}", f"unknown key; expected one of {sorted(fields)}",
                             short(data[key]))
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _coerce(data[name], hints[name], f"{prefix}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise FieldError(f"{prefix}.{name}", "missing required key", None, show_value=False)
    obj = cls(**kwargs)
    check_bounds(obj, prefix)
    check = getattr(obj, "validate", None)
    if callable(check):
        check(prefix)
    return obj
