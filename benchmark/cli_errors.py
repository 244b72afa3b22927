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

USAGE_ERROR = 2


def _value_of(key: str, argv: list[str]) -> str | None:
    for arg in argv:
        name, sep, value = arg.lstrip("+~").partition("=")
        if sep and name == key:
            return value
    return None


def one_line(exc: BaseException, argv: list[str]) -> str:
    """The error as `field: message (got value)`."""
    text = str(exc)
    cause = str(exc.__cause__ or "")
    found = re.search(r"Could not find '([^'/]+)/([^']*)'", text)
    if found:
        group, option = found.groups()
        options = re.findall(r"^\t(\S+)$", text, flags=re.M)
        choose = f"; choose one of {options}" if options else ""
        return f"{group}: unknown option{choose} (got {option!r})"
    missing = re.search(r"Key '([^']+)' is not in struct", cause) or re.search(r"Key '([^']+)' not in", text)
    override = re.search(r"Could not override '([^']+)'", text)
    if override and missing:
        key = override.group(1)
        return f"{key}: unknown key (got {_value_of(key, argv)!r})"
    if isinstance(exc, OSError) and exc.filename:
        return f"output folder: {exc.strerror or 'cannot be written'} (got {str(exc.filename)!r})"
    lines = [line.strip() for line in (text + "\n" + cause).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def run_cli(main: Callable[[], None], argv: list[str] | None = None) -> None:
    """Run a Hydra main; configuration and command-line errors become one line."""
    argv = sys.argv[1:] if argv is None else argv
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except (HydraException, OmegaConfBaseException) as exc:
        print(f"error: {one_line(exc, argv)}", file=sys.stderr, flush=True)
        sys.exit(USAGE_ERROR)
    except OSError as exc:  # an output folder that cannot be created or written
        if not exc.filename:
            raise
        print(f"error: {one_line(exc, argv)}", file=sys.stderr, flush=True)
        sys.exit(USAGE_ERROR)
