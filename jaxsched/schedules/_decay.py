"""Monotone decays: constant, linear, step, multistep, exponential, polynomial, inverse time,
natural exponential, inverse square root, and piecewise constant / linear interpolation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxsched.core._base import Schedule
from jaxsched.core._validation import check_bool, check_nonnegative
from jaxsched.schedules._step import (
    as_float,
    as_step,
    check_real,
    check_step_count,
    check_steps,
    check_values,
    ratio,
    to_float,
)


def constant(value: Any) -> Schedule:
    """``value`` at every step.

    PyTorch: no scheduler (a fixed ``lr``). TensorFlow: a float learning rate.

    Args:
      value: the value, a finite float.

    Example::

        js.schedules.constant(0.1)(jnp.arange(3))   # [0.1, 0.1, 0.1]
    """
    check_real("value", value)

    def schedule(step):
        step = as_step(step)
        return jnp.full(step.shape, as_float(value))

    return schedule


def linear(start_value: Any, end_value: Any, total_steps: int) -> Schedule:
    """``start + (end - start) * min(step, total_steps) / total_steps``, then holds ``end_value``.

    PyTorch: ``LinearLR(opt(lr), start_factor, end_factor, total_iters)`` is
    ``linear(lr * start_factor, lr * end_factor, total_iters)``. optax: ``linear_schedule``.

    Args:
      start_value: value at step 0.
      end_value: value from ``total_steps`` on.
      total_steps: length of the ramp, an integer >= 1.

    Example::

        js.schedules.linear(0.0, 1.0, 4)(jnp.arange(6))   # [0, .25, .5, .75, 1, 1]
    """
    check_real("start_value", start_value)
    check_real("end_value", end_value)
    total_steps = check_step_count("total_steps", total_steps, low=1)

    def schedule(step):
        done = to_float(jnp.clip(as_step(step), 0, total_steps)) / total_steps
        start = as_float(start_value)
        return start + (as_float(end_value) - start) * done

    return schedule


def step_decay(init_value: Any, step_size: int, gamma: Any = 0.1) -> Schedule:
    """``init_value * gamma ** (step // step_size)``.

    PyTorch: ``StepLR(opt(init_value), step_size, gamma)``. TensorFlow:
    ``ExponentialDecay(init_value, step_size, gamma, staircase=True)``.

    Args:
      init_value: value at step 0.
      step_size: decay period, an integer >= 1.
      gamma: multiplicative factor >= 0.

    Example::

        js.schedules.step_decay(0.1, 30)(60)   # 0.001
    """
    check_real("init_value", init_value)
    step_size = check_step_count("step_size", step_size, low=1)
    check_nonnegative("gamma", gamma, allow_schedule=False)

    def schedule(step):
        return as_float(init_value) * as_float(gamma) ** to_float(as_step(step) // step_size)

    return schedule


def multistep_decay(init_value: Any, milestones: Sequence[int], gamma: Any = 0.1) -> Schedule:
    """``init_value * gamma ** (number of milestones <= step)``; a repeated milestone decays twice.

    PyTorch: ``MultiStepLR(opt(init_value), milestones, gamma)``.

    Args:
      init_value: value at step 0.
      milestones: integer steps >= 0 at which to multiply by ``gamma``, in any order (as torch).
      gamma: multiplicative factor >= 0.

    Example::

        js.schedules.multistep_decay(1.0, [2, 5, 5])(jnp.arange(7))   # [1, 1, .1, .1, .1, .001, .001]
    """
    check_real("init_value", init_value)
    milestones = check_steps("milestones", milestones, low=0, strict=False, sort=True)
    check_nonnegative("gamma", gamma, allow_schedule=False)

    def schedule(step):
        step = as_step(step)
        passed = jnp.searchsorted(jnp.asarray(milestones, step.dtype), step, side="right")
        return as_float(init_value) * as_float(gamma) ** to_float(passed)

    return schedule


def _decay_exponent(step: jax.Array, decay_steps: int, staircase: bool) -> jax.Array:
    """``step / decay_steps``, floored when ``staircase`` (TensorFlow's ``p``)."""
    return to_float(step // decay_steps) if staircase else ratio(step, decay_steps)


def _check_decay(init_value: Any, decay_rate: Any, decay_steps: int, staircase: bool) -> None:
    check_real("init_value", init_value)
    check_nonnegative("decay_rate", decay_rate, allow_schedule=False)
    decay_steps = check_step_count("decay_steps", decay_steps, low=1)
    check_bool("staircase", staircase)


def exponential_decay(
    init_value: Any, decay_rate: Any, decay_steps: int = 1, staircase: bool = False, end_value: Any = None
) -> Schedule:
    """``init_value * decay_rate ** (step / decay_steps)`` (floored exponent if ``staircase``).

    With ``end_value`` the result is clipped there: never below it when ``decay_rate < 1``, never
    above it when ``decay_rate > 1`` (optax's ``end_value``).

    PyTorch: ``ExponentialLR(opt(lr), gamma)`` is ``exponential_decay(lr, gamma)``. TensorFlow:
    ``tf.keras.optimizers.schedules.ExponentialDecay(init, decay_steps, decay_rate, staircase)``.
    d2l ``FactorScheduler(factor, stop_factor_lr, base_lr)`` is
    ``exponential_decay(base_lr, factor, end_value=stop_factor_lr)``.

    Args:
      init_value: value at step 0.
      decay_rate: base of the decay, >= 0.
      decay_steps: steps per factor of ``decay_rate``, an integer >= 1.
      staircase: decay in whole periods only.
      end_value: optional bound on the decayed value.

    Example::

        js.schedules.exponential_decay(1.0, 0.5, decay_steps=10)(20)   # 0.25
    """
    _check_decay(init_value, decay_rate, decay_steps, staircase)
    if end_value is not None:
        check_real("end_value", end_value)

    def schedule(step):
        rate = as_float(decay_rate)
        value = as_float(init_value) * rate ** _decay_exponent(as_step(step), decay_steps, staircase)
        if end_value is None:
            return value
        bound = as_float(end_value)
        return jnp.where(rate < 1, jnp.maximum(value, bound), jnp.minimum(value, bound))

    return schedule


def polynomial_decay(
    init_value: Any, decay_steps: int, end_value: Any = 0.0, power: Any = 1.0, cycle: bool = False
) -> Schedule:
    """``(init - end) * (1 - t / decay_steps) ** power + end`` with ``t = min(step, decay_steps)``.

    With ``cycle`` the horizon instead grows to the next multiple of ``decay_steps``:
    ``decay_steps * ceil(step / decay_steps)`` (``decay_steps`` itself at step 0), as TensorFlow.

    PyTorch: ``PolynomialLR(opt(lr), total_iters, power)`` is ``polynomial_decay(lr, total_iters,
    power=power)``. TensorFlow: ``PolynomialDecay(init, decay_steps, end_learning_rate, power, cycle)``
    (TensorFlow's default ``end_learning_rate`` is 1e-4; here 0.0 as torch).

    Args:
      init_value: value at step 0.
      decay_steps: horizon, an integer >= 1.
      end_value: value at the horizon.
      power: exponent >= 0.
      cycle: restart the decay from a longer horizon after each one ends.

    Example::

        js.schedules.polynomial_decay(1.0, 4, power=2.0)(2)   # 0.25
    """
    check_real("init_value", init_value)
    decay_steps = check_step_count("decay_steps", decay_steps, low=1)
    check_real("end_value", end_value)
    check_nonnegative("power", power, allow_schedule=False)
    check_bool("cycle", cycle)

    def schedule(step):
        step = as_step(step)
        if cycle:
            # Horizon decay_steps * ceil(step / decay_steps); "steps left" is computed on integers
            # because the horizon itself may not fit the step dtype near its maximum.
            periods = jnp.maximum(step // decay_steps + (step % decay_steps > 0), 1)
            left = jnp.where(step == 0, decay_steps, (decay_steps - step % decay_steps) % decay_steps)
            remaining = to_float(left) / (to_float(periods) * decay_steps)
        else:
            remaining = to_float(decay_steps - jnp.clip(step, 0, decay_steps)) / decay_steps
        end = as_float(end_value)
        return (as_float(init_value) - end) * remaining ** as_float(power) + end

    return schedule


def inverse_time_decay(init_value: Any, decay_rate: Any, decay_steps: int, staircase: bool = False) -> Schedule:
    """``init_value / (1 + decay_rate * step / decay_steps)`` (floored ratio if ``staircase``).

    TensorFlow: ``InverseTimeDecay(init, decay_steps, decay_rate, staircase)``.

    Args:
      init_value: value at step 0.
      decay_rate: >= 0.
      decay_steps: an integer >= 1.
      staircase: decay in whole periods only.

    Example::

        js.schedules.inverse_time_decay(1.0, 0.5, 10)(20)   # 0.5
    """
    _check_decay(init_value, decay_rate, decay_steps, staircase)

    def schedule(step):
        exponent = _decay_exponent(as_step(step), decay_steps, staircase)
        return as_float(init_value) / (1 + as_float(decay_rate) * exponent)

    return schedule


def natural_exp_decay(init_value: Any, decay_rate: Any, decay_steps: int, staircase: bool = False) -> Schedule:
    """``init_value * exp(-decay_rate * step / decay_steps)`` (floored ratio if ``staircase``).

    TensorFlow 1: ``tf.compat.v1.train.natural_exp_decay``.

    Args:
      init_value: value at step 0.
      decay_rate: >= 0.
      decay_steps: an integer >= 1.
      staircase: decay in whole periods only.

    Example::

        js.schedules.natural_exp_decay(1.0, 1.0, 10)(10)   # exp(-1)
    """
    _check_decay(init_value, decay_rate, decay_steps, staircase)

    def schedule(step):
        exponent = _decay_exponent(as_step(step), decay_steps, staircase)
        return as_float(init_value) * jnp.exp(-as_float(decay_rate) * exponent)

    return schedule


def inverse_sqrt_decay(init_value: Any) -> Schedule:
    """``init_value * (step + 1) ** -0.5``.

    d2l: ``SquareRootScheduler(lr)``.

    Args:
      init_value: value at step 0.

    Example::

        js.schedules.inverse_sqrt_decay(1.0)(3)   # 0.5
    """
    check_real("init_value", init_value)

    def schedule(step):
        # +1 after the conversion: step + 1 would overflow at the int32 maximum.
        return as_float(init_value) * jax.lax.rsqrt(to_float(as_step(step)) + 1)

    return schedule


def piecewise_constant(boundaries: Sequence[int], values: Sequence[Any]) -> Schedule:
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``; ``values[-1]`` after the last.

    TensorFlow: ``PiecewiseConstantDecay(boundaries, values)`` (the step equal to a boundary still
    gets the earlier value). PyTorch: ``ConstantLR(opt(lr), factor, total_iters)`` is
    ``piecewise_constant([total_iters - 1], [lr * factor, lr])``. d2l/MXNet
    ``MultiFactorScheduler(step, factor, base_lr)`` is
    ``piecewise_constant(step, [base_lr * factor ** i for i in range(len(step) + 1)])``.

    Args:
      boundaries: strictly increasing integer steps.
      values: ``len(boundaries) + 1`` finite values.

    Example::

        js.schedules.piecewise_constant([2, 4], [1.0, 0.5, 0.1])(jnp.arange(6))   # [1, 1, 1, .5, .5, .1]
    """
    boundaries = check_steps("boundaries", boundaries)
    values = check_values("values", values, len(boundaries) + 1, "len(boundaries) + 1")

    def schedule(step):
        step = as_step(step)
        index = jnp.searchsorted(jnp.asarray(boundaries, step.dtype), step, side="left")
        return jnp.stack([as_float(v) for v in values])[index]

    return schedule


def piecewise_linear(boundaries: Sequence[int], values: Sequence[Any]) -> Schedule:
    """Linear interpolation through the points ``(boundaries[i], values[i])``, held constant outside.

    optax: ``piecewise_interpolate_schedule("linear", ...)`` in absolute steps. PyTorch: any chain of
    ``LinearLR`` pieces in ``SequentialLR``.

    Args:
      boundaries: strictly increasing integer steps (at least one).
      values: one finite value per boundary.

    Example::

        js.schedules.piecewise_linear([0, 10, 20], [0.0, 1.0, 0.5])(15)   # 0.75
    """
    boundaries = check_steps("boundaries", boundaries)
    if not boundaries:
        raise ValueError("boundaries must contain at least one step, got []")
    values = check_values("values", values, len(boundaries), "len(boundaries)")

    def schedule(step):
        step = as_step(step)
        points = jnp.asarray(boundaries, step.dtype)
        step = jnp.clip(step, boundaries[0], boundaries[-1])
        ys = jnp.stack([as_float(v) for v in values])
        if len(boundaries) == 1:
            return jnp.broadcast_to(ys[0], step.shape)
        segment = jnp.clip(jnp.searchsorted(points, step, side="right") - 1, 0, len(boundaries) - 2)
        start, end = points[segment], points[segment + 1]
        done = to_float(step - start) / to_float(end - start)
        return ys[segment] + (ys[segment + 1] - ys[segment]) * done

    return schedule
