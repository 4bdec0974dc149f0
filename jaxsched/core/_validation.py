"""Construction-time argument checks. Every message names the argument, the value and the allowed range."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.core import Tracer

from jaxsched.core._base import hyperparam_dtype


def is_schedule(value: Any) -> bool:
    return callable(value)


def check_takes_the_step(what: str, schedule: Any) -> None:
    """``schedule`` must take one positional argument, the step (checked where Python can tell its signature)."""
    try:
        inspect.signature(schedule).bind(0)
    except TypeError:
        raise TypeError(f"{what} must take one argument, the step; got {schedule!r}") from None
    except ValueError:  # no signature to inspect (some builtins): the first call will tell
        pass


def _as_real(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    if np.ndim(value) != 0:
        raise TypeError(f"{name} must be a real number (a scalar), got {value!r} of shape {np.shape(value)}")
    try:
        return float(value)  # Python and numpy numbers, concrete scalar jax arrays
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got an integer of {len(str(value))} digits") from None
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}") from None


def range_text(low: float | None, high: float | None, low_inclusive: bool = True, high_inclusive: bool = True) -> str:
    left = "(-inf" if low is None else ("[" if low_inclusive else "(") + f"{low:g}"
    right = "inf)" if high is None else f"{high:g}" + ("]" if high_inclusive else ")")
    return f"{left}, {right}"


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_schedule: bool = True,
) -> None:
    """Check a finite float hyperparameter in a range (or accept a schedule when ``allow_schedule``).

    Raises ``TypeError`` for non-numbers and ``ValueError`` for NaN, infinities and out-of-range values.
    """
    if (allow_schedule and is_schedule(value)) or isinstance(value, Tracer):
        return  # a traced value (schedule built under jit/grad/vmap) cannot be checked here
    x = _as_real(name, value)
    too_low = low is not None and (x < low or (x == low and not low_inclusive))
    too_high = high is not None and (x > high or (x == high and not high_inclusive))
    if not math.isfinite(x) or too_low or too_high:
        raise ValueError(
            f"{name} must be a finite number in {range_text(low, high, low_inclusive, high_inclusive)}, got {value!r}"
        )
    largest = float(jnp.finfo(hyperparam_dtype()).max)
    if abs(x) > largest:
        # hyperparameters are stored in float32 unless jax_enable_x64 is on: beyond its range they become inf
        raise ValueError(
            f"{name} must be at most {largest:g} in magnitude (the {hyperparam_dtype()} range), got {value!r}"
        )


def check_nonnegative(name: str, value: Any, *, allow_schedule: bool = True) -> None:
    check_number(name, value, low=0.0, allow_schedule=allow_schedule)


def check_positive(name: str, value: Any, *, allow_schedule: bool = True) -> None:
    check_number(name, value, low=0.0, low_inclusive=False, allow_schedule=allow_schedule)


def check_unit_interval(name: str, value: Any, *, allow_schedule: bool = True) -> None:
    """``0 <= value < 1`` (torch's check for betas, rho-like decay rates)."""
    check_number(name, value, low=0.0, high=1.0, high_inclusive=False, allow_schedule=allow_schedule)


def check_tuple(name: str, value: Any, length: int, noun: str) -> tuple[Any, ...]:
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise TypeError(f"{name} must be a {noun} (a tuple of {length} values), got {value!r}")
    return tuple(value)


def check_pair(name: str, value: Any) -> tuple[Any, Any]:
    return check_tuple(name, value, 2, "pair")


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python int in ``[low, high]`` (either end optional): integers, and floats with an
    integral value (``22.0``, as optax accepts).

    Step counts are often computed as ``warmup_epochs * steps_per_epoch``, which is a float when
    either factor is; ``22.5`` steps is refused rather than rounded.
    """
    integral_float = isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()
    if isinstance(value, (bool, np.bool_)) or not (isinstance(value, numbers.Integral) or integral_float):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = [f"{sign} {bound}" for sign, bound in ((">=", low), ("<=", high)) if bound is not None]
        raise ValueError(f"{name} must be an integer {' and '.join(bounds)}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_transformation(name: str, value: Any) -> None:
    """``value`` has callable ``init`` and ``update`` (a jaxsched or optax transformation)."""
    if not (callable(getattr(value, "init", None)) and callable(getattr(value, "update", None))):
        raise TypeError(f"{name} must be a GradientTransformation (init, update), got {value!r}")


# The ranges torch's constructors enforce, by hyperparameter name: set_hyperparams checks concrete
# values against them (constructors check their own arguments, sometimes more strictly).
HYPERPARAMETER_RANGES: dict[str, dict[str, Any]] = {
    "learning_rate": dict(low=0.0),
    "weight_decay": dict(low=0.0),
    "eps": dict(low=0.0),
    "momentum": dict(low=0.0),
    "dampening": dict(low=0.0),
    "lr_decay": dict(low=0.0),
    "initial_accumulator_value": dict(low=0.0),
    "momentum_decay": dict(low=0.0),
    "lambd": dict(low=0.0),
    "alpha": dict(low=0.0),
    "t0": dict(low=0.0),
    "rho": dict(low=0.0, high=1.0),
    "betas": dict(low=0.0, high=1.0, high_inclusive=False),
    "step_sizes": dict(low=0.0),
    "max_norm": dict(low=0.0),
    "max_delta": dict(low=0.0),
    "tolerance_grad": dict(low=0.0),
    "tolerance_change": dict(low=0.0),
}


def check_hyperparameter_value(name: str, value: Any) -> None:
    """A value for ``set_hyperparams``: a finite real scalar, in torch's range for that name where known.

    ``name`` may carry an index (``betas[1]``); traced values pass unchecked.
    """
    if isinstance(value, Tracer):
        if jnp.ndim(value) != 0:
            raise TypeError(f"{name} must be a scalar, got a traced array of shape {jnp.shape(value)}")
        return
    if value is None or callable(value):
        raise TypeError(f"{name} must be a real number, got {value!r}; schedules can only be given at construction")
    check_number(name, value, allow_schedule=False, **HYPERPARAMETER_RANGES.get(name.split("[")[0], {}))


def is_zero(value: Any) -> bool:
    """True for a literal zero (a schedule or any nonzero number is not)."""
    return not is_schedule(value) and not isinstance(value, Tracer) and float(value) == 0.0
