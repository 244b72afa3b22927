"""The testbed's one error type: a failure of the live system, printed as one line."""

from __future__ import annotations

from problems.errors import ProblemError


class TestbedError(ProblemError):
    """The browser, a worker, a link or a request failed; the message says which and why."""

    __test__ = False  # not a pytest test class
