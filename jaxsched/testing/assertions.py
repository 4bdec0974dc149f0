"""Assertions for tests of schedule and optimizer math (chex-style; no hypothesis needed).

Each raises ``AssertionError`` with a message that says where the property fails (the step, the
path in the pytree), so a failing property test is easy to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched.core._base import first_difference

Steps = Any  # a count n (steps 0..n-1) or an explicit sequence/array of steps


def _steps(steps: Any) -> np.ndarray:
    return np.arange(steps) if np.ndim(steps) == 0 else np.asarray(steps)


def _values(schedule: Callable, steps: np.ndarray) -> np.ndarray:
    return np.asarray(schedule(jnp.asarray(steps)), np.float64)


def assert_schedule_bounded(schedule: Callable, lo: float, hi: float, steps: Steps, *, atol: float = 1e-6) -> None:
    """Every ``schedule(step)`` lies in ``[lo - atol, hi + atol]`` (``steps``: a count or the steps)."""
    steps = _steps(steps)
    values = _values(schedule, steps)
    bad = np.nonzero(~((values >= lo - atol) & (values <= hi + atol)))[0]
    if bad.size:
        i = bad[0]
        raise AssertionError(
            f"schedule({int(steps[i])}) = {values[i]:.9g} is outside [{lo}, {hi}] ({bad.size} steps are)"
        )


def assert_schedule_monotone(schedule: Callable, steps: Steps, increasing: bool = False, *, atol: float = 1e-7) -> None:
    """``schedule`` never increases (or, with ``increasing=True``, never decreases) over ``steps``."""
    steps = _steps(steps)
    values = _values(schedule, steps)
    diffs = np.diff(values) if increasing else -np.diff(values)
    bad = np.nonzero(diffs < -atol)[0]
    if bad.size:
        i = bad[0]
        direction = "decreases" if increasing else "increases"
        raise AssertionError(
            f"schedule {direction} from step {int(steps[i])} ({values[i]:.9g}) to step {int(steps[i + 1])} ({values[i + 1]:.9g})"
        )


def assert_schedule_periodic(
    schedule: Callable, period: int, steps: Steps, *, rtol: float = 1e-5, atol: float = 1e-7
) -> None:
    """``schedule(s) == schedule(s + period)`` for every ``s`` in ``steps``."""
    steps = _steps(steps)
    values, shifted = _values(schedule, steps), _values(schedule, steps + period)
    bad = np.nonzero(~np.isclose(values, shifted, rtol=rtol, atol=atol))[0]
    if bad.size:
        s = int(steps[bad[0]])
        raise AssertionError(
            f"schedule({s}) = {values[bad[0]]:.9g} but schedule({s + period}) = {shifted[bad[0]]:.9g} (period {period})"
        )


def assert_continuous_at(
    schedule: Callable, boundaries: Iterable[int], *, rtol: float = 1e-3, atol: float = 1e-7
) -> None:
    """No jump at each boundary ``b``: ``|f(b) - f(b-1)|`` is at most the larger neighbouring step change.

    A schedule of integer steps changes a little every step; a join or warmup is continuous when the
    change across the boundary is no bigger than the changes just before and after it (plus tolerance).
    A boundary below 2 has no change before it to compare with (negative steps count as step 0), so
    it is not judged.
    """
    for b in boundaries:
        if b < 2:
            continue
        f = _values(schedule, np.array([b - 2, b - 1, b, b + 1]))
        jump = abs(f[2] - f[1])
        neighbours = max(abs(f[1] - f[0]), abs(f[3] - f[2]))
        if jump > neighbours * (1 + rtol) + atol:
            raise AssertionError(
                f"schedule jumps at boundary {b}: f({b - 1}) = {f[1]:.9g}, f({b}) = {f[2]:.9g} "
                f"(neighbouring changes are at most {neighbours:.9g})"
            )


def assert_no_recompile(fn: Callable, *args_variants: Sequence[Any]) -> None:
    """``jax.jit(fn)`` traces once for all ``args_variants`` (tuples of arguments of equal shapes/dtypes).

    Example::

        assert_no_recompile(train_step, (params, state_lr_1e3), (params, state_lr_1e4))
    """
    traces = []

    def counted(*args):
        traces.append(None)
        return fn(*args)

    jitted = jax.jit(counted)
    for args in args_variants:
        jax.block_until_ready(jitted(*args))
    if len(traces) > 1:
        raise AssertionError(
            f"{getattr(fn, '__name__', 'fn')} was traced {len(traces)} times for {len(args_variants)} calls"
        )


def assert_trees_close(actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-12) -> None:
    """Same structure, shapes and dtypes, and leaves close; the message names the first differing path."""
    difference = first_difference(actual, expected)
    if difference:
        raise AssertionError(f"trees differ: {difference}")
    for (path, a), e in zip(jax.tree_util.tree_flatten_with_path(actual)[0], jax.tree.leaves(expected)):
        a64, e64 = np.asarray(a, np.float64), np.asarray(e, np.float64)
        close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
        if not np.all(close):
            index = tuple(int(i) for i in np.unravel_index(np.argmin(close), close.shape))
            raise AssertionError(
                f"trees differ at {jax.tree_util.keystr(path)}{list(index) if index else ''}: "
                f"{float(a64[index])} vs {float(e64[index])} (rtol={rtol}, atol={atol}; "
                f"{int(np.size(close) - np.sum(close))} elements differ)"
            )
