"""Errors the problem layer raises for bad input.

Every validation error names the offending field with a dotted path and shows the
value, so that a user reading one line knows what to fix.
"""

from __future__ import annotations


class ProblemError(ValueError):
    """Base error for invalid problems, instances and configurations."""


class FieldError(ProblemError):
    """A field holds a bad value; the message names the field and the value."""

    def __init__(self, field: str, message: str, value: object = None, *, show_value: bool = True):
        self.field = field
        self.value = value
        self.message = message
        text = f"{field}: {message}"
        if show_value:
            text += f" (got {value!r})"
        super().__init__(text)
