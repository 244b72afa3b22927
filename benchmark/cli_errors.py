"""Bad command lines get one line, as every other bad input does.

Hydra reports a config-composition error (an unknown option of a config group, an
unknown key, an unparsable override, an output folder it cannot create) over several
lines with a hint about HYDRA_FULL_ERROR. Here Hydra re-raises instead, and the error
becomes one line on stderr naming the key and the value, with exit status 2.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from problems.overrides import parse_override
from problems.text import error_line as plain_error_line

USAGE_ERROR = 2
SCHEMA_SUFFIX = "_schema"  # the ConfigStore entries conf/ extends (benchmark.schemas), not options to choose
#: OmegaConf's type-check messages -> the wording of `problems.schema`
TYPE_MESSAGES = (
    (r"could not be converted to Integer", "must be an integer"),
    (r"could not be converted to Float", "must be a number"),
    (r"is not a valid bool", "must be true or false"),
    (r"is not a ListConfig, list or tuple", "must be a list"),
    (r"is not a subclass of|is not a DictConfig|Invalid type assigned", "must be a mapping"),
)


def _value_of(key: str, argv: list[str]) -> str | None:
    for arg in argv:
        override = parse_override(arg)
        if override.has_value and override.key == key:
            return override.value
    return None


def one_line(exc: BaseException, argv: list[str]) -> str:
    """The error as `field: message (got value)`."""
    text = str(exc)
    cause = str(exc.__cause__ or "")
    found = re.search(r"Could not find '([^'/]+)/([^']*)'", text)
    if found:
        group, option = found.groups()
        options = [o for o in re.findall(r"^\t(\S+)$", text, flags=re.M) if not o.endswith(SCHEMA_SUFFIX)]
        choose = f"; choose one of {options}" if options else ""
        return f"{group}: unknown option{choose} (got {option!r})"
    missing = re.search(r"Key '([^']+)' (is )?not in", text + "\n" + cause)
    override = re.search(r"Could not override '([^']+)'", text)
    if override and missing:
        key = override.group(1)
        return f"{key}: unknown key (got {_value_of(key, argv)!r})"
    typed = _type_error(text + "\n" + cause, argv)
    if typed:
        return typed
    if isinstance(exc, OSError) and exc.filename:
        return f"output folder: {exc.strerror or 'cannot be written'} (got {str(exc.filename)!r})"
    lines = [line.strip() for line in (text + "\n" + cause).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def _type_error(text: str, argv: list[str]) -> str | None:
    """A value of the wrong type for a schema field, as `key: must be ... (got value)`."""
    key = re.search(r"full_key: (\S+)", text)
    if not key:
        return None
    for pattern, message in TYPE_MESSAGES:
        if re.search(pattern, text):
            value = re.search(r"Value '([^']*)'", text)
            base = re.sub(r"\[\d+\]$", "", key.group(1))
            got = value.group(1) if value else _value_of(base, argv)
            return f"{key.group(1)}: {message} (got {got!r})"
    return None


def error_line(exc: BaseException, argv: list[str] | None = None) -> str:
    """The one line `python -m benchmark` prints for bad input, cleaned: a field error from
    the job, or a configuration or command-line error from Hydra, which says it over
    several lines (`one_line` names the key instead). Anything else is no bad input."""
    from problems.errors import ProblemError

    argv = sys.argv[1:] if argv is None else argv
    if isinstance(exc, HydraException | OmegaConfBaseException) or (isinstance(exc, OSError) and exc.filename):
        return plain_error_line(RuntimeError(one_line(exc, argv)))
    if isinstance(exc, ProblemError):
        return plain_error_line(exc)
    raise exc


def run_cli(main: Callable[[], None], argv: list[str] | None = None) -> None:
    """Run a Hydra main; configuration and command-line errors become one line."""
    argv = sys.argv[1:] if argv is None else argv
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except (HydraException, OmegaConfBaseException) as exc:
        print(error_line(exc, argv), file=sys.stderr, flush=True)
        sys.exit(USAGE_ERROR)
    except OSError as exc:  # an output folder that cannot be created or written
        if not exc.filename:
            raise
        print(error_line(exc, argv), file=sys.stderr, flush=True)
        sys.exit(USAGE_ERROR)
