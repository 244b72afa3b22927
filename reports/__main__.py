"""`python -m reports PATH [PATH...] [-o report.html]`: one report from sweep directories
(every `result.json` below them) and/or results CSV files; a `python -m testbed` run
directory (it holds `testbed.json`) adds its "Testbed" section.

The report goes to `-o`, else beside the input when there is a single sweep directory
(`<dir>/report.html`), else to `report.html` in the current directory. A bad path is
one line on stderr and exit status 2; nothing is written then. The report never
overwrites what it reads: an output that is one of the input files, or that lies inside
an input sweep folder under any name but `report.html`, is refused.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from problems.errors import FieldError, ProblemError
from problems.text import clean, error_line
from reports.build import REPORT_NAME, build_report
from reports.collect import Collected, read_paths, to_frame
from reports.testbed import is_testbed_dir


def default_output(paths: list[str]) -> Path:
    if len(paths) == 1 and Path(paths[0]).is_dir():
        return Path(paths[0]) / REPORT_NAME
    return Path(REPORT_NAME)


def check_output(paths: list[str], output: Path) -> None:
    """Refuse an output that would overwrite an input (a CSV, a job's result.json)."""
    target = output.expanduser().resolve()
    for raw in paths:
        source = Path(raw).expanduser().resolve()
        if target == source:
            raise FieldError("--output", "is one of the input files; choose another file", str(output))
        if source.is_dir() and target.is_relative_to(source) and target.name != REPORT_NAME:
            raise FieldError("--output", f"inside the input folder {str(raw)!r} a report may only be named "
                             f"{REPORT_NAME}", str(output))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="sweep directory or results CSV file")
    parser.add_argument("-o", "--output", type=Path, help="the report file to write")
    args = parser.parse_args(argv)
    output = args.output or default_output(args.paths)
    t0 = time.perf_counter()
    runs = tuple(Path(p).expanduser() for p in args.paths if is_testbed_dir(Path(p).expanduser()))
    sweeps = [p for p in args.paths if not is_testbed_dir(Path(p).expanduser())]
    try:
        check_output(args.paths, output)
        collected = read_paths(sweeps) if sweeps else Collected(to_frame([]), [str(r) for r in runs])
        if output.exists() and output.is_dir():
            raise ProblemError(f"--output: is a directory (got {str(output)!r})")
        path = build_report(collected, output, runs)
    except ProblemError as exc:
        print(error_line(exc), file=sys.stderr, flush=True)
        return 2
    except OSError as exc:
        print(f"error: {clean(exc.filename or output)}: {exc.strerror or clean(exc)}", file=sys.stderr, flush=True)
        return 2
    testbed_runs = f", {len(runs)} testbed run{'s' if len(runs) != 1 else ''}" if runs else ""
    print(f"report: {path}  ({len(collected.frame)} jobs{testbed_runs}, {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
