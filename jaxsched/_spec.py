"""Safe parsing of schedule specs such as ``"warmup(cosine_decay(0.1, 1000), 100)"``.

Only calls of ``js.schedules`` functions with literal arguments (numbers, strings, booleans,
``None``, lists/tuples of those, and nested schedule calls) are accepted. The text is parsed with
``ast`` and walked node by node; nothing is ever evaluated, imported or looked up by attribute.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

MAX_SPEC_LENGTH = 2000
MAX_DEPTH = 20
MAX_MAGNITUDE = 1e15
# Schedules whose arguments can be written as literals (lambda_lr/multiplicative take functions,
# noisy_linear_cosine_decay a PRNG key).
_EXCLUDED = {"lambda_lr", "multiplicative", "noisy_linear_cosine_decay"}


class SpecError(ValueError):
    """A schedule spec that is not a literal call of a jaxsched schedule."""


def allowed_schedules() -> dict[str, Callable[..., Any]]:
    from jaxsched import schedules

    return {name: getattr(schedules, name) for name in schedules.__all__ if name not in _EXCLUDED}


def _literal(node: ast.AST, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise SpecError(f"spec is nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        value = node.value
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and (abs(value) > MAX_MAGNITUDE or (isinstance(value, float) and not math.isfinite(value)))
        ):
            raise SpecError(f"number {value!r} is out of range (|x| <= {MAX_MAGNITUDE:g}, finite)")
        return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _literal(node.operand, depth + 1)
        if isinstance(operand, bool) or not isinstance(operand, (int, float)):
            raise SpecError("a sign may only precede a number")
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(item, depth + 1) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Call):
        return _call(node, depth + 1)
    raise SpecError(f"{type(node).__name__} is not allowed in a schedule spec (only literals and schedule calls)")


def _call(node: ast.Call, depth: int) -> Any:
    allowed = allowed_schedules()
    if not isinstance(node.func, ast.Name) or node.func.id not in allowed:
        name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
        raise SpecError(f"{name!r} is not a schedule; allowed: {', '.join(sorted(allowed))}")
    if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        raise SpecError("*args and **kwargs are not allowed in a schedule spec")
    args = [_literal(a, depth) for a in node.args]
    kwargs = {str(k.arg): _literal(k.value, depth) for k in node.keywords}
    try:
        return allowed[node.func.id](*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise SpecError(f"{node.func.id}(...): {error}") from None


def parse_schedule(spec: str) -> Callable[[Any], Any]:
    """Build the schedule a spec string describes, e.g. ``parse_schedule("step_decay(0.1, 30)")``.

    Raises :class:`SpecError` (a ``ValueError``) for anything but a literal schedule call.
    """
    if not isinstance(spec, str):
        raise SpecError(f"spec must be a string, got {type(spec).__name__}")
    if len(spec) > MAX_SPEC_LENGTH:
        raise SpecError(f"spec is longer than {MAX_SPEC_LENGTH} characters")
    try:
        tree = ast.parse(spec.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise SpecError(f"spec is not a valid expression: {type(error).__name__}: {error}") from None
    if not isinstance(tree.body, ast.Call):
        raise SpecError("spec must be a schedule call such as cosine_decay(0.1, 1000)")
    return _call(tree.body, 0)
