"""partbench problems: DNN partition instances and their exact scoring (spec v1)."""

from problems.errors import FieldError, ProblemError
from problems.problem import Evaluation, Problem

__all__ = ["Evaluation", "FieldError", "Problem", "ProblemError"]
