"""Step handling shared by every schedule.

Steps stay integers for as long as possible: float32 holds integers exactly only up to 2**24, so a
phase such as ``step % period`` computed on floats would be off by hundreds of steps near 2**31.
Every schedule therefore splits the step into whole periods and a remainder on integers and
converts only the (small) remainder, which keeps float32 results within float rounding of a
float64 evaluation at any int32 step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched.core._base import MAX_STEP, hyperparam_dtype
from jaxsched.core._validation import check_int, check_number, check_takes_the_step


def as_step(step: Any) -> jax.Array:
    """``step`` as an int32 array in ``[0, MAX_STEP]``: the one rule every schedule applies to its step.

    Any integer type is accepted. Values beyond int32 saturate at ``MAX_STEP`` (as the optimizers'
    step counters do) instead of wrapping, narrow types (int8, uint16, ...) are widened before the
    schedule's own periods are applied, and negative steps count as step 0.
    """
    if not isinstance(step, jax.Array):
        host = np.asarray(step)
        if not np.issubdtype(host.dtype, np.integer):
            raise TypeError(f"a schedule's step must be an integer (or integer array), got {step!r}")
        return jnp.asarray(np.clip(host, 0, MAX_STEP).astype(np.int32))
    if not jnp.issubdtype(step.dtype, jnp.integer):
        raise TypeError(f"a schedule's step must be an integer (or integer array), got dtype {step.dtype}")
    if jnp.iinfo(step.dtype).max > MAX_STEP:  # int64 under x64, uint32, uint64
        step = jnp.minimum(step, MAX_STEP)
    return jnp.maximum(step.astype(jnp.int32), 0)


def as_float(value: Any) -> jax.Array:
    """A float constructor parameter as an array in the default float dtype (kept traceable for grad)."""
    return jnp.asarray(value, dtype=hyperparam_dtype())


def to_float(step: jax.Array) -> jax.Array:
    return step.astype(hyperparam_dtype())


def split(step: jax.Array, period: int) -> tuple[jax.Array, jax.Array]:
    """``(step // period, step % period)``; a period beyond the int32 step range is never completed."""
    if period > MAX_STEP:
        return jnp.zeros_like(step), step
    return step // period, step % period


def ratio(step: jax.Array, period: int) -> jax.Array:
    """``step / period`` as a float, exact up to one rounding even where ``step`` exceeds 2**24."""
    periods, remainder = split(step, period)
    return to_float(periods) + to_float(remainder) / float(period)


def position(step: jax.Array, period: int) -> jax.Array:
    """Fraction of the current period that has elapsed, ``(step mod period) / period`` in ``[0, 1)``."""
    return to_float(split(step, period)[1]) / float(period)


def check_step_count(name: str, value: Any, *, low: int = 0) -> int:
    """A number of steps: an integer in ``[low, MAX_STEP]`` (a step counter never gets further)."""
    return check_int(name, value, low=low, high=MAX_STEP)


def safe_divide(numerator: jax.Array, denominator: jax.Array, if_zero: float) -> jax.Array:
    """``numerator / denominator``, ``if_zero`` where the denominator is 0 (also keeps gradients finite)."""
    is_zero = denominator == 0
    return jnp.where(is_zero, if_zero, numerator / jnp.where(is_zero, 1.0, denominator))


# --- construction-time checks for arguments that are not plain numbers ---------------------------


def check_steps(
    name: str, value: Any, *, low: int | None = None, strict: bool = True, sort: bool = False
) -> tuple[int, ...]:
    """A sequence of integer steps, increasing (``strict``) or non-decreasing; returned as a tuple.

    With ``sort`` any order is accepted and the steps are returned sorted.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of integers, got {value!r}")
    steps = tuple(check_int(f"{name}[{i}]", v, low=low, high=MAX_STEP) for i, v in enumerate(value))
    if sort:
        steps = tuple(sorted(steps))
    for i in range(1, len(steps)):
        if steps[i] < steps[i - 1] or (strict and steps[i] == steps[i - 1]):
            order = "strictly increasing" if strict else "non-decreasing"
            raise ValueError(f"{name} must be {order}, got {list(steps)}")
    return steps


def check_values(name: str, value: Any, length: int, length_text: str) -> tuple[Any, ...]:
    """A sequence of ``length`` finite numbers (or traced values)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, jax.Array)):
        raise TypeError(f"{name} must be a sequence of numbers, got {value!r}")
    values = tuple(value)
    if len(values) != length:
        raise ValueError(f"{name} must have {length_text} = {length} entries, got {len(values)}: {list(values)!r}")
    for i, v in enumerate(values):
        check_number(f"{name}[{i}]", v, allow_schedule=False)
    return values


def check_callable(name: str, value: Any) -> None:
    """A function of one argument (checked where Python can tell its signature)."""
    if not callable(value):
        raise TypeError(f"{name} must be a function step -> value, got {value!r} of type {type(value).__name__}")
    check_takes_the_step(name, value)


def check_real(name: str, value: Any) -> None:
    """A finite real number of any sign (not a schedule)."""
    check_number(name, value, allow_schedule=False)
