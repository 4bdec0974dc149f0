"""Cosine schedules: torch's CosineAnnealingLR and SGDR, TensorFlow's cosine decays."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched.core._base import Schedule, hyperparam_dtype
from jaxsched.core._validation import check_nonnegative, check_number
from jaxsched.schedules._step import as_float, as_step, check_real, check_step_count, position, to_float

# Restart tables longer than this (t_mul barely above 1) would be large constants in every trace.
_MAX_RESTARTS = 2**16


def _half_cosine(fraction: jax.Array) -> jax.Array:
    """``(1 + cos(pi * fraction)) / 2``: 1 at fraction 0, 0 at fraction 1."""
    return 0.5 * (1 + jnp.cos(jnp.pi * fraction))


def cosine_annealing(init_value: Any, t_max: int, eta_min: Any = 0.0) -> Schedule:
    """``eta_min + (init_value - eta_min) * (1 + cos(pi * step / t_max)) / 2``, periodic past ``t_max``.

    The closed form of PyTorch's ``CosineAnnealingLR(opt(init_value), T_max, eta_min)`` (which
    rises again after ``T_max``, with period ``2 * T_max``). To hold ``eta_min`` after ``t_max`` use
    :func:`cosine_decay` with ``alpha = eta_min / init_value``.

    Args:
      init_value: value at step 0.
      t_max: half period, an integer >= 1.
      eta_min: value at ``t_max``.

    Example::

        js.schedules.cosine_annealing(1.0, 10)(jnp.array([0, 5, 10, 15]))   # [1, .5, 0, .5]
    """
    check_real("init_value", init_value)
    t_max = check_step_count("t_max", t_max, low=1)
    check_real("eta_min", eta_min)

    def schedule(step):
        # cos has period 2 * t_max in steps: reduce on integers before converting.
        fraction = 2 * position(as_step(step), 2 * t_max)
        low = as_float(eta_min)
        return low + (as_float(init_value) - low) * _half_cosine(fraction)

    return schedule


def cosine_decay(init_value: Any, decay_steps: int, alpha: Any = 0.0) -> Schedule:
    """``init_value * ((1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2 + alpha)``, ``t = min(step, decay_steps)``.

    TensorFlow: ``CosineDecay(init, decay_steps, alpha)``; optax: ``cosine_decay_schedule``. Holds
    ``alpha * init_value`` after ``decay_steps``. d2l ``CosineScheduler(max_update, base_lr, final_lr,
    warmup_steps, warmup_begin_lr)`` is ``warmup(cosine_decay(base_lr, max_update - warmup_steps,
    final_lr / base_lr), warmup_steps, warmup_begin_lr)``.

    Args:
      init_value: value at step 0.
      decay_steps: an integer >= 1.
      alpha: final value as a fraction of ``init_value``.

    Example::

        js.schedules.cosine_decay(1.0, 10, alpha=0.1)(10)   # 0.1
    """
    check_real("init_value", init_value)
    decay_steps = check_step_count("decay_steps", decay_steps, low=1)
    check_real("alpha", alpha)

    def schedule(step):
        fraction = to_float(jnp.clip(as_step(step), 0, decay_steps)) / decay_steps
        alpha_ = as_float(alpha)
        return as_float(init_value) * ((1 - alpha_) * _half_cosine(fraction) + alpha_)

    return schedule


@functools.lru_cache(maxsize=64)
def _restart_table(first: int, mult: int | float, limit: int) -> tuple[np.ndarray, ...]:
    """Start and length of every cycle that starts at a step <= ``limit``.

    Cycle i starts at ``first * (mult**i - 1) / (mult - 1)`` (an integer when ``mult`` is) and lasts
    ``first * mult**i`` steps. Starts are split into integer and fractional parts so the position
    inside a cycle is computed on integers.
    """
    starts, lengths = [], []
    start, length = 0, first
    while math.ceil(start) <= limit:
        starts.append(start)
        lengths.append(length)
        start, length = start + length, length * mult
    floors = [math.floor(s) for s in starts]
    return (
        np.array([math.ceil(s) for s in starts], np.int64),  # first integer step of each cycle
        np.array(floors, np.int64),
        np.array([s - f for s, f in zip(starts, floors)], np.float64),
        np.array(lengths, np.float64),
    )


def _restart_count(first: int, mult: float, limit: int) -> float:
    return math.log1p(limit * (mult - 1) / first) / math.log(mult)


def _geometric_cycles(
    first: int, mult: int | float, mult_name: str
) -> Callable[[jax.Array], tuple[jax.Array, jax.Array]]:
    """``step -> (cycle index, fraction of the cycle elapsed)`` for cycles of ``first * mult**i`` steps.

    ``mult == 1`` is a plain modulo; otherwise the cycle is looked up in a table of exact starts
    (at most a few dozen entries for ``mult >= 2``), so restarts land on the right step at any step.
    """
    if mult == 1:
        return lambda step: (to_float(step // first), position(step, first))
    mult = int(mult) if float(mult).is_integer() else float(mult)
    if _restart_count(first, mult, np.iinfo(np.int64).max) > _MAX_RESTARTS:
        raise ValueError(f"{mult_name} must be 1 or large enough that cycles grow (at least about 1.001), got {mult!r}")

    def cycles(step):
        step = jnp.maximum(step, 0)
        first_steps, floors, fractions, lengths = _restart_table(first, mult, int(jnp.iinfo(step.dtype).max))
        index = jnp.searchsorted(jnp.asarray(first_steps, step.dtype), step, side="right") - 1
        elapsed = (
            to_float(step - jnp.asarray(floors, step.dtype)[index]) - jnp.asarray(fractions, hyperparam_dtype())[index]
        )
        return to_float(index), elapsed / jnp.asarray(lengths, hyperparam_dtype())[index]

    return cycles


def cosine_annealing_warm_restarts(init_value: Any, t_0: int, t_mult: int = 1, eta_min: Any = 0.0) -> Schedule:
    """SGDR: ``eta_min + (init_value - eta_min) * (1 + cos(pi * t_cur / t_i)) / 2``.

    Cycle ``i`` lasts ``t_i = t_0 * t_mult**i`` steps and ``t_cur`` counts steps since its start.
    PyTorch: ``CosineAnnealingWarmRestarts(opt(init_value), T_0, T_mult, eta_min)`` (integer steps).

    Args:
      init_value: value at the start of every cycle.
      t_0: length of the first cycle, an integer >= 1.
      t_mult: growth factor of the cycle length, an integer >= 1.
      eta_min: the value approached at the end of every cycle.

    Example::

        js.schedules.cosine_annealing_warm_restarts(1.0, 10, t_mult=2)(jnp.array([0, 5, 10, 20]))  # [1, .5, 1, .5]
    """
    check_real("init_value", init_value)
    t_0 = check_step_count("t_0", t_0, low=1)
    t_mult = check_step_count("t_mult", t_mult, low=1)
    check_real("eta_min", eta_min)
    cycles = _geometric_cycles(t_0, t_mult, "t_mult")

    def schedule(step):
        _, fraction = cycles(as_step(step))
        low = as_float(eta_min)
        return low + (as_float(init_value) - low) * _half_cosine(fraction)

    return schedule


def cosine_decay_restarts(
    init_value: Any, first_decay_steps: int, t_mul: Any = 2.0, m_mul: Any = 1.0, alpha: Any = 0.0
) -> Schedule:
    """TensorFlow SGDR: ``init_value * ((1 - alpha) * m_mul**i * (1 + cos(pi * f)) / 2 + alpha)``.

    Cycle ``i`` lasts ``first_decay_steps * t_mul**i`` steps and ``f`` is the fraction of it elapsed.
    TensorFlow: ``CosineDecayRestarts(init, first_decay_steps, t_mul, m_mul, alpha)``.

    Args:
      init_value: value at step 0.
      first_decay_steps: length of the first cycle, an integer >= 1.
      t_mul: growth factor of the cycle length, a float >= 1 (concrete: it shapes the cycle table).
      m_mul: factor applied to the peak at every restart.
      alpha: floor of every cycle, as a fraction of ``init_value`` (as TensorFlow).

    Example::

        js.schedules.cosine_decay_restarts(1.0, 10, t_mul=2.0, m_mul=0.5)(10)   # 0.5
    """
    check_real("init_value", init_value)
    first_decay_steps = check_step_count("first_decay_steps", first_decay_steps, low=1)
    check_number("t_mul", t_mul, low=1.0, allow_schedule=False)
    check_real("m_mul", m_mul)
    check_real("alpha", alpha)
    cycles = _geometric_cycles(first_decay_steps, float(t_mul), "t_mul")

    def schedule(step):
        index, fraction = cycles(as_step(step))
        alpha_ = as_float(alpha)
        peak = as_float(m_mul) ** index
        return as_float(init_value) * ((1 - alpha_) * peak * _half_cosine(fraction) + alpha_)

    return schedule


def _linear_cosine(init_value, decay_steps, num_periods, alpha, beta, noise: Callable | None) -> Schedule:
    """TensorFlow's linear cosine decay, with ``noise(step, clipped_step)`` added to the linear part."""

    def schedule(step):
        step = as_step(step)
        clipped = jnp.clip(step, 0, decay_steps)
        fraction = to_float(clipped) / decay_steps
        linear_part = to_float(decay_steps - clipped) / decay_steps
        if noise is not None:
            linear_part = linear_part + noise(step, clipped)
        cosine_part = _half_cosine(2 * as_float(num_periods) * fraction)
        return as_float(init_value) * ((as_float(alpha) + linear_part) * cosine_part + as_float(beta))

    return schedule


def _check_linear_cosine(init_value, decay_steps, num_periods, alpha, beta) -> None:
    check_real("init_value", init_value)
    decay_steps = check_step_count("decay_steps", decay_steps, low=1)
    check_real("num_periods", num_periods)
    check_real("alpha", alpha)
    check_real("beta", beta)


def linear_cosine_decay(
    init_value: Any, decay_steps: int, num_periods: Any = 0.5, alpha: Any = 0.0, beta: Any = 0.001
) -> Schedule:
    """``init_value * ((alpha + (d - t) / d) * (1 + cos(2 pi num_periods t / d)) / 2 + beta)``, ``t = min(step, d)``.

    TensorFlow: ``tf.compat.v1.train.linear_cosine_decay`` (d = ``decay_steps``).

    Args:
      init_value: value scale.
      decay_steps: an integer >= 1.
      num_periods: number of cosine periods over ``decay_steps``.
      alpha, beta: see the formula.

    Example::

        js.schedules.linear_cosine_decay(1.0, 100)(100)   # 0.001
    """
    _check_linear_cosine(init_value, decay_steps, num_periods, alpha, beta)
    return _linear_cosine(init_value, decay_steps, num_periods, alpha, beta, None)


def noisy_linear_cosine_decay(
    init_value: Any,
    decay_steps: int,
    key: Any,
    initial_variance: Any = 1.0,
    variance_decay: Any = 0.55,
    num_periods: Any = 0.5,
    alpha: Any = 0.0,
    beta: Any = 0.001,
) -> Schedule:
    """:func:`linear_cosine_decay` with ``N(0, initial_variance / (1 + t) ** variance_decay)`` noise
    added to the linear part, ``t = min(step, decay_steps)``.

    Pure: the noise of a step is drawn from ``jax.random.fold_in(key, step)``, so the same step always
    gives the same value (also inside ``vmap``). TensorFlow:
    ``tf.compat.v1.train.noisy_linear_cosine_decay`` (stateful noise there).

    Args:
      init_value, decay_steps, num_periods, alpha, beta: as :func:`linear_cosine_decay`.
      key: a ``jax.random`` key.
      initial_variance: noise variance at step 0, >= 0.
      variance_decay: decay exponent of the variance.

    Example::

        sched = js.schedules.noisy_linear_cosine_decay(0.1, 1000, jax.random.key(0))
        sched(5) == sched(5)   # True
    """
    _check_linear_cosine(init_value, decay_steps, num_periods, alpha, beta)
    if not (
        isinstance(key, (jax.Array, np.ndarray))
        and (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or key.shape == (2,))
    ):
        raise TypeError(f"key must be a jax.random key (jax.random.key or PRNGKey), got {key!r}")
    check_nonnegative("initial_variance", initial_variance, allow_schedule=False)
    check_real("variance_decay", variance_decay)

    def noise(step, clipped):
        def draw(s):
            return jax.random.normal(jax.random.fold_in(key, s), dtype=hyperparam_dtype())

        standard = jax.vmap(draw)(step.ravel()).reshape(step.shape)
        variance = as_float(initial_variance) / (1 + to_float(clipped)) ** as_float(variance_decay)
        return standard * jnp.sqrt(variance)

    return _linear_cosine(init_value, decay_steps, num_periods, alpha, beta, noise)
