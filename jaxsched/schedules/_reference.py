"""Schedules of the reference packages: ``transformers.optimization`` and timm's ``CosineLRScheduler``.

transformers' schedules are ``LambdaLR`` multipliers of the optimizer's base learning rate; here each
is the product ``init_value * multiplier(step)``: ``schedule(k)`` is the learning rate the optimizer
uses at its (k+1)-th step, after ``k`` calls of ``scheduler.step()``. Float operations follow the
reference's order where a rounding decides a branch (cycle boundaries), so the values agree to
float rounding everywhere, including the steps past ``num_training_steps``.

"Warmup from 0" below is transformers' ramp ``init_value * step / max(1, W)`` for ``step < W``
(``W = num_warmup_steps``, ``T = num_training_steps``): 0 at step 0, ``init_value`` first at step W.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.core import Tracer

from jaxsched.core._base import Schedule
from jaxsched.core._validation import check_bool, check_choice, check_number, check_positive
from jaxsched.schedules._combinators import join
from jaxsched.schedules._decay import constant, polynomial_decay
from jaxsched.schedules._step import as_float, as_step, check_real, check_step_count, ratio, to_float

WSD_SHAPES = ("linear", "cosine", "1-sqrt")


def _is_concrete(*values: Any) -> bool:
    return not any(isinstance(value, Tracer) for value in values)


def _divide_as_python(numerator: jax.Array, denominator: Any) -> jax.Array:
    """``numerator / denominator`` rounded once, as Python's float division.

    XLA divides by a constant or a broadcast scalar as a product with its reciprocal, an ulp off; where
    the quotient then meets an integer (timm's cycle switches), ``floor`` lands a cycle early. A
    denominator that depends on the numerator's elements keeps it a true division (also under vmap).
    """
    return numerator / (denominator + 0 * numerator)


def _progress(step: jax.Array, period: int) -> jax.Array:
    """``step / period`` with Python's rounding within the first period, where a restart's phase is decided.

    Whole periods are split off on integers (as ``ratio``), so the float32 value stays exact past 2**24.
    """
    return to_float(step // period) + _divide_as_python(to_float(step % period), period)


def _linear_ramp(num_warmup_steps: int) -> Callable[[jax.Array], jax.Array]:
    """transformers' warmup multiplier ``step / max(1, num_warmup_steps)``: 0 at step 0, 1 only at the end."""
    return lambda step: to_float(step) / max(1, num_warmup_steps)


def _cosine_factor(progress: jax.Array, num_cycles: Any) -> jax.Array:
    return 0.5 * (1.0 + jnp.cos(jnp.pi * as_float(num_cycles) * 2.0 * progress))


def _warmup_then(
    init_value: Any,
    num_warmup_steps: int,
    decay_factor: Callable[[jax.Array], jax.Array],
    warmup_factor: Callable[[jax.Array], jax.Array] | None = None,
) -> Schedule:
    """``init_value * warmup_factor(step)`` before ``num_warmup_steps``, then ``init_value * decay_factor(step - W)``.

    Not ``warmup``: transformers' ramp ends at ``init_value`` even where the decay starts elsewhere
    (linear decay with ``num_training_steps <= num_warmup_steps`` starts at 0).
    """
    warmup_factor = warmup_factor or _linear_ramp(num_warmup_steps)

    def ramp(step):
        return as_float(init_value) * warmup_factor(as_step(step))

    def decay(step):
        return as_float(init_value) * decay_factor(as_step(step))

    return join([ramp, decay], [num_warmup_steps])


def _check_common(init_value: Any, num_warmup_steps: Any, num_training_steps: Any = None) -> tuple[int, int]:
    check_real("init_value", init_value)
    warmup_steps = check_step_count("num_warmup_steps", num_warmup_steps)
    if num_training_steps is None:
        return warmup_steps, 0
    return warmup_steps, check_step_count("num_training_steps", num_training_steps)


def _check_min_lr(init_value: Any, min_lr: Any, min_lr_rate: Any) -> None:
    if (min_lr is None) == (min_lr_rate is None):
        raise ValueError(
            f"exactly one of min_lr and min_lr_rate must be set, got min_lr={min_lr!r}, min_lr_rate={min_lr_rate!r}"
        )
    if min_lr_rate is not None:
        check_real("min_lr_rate", min_lr_rate)
        return
    check_real("min_lr", min_lr)
    if _is_concrete(init_value) and float(init_value) == 0:
        raise ValueError("min_lr needs init_value != 0 (transformers divides by it); give min_lr_rate instead")


def _cosine_above_min_lr(progress: jax.Array, num_cycles: Any, init_value: Any, min_lr: Any, min_lr_rate: Any):
    """transformers' cosine factor rescaled onto ``[r, 1]``, ``r = min_lr_rate`` or ``min_lr / init_value``."""
    rate = as_float(min_lr_rate) if min_lr is None else as_float(min_lr) / as_float(init_value)
    return jnp.maximum(0.0, _cosine_factor(progress, num_cycles) * (1 - rate) + rate)


def constant_schedule_with_warmup(init_value: Any, num_warmup_steps: int) -> Schedule:
    """``init_value * step / max(1, num_warmup_steps)`` during the warmup, then ``init_value``.

    transformers: ``transformers.optimization.get_constant_schedule_with_warmup(opt(init_value),
    num_warmup_steps)``. Without warmup: ``js.schedules.constant`` (``get_constant_schedule``).

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.

    Example::

        js.schedules.constant_schedule_with_warmup(1.0, 4)(jnp.arange(6))   # [0, .25, .5, .75, 1, 1]
    """
    warmup_steps, _ = _check_common(init_value, num_warmup_steps)
    return _warmup_then(init_value, warmup_steps, lambda step: jnp.ones(step.shape, as_float(init_value).dtype))


def linear_schedule_with_warmup(init_value: Any, num_warmup_steps: int, num_training_steps: int) -> Schedule:
    """Warmup from 0, then ``init_value * max(0, (T - step) / max(1, T - W))``: 0 from ``T`` on.

    ``W = num_warmup_steps``, ``T = num_training_steps``. transformers:
    ``transformers.optimization.get_linear_schedule_with_warmup(opt(init_value), W, T)``.

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.
      num_training_steps: the step at which the value reaches 0, an integer >= 0.

    Example::

        js.schedules.linear_schedule_with_warmup(1.0, 2, 6)(jnp.arange(8))   # [0, .5, 1, .75, .5, .25, 0, 0]
    """
    warmup_steps, training_steps = _check_common(init_value, num_warmup_steps, num_training_steps)
    decay_steps = training_steps - warmup_steps
    return _warmup_then(
        init_value, warmup_steps, lambda left: to_float(jnp.maximum(decay_steps - left, 0)) / max(1, decay_steps)
    )


def cosine_schedule_with_warmup(
    init_value: Any, num_warmup_steps: int, num_training_steps: int, num_cycles: Any = 0.5
) -> Schedule:
    """Warmup from 0, then ``init_value * max(0, (1 + cos(2 pi num_cycles p)) / 2)``.

    ``p = (step - W) / max(1, T - W)`` is not clipped at 1, as in transformers: past ``T`` the default
    half cosine rises again.
    transformers: ``transformers.optimization.get_cosine_schedule_with_warmup(opt(init_value), W, T,
    num_cycles)``.

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.
      num_training_steps: the end of the decay, an integer >= 0.
      num_cycles: cosine periods over the decay (0.5: one half cosine down to 0), a finite float.

    Example::

        js.schedules.cosine_schedule_with_warmup(1.0, 2, 6)(jnp.arange(7))   # [0, .5, 1, .853553, .5, .146447, 0]
    """
    warmup_steps, training_steps = _check_common(init_value, num_warmup_steps, num_training_steps)
    check_real("num_cycles", num_cycles)
    decay_steps = max(1, training_steps - warmup_steps)
    return _warmup_then(
        init_value,
        warmup_steps,
        lambda left: jnp.maximum(0.0, _cosine_factor(_progress(left, decay_steps), num_cycles)),
    )


def cosine_with_hard_restarts_schedule_with_warmup(
    init_value: Any, num_warmup_steps: int, num_training_steps: int, num_cycles: Any = 1
) -> Schedule:
    """Warmup from 0, then ``init_value * (1 + cos(pi * ((num_cycles * p) mod 1))) / 2`` while ``p < 1``, then 0.

    ``p = (step - W) / max(1, T - W)``; each of the ``num_cycles`` half cosines restarts at
    ``init_value``. The phase is taken on floats as in transformers, so a restart lands on the same
    step as there. transformers: ``transformers.optimization.
    get_cosine_with_hard_restarts_schedule_with_warmup(opt(init_value), W, T, num_cycles)``.

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.
      num_training_steps: the end of the last cycle, an integer >= 0.
      num_cycles: number of hard restarts, > 0 (an integer in transformers' signature).

    Example::

        js.schedules.cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 4, 2)(jnp.arange(5))   # [1, .5, 1, .5, 0]
    """
    warmup_steps, training_steps = _check_common(init_value, num_warmup_steps, num_training_steps)
    check_positive("num_cycles", num_cycles, allow_schedule=False)
    decay_steps = max(1, training_steps - warmup_steps)

    def factor(left):
        progress = _progress(left, decay_steps)
        phase = jnp.mod(as_float(num_cycles) * progress, 1.0)
        return jnp.where(progress >= 1.0, 0.0, jnp.maximum(0.0, 0.5 * (1.0 + jnp.cos(jnp.pi * phase))))

    return _warmup_then(init_value, warmup_steps, factor)


def polynomial_decay_schedule_with_warmup(
    init_value: Any, num_warmup_steps: int, num_training_steps: int, lr_end: Any = 1e-7, power: Any = 1.0
) -> Schedule:
    """Warmup from 0, then ``(init_value - lr_end) * (1 - (step - W) / (T - W)) ** power + lr_end``.

    ``lr_end`` from ``T`` on. transformers: ``transformers.optimization.get_polynomial_decay_schedule_with_warmup(
    opt(init_value), W, T, lr_end, power)``; the decay is ``js.schedules.polynomial_decay(init_value,
    T - W, lr_end, power)``.

    Args:
      init_value: the optimizer's base learning rate, > ``lr_end``.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.
      num_training_steps: the end of the decay, an integer > ``num_warmup_steps`` (transformers
        divides by ``T - W``).
      lr_end: the final value (an absolute learning rate, not a ratio).
      power: exponent of the decay, >= 0.

    Example::

        sched = js.schedules.polynomial_decay_schedule_with_warmup(1.0, 0, 4, lr_end=0.0, power=2.0)
        sched(jnp.arange(5))   # [1, .5625, .25, .0625, 0]
    """
    warmup_steps, training_steps = _check_common(init_value, num_warmup_steps, num_training_steps)
    check_real("lr_end", lr_end)
    if training_steps <= warmup_steps:
        raise ValueError(
            f"num_training_steps must be > num_warmup_steps = {warmup_steps} (the decay divides by their difference), "
            f"got {num_training_steps!r}"
        )
    if _is_concrete(init_value, lr_end) and not float(init_value) > float(lr_end):
        raise ValueError(f"lr_end must be smaller than init_value = {init_value!r}, got {lr_end!r}")
    decay = polynomial_decay(init_value, training_steps - warmup_steps, lr_end, power)
    return _warmup_then(init_value, warmup_steps, lambda left: decay(left) / as_float(init_value))


def inverse_sqrt_schedule(init_value: Any, num_warmup_steps: int, timescale: int | None = None) -> Schedule:
    """Warmup from 0, then ``init_value / sqrt((step - W + timescale) / timescale)``.

    transformers: ``transformers.optimization.get_inverse_sqrt_schedule(opt(init_value), W, timescale)``.

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.
      timescale: steps over which the value falls by sqrt(2), an integer >= 1; default
        ``num_warmup_steps``, or 10000 without warmup.

    Example::

        js.schedules.inverse_sqrt_schedule(1.0, 2)(jnp.array([0, 1, 2, 8]))   # [0, .5, 1, .5]
    """
    warmup_steps, _ = _check_common(init_value, num_warmup_steps)
    timescale = check_step_count("timescale", (warmup_steps or 10_000) if timescale is None else timescale, low=1)
    return _warmup_then(init_value, warmup_steps, lambda left: jax.lax.rsqrt(ratio(left, timescale) + 1.0))


def cosine_with_min_lr_schedule_with_warmup(
    init_value: Any,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: Any = 0.5,
    min_lr: Any = None,
    min_lr_rate: Any = None,
) -> Schedule:
    """``cosine_schedule_with_warmup`` rescaled onto ``[min_lr, init_value]``: factor ``f * (1 - r) + r``.

    ``r = min_lr_rate`` or ``min_lr / init_value`` (exactly one of them). transformers:
    ``transformers.optimization.get_cosine_with_min_lr_schedule_with_warmup(opt(init_value), W, T,
    num_cycles, min_lr, min_lr_rate)``.

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the linear warmup from 0, an integer >= 0.
      num_training_steps: the end of the decay, an integer >= 0.
      num_cycles: cosine periods over the decay, a finite float.
      min_lr: the final learning rate, or
      min_lr_rate: the final learning rate as a fraction of ``init_value``.

    Example::

        js.schedules.cosine_with_min_lr_schedule_with_warmup(1.0, 0, 2, min_lr=0.2)(jnp.arange(3))   # [1, .6, .2]
    """
    warmup_steps, training_steps = _check_common(init_value, num_warmup_steps, num_training_steps)
    check_real("num_cycles", num_cycles)
    _check_min_lr(init_value, min_lr, min_lr_rate)
    decay_steps = max(1, training_steps - warmup_steps)

    def factor(left):
        return _cosine_above_min_lr(_progress(left, decay_steps), num_cycles, init_value, min_lr, min_lr_rate)

    return _warmup_then(init_value, warmup_steps, factor)


def cosine_with_min_lr_schedule_with_warmup_lr_rate(
    init_value: Any,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: Any = 0.5,
    min_lr: Any = None,
    min_lr_rate: Any = None,
    warmup_lr_rate: Any = None,
) -> Schedule:
    """``cosine_with_min_lr_schedule_with_warmup`` shifted one step earlier, with a warmup that starts above 0.

    Warmup factor ``(step + 1) / max(1, W)``, or with ``warmup_lr_rate`` ``w + (1 - w) * step /
    max(1, W - 1)``; then ``f * (1 - r) + r`` with ``f`` the cosine of ``p = (step - W + 1) / max(1, T - W)``.
    transformers: ``transformers.optimization.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    opt(init_value), W, T, num_cycles, min_lr, min_lr_rate, warmup_lr_rate)`` (scheduler name
    "cosine_warmup_with_min_lr").

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: steps of the warmup, an integer >= 0.
      num_training_steps: the end of the decay, an integer >= 0.
      num_cycles: cosine periods over the decay, a finite float.
      min_lr: the final learning rate, or
      min_lr_rate: the final learning rate as a fraction of ``init_value``.
      warmup_lr_rate: the value at step 0 as a fraction of ``init_value`` (default: ``1 / W``).

    Example::

        sched = js.schedules.cosine_with_min_lr_schedule_with_warmup_lr_rate(1.0, 2, 4, min_lr_rate=0.0)
        sched(jnp.arange(5))   # [.5, 1, .5, 0, .5]
    """
    warmup_steps, training_steps = _check_common(init_value, num_warmup_steps, num_training_steps)
    check_real("num_cycles", num_cycles)
    _check_min_lr(init_value, min_lr, min_lr_rate)
    decay_steps = max(1, training_steps - warmup_steps)
    if warmup_lr_rate is not None:
        check_real("warmup_lr_rate", warmup_lr_rate)

    def warmup_factor(step):
        if warmup_lr_rate is None:
            return (to_float(step) + 1.0) / max(1, warmup_steps)
        start = as_float(warmup_lr_rate)
        return start + (1.0 - start) * to_float(step) / max(1, warmup_steps - 1)

    def factor(left):
        progress = (to_float(left) + 1.0) / decay_steps
        return _cosine_above_min_lr(progress, num_cycles, init_value, min_lr, min_lr_rate)

    return _warmup_then(init_value, warmup_steps, factor, warmup_factor)


def _wsd_shape(kind: str, progress: jax.Array, num_cycles: Any, *, rising: bool) -> jax.Array:
    if kind == "linear":
        return progress if rising else 1.0 - progress
    if kind == "cosine":
        return 0.5 * (1.0 - jnp.cos(jnp.pi * progress)) if rising else _cosine_factor(progress, num_cycles)
    # "1-sqrt": clipped so the branch that jnp.where discards stays finite.
    return 1.0 - jnp.sqrt(jnp.clip(1.0 - progress if rising else progress, 0.0, None))


def warmup_stable_decay(
    init_value: Any,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: Any = 0.0,
    num_cycles: Any = 0.5,
) -> Schedule:
    """Warmup-stable-decay: ``init_value * factor``, three phases then ``min_lr_ratio``.

    With ``r = min_lr_ratio``: warmup ``up(step / max(1, W)) * (1 - r) + r``; ``1`` for the
    ``num_stable_steps`` after it; ``down((step - W - S) / max(1, D)) * (1 - r) + r`` for the
    ``num_decay_steps`` after that; ``r`` from then on. ``up``/``down`` by type: "linear" ``p`` /
    ``1 - p``; "cosine" ``(1 - cos(pi p)) / 2`` / ``(1 + cos(2 pi num_cycles p)) / 2``; "1-sqrt"
    ``1 - sqrt(1 - p)`` / ``1 - sqrt(p)`` (the cooldown of Hägele et al. 2024).
    transformers: ``transformers.optimization.get_wsd_schedule(opt(init_value), W, D, T, S,
    warmup_type, decay_type, min_lr_ratio, num_cycles)`` (scheduler name "warmup_stable_decay").

    Args:
      init_value: the optimizer's base learning rate.
      num_warmup_steps: W, an integer >= 0.
      num_decay_steps: D, an integer >= 0.
      num_training_steps: ``W + S + D``, giving ``S`` when ``num_stable_steps`` is None.
      num_stable_steps: S, an integer >= 0; takes precedence over ``num_training_steps``.
      warmup_type: "linear", "cosine" or "1-sqrt".
      decay_type: "linear", "cosine" or "1-sqrt".
      min_lr_ratio: the start and final value as a fraction of ``init_value``, in [0, 1].
      num_cycles: cosine periods of a "cosine" decay (0.5: one half cosine).

    Example::

        sched = js.schedules.warmup_stable_decay(1.0, 2, 2, num_stable_steps=2, decay_type="1-sqrt")
        sched(jnp.arange(7))   # [0, .5, 1, 1, 1, .292893, 0]
    """
    check_real("init_value", init_value)
    warmup_steps = check_step_count("num_warmup_steps", num_warmup_steps)
    decay_steps = check_step_count("num_decay_steps", num_decay_steps)
    if num_stable_steps is None:
        if num_training_steps is None:
            raise ValueError("one of num_training_steps and num_stable_steps must be given")
        training_steps = check_step_count("num_training_steps", num_training_steps)
        stable_steps = training_steps - warmup_steps - decay_steps
        if stable_steps < 0:
            raise ValueError(
                f"num_training_steps must be >= num_warmup_steps + num_decay_steps = {warmup_steps + decay_steps}, "
                f"got {num_training_steps!r}"
            )
    else:
        stable_steps = check_step_count("num_stable_steps", num_stable_steps)
    check_choice("warmup_type", warmup_type, WSD_SHAPES)
    check_choice("decay_type", decay_type, WSD_SHAPES)
    check_number("min_lr_ratio", min_lr_ratio, low=0.0, high=1.0, allow_schedule=False)
    check_real("num_cycles", num_cycles)
    decay_start = warmup_steps + stable_steps

    def rescale(shape):
        return jnp.maximum(0.0, shape * (1.0 - as_float(min_lr_ratio)) + as_float(min_lr_ratio))

    def schedule(step):
        step = as_step(step)
        warming = rescale(_wsd_shape(warmup_type, _linear_ramp(warmup_steps)(step), num_cycles, rising=True))
        decay_progress = to_float(jnp.clip(step - decay_start, 0, decay_steps)) / max(1, decay_steps)
        decaying = rescale(_wsd_shape(decay_type, decay_progress, num_cycles, rising=False))
        factor = jnp.where(step < decay_start + decay_steps, decaying, as_float(min_lr_ratio))
        factor = jnp.where(step < decay_start, 1.0, factor)
        return as_float(init_value) * jnp.where(step < warmup_steps, warming, factor)

    return schedule


def _state_machine(name: str, replacement: str) -> Callable[..., Schedule]:
    def refuse(*args, **kwargs):
        raise ValueError(f"{name!r} is not a schedule step -> value (it reacts to a metric): {replacement}")

    return refuse


# transformers.SchedulerType value -> (function, num_warmup_steps, num_training_steps): "required",
# "optional" or "ignored", as transformers.get_scheduler passes them.
_HF_SCHEDULES = {
    "linear": (linear_schedule_with_warmup, "required", "required"),
    "cosine": (cosine_schedule_with_warmup, "required", "required"),
    "cosine_with_restarts": (cosine_with_hard_restarts_schedule_with_warmup, "required", "required"),
    "polynomial": (polynomial_decay_schedule_with_warmup, "required", "required"),
    "constant": (constant, "ignored", "ignored"),
    "constant_with_warmup": (constant_schedule_with_warmup, "required", "ignored"),
    "inverse_sqrt": (inverse_sqrt_schedule, "required", "ignored"),
    "cosine_with_min_lr": (cosine_with_min_lr_schedule_with_warmup, "required", "required"),
    "cosine_warmup_with_min_lr": (cosine_with_min_lr_schedule_with_warmup_lr_rate, "required", "required"),
    "warmup_stable_decay": (warmup_stable_decay, "required", "optional"),
    "reduce_lr_on_plateau": (
        _state_machine("reduce_lr_on_plateau", "use js.reduce_on_plateau on the optimizer's updates"),
        "ignored",
        "ignored",
    ),
    "greedy": (_state_machine("greedy", "transformers' GreedyLR has no jaxsched equivalent"), "ignored", "ignored"),
}


def hf_schedule(
    name: str,
    init_value: Any,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **kwargs: Any,
) -> Schedule:
    """The schedule ``transformers.get_scheduler(name, opt(init_value), num_warmup_steps, num_training_steps,
    scheduler_specific_kwargs=kwargs)`` sets: ``schedule(k)`` is the learning rate of the (k+1)-th step.

    Each name dispatches to the function of this module named after transformers' (without
    ``get_``; ``get_wsd_schedule`` is ``warmup_stable_decay``, ``get_constant_schedule`` is
    ``constant``). As in transformers, "constant" ignores the step counts, "constant_with_warmup" and
    "inverse_sqrt" ignore ``num_training_steps``, and "warmup_stable_decay" takes it or
    ``num_stable_steps``. "reduce_lr_on_plateau" is a state machine driven by a metric, not a
    schedule: it raises a ValueError pointing to ``js.reduce_on_plateau``; so does "greedy"
    (transformers' GreedyLR, which jaxsched does not provide).

    Args:
      name: a ``transformers.SchedulerType`` or its value: "linear", "cosine", "cosine_with_restarts",
        "polynomial", "constant", "constant_with_warmup", "inverse_sqrt", "cosine_with_min_lr",
        "cosine_warmup_with_min_lr", "warmup_stable_decay".
      init_value: the optimizer's base learning rate.
      num_warmup_steps: an integer >= 0, required by every name but "constant".
      num_training_steps: an integer >= 0, where the name uses it.
      **kwargs: transformers' ``scheduler_specific_kwargs``: the function's own arguments, such as
        ``num_cycles``, ``lr_end``/``power``, ``timescale``, ``min_lr``/``min_lr_rate``,
        ``num_decay_steps``/``decay_type``/``min_lr_ratio``.

    Example::

        js.schedules.hf_schedule("linear", 1.0, num_warmup_steps=2, num_training_steps=6)(3)   # 0.75
    """
    name = name.value if isinstance(name, enum.Enum) else name
    check_choice("name", name, tuple(_HF_SCHEDULES))
    function, warmup_use, training_use = _HF_SCHEDULES[name]
    if warmup_use == "required":
        if num_warmup_steps is None:
            raise ValueError(f"{name!r} requires num_warmup_steps")
        kwargs["num_warmup_steps"] = num_warmup_steps
    if training_use != "ignored":
        if training_use == "required" and num_training_steps is None:
            raise ValueError(f"{name!r} requires num_training_steps")
        kwargs["num_training_steps"] = num_training_steps
    return function(init_value, **kwargs)


def timm_cosine(
    init_value: Any,
    t_initial: int,
    lr_min: Any = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: Any = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: Any = 0.0,
    warmup_prefix: bool = False,
    k_decay: Any = 1.0,
    t_in_epochs: bool = True,
) -> Schedule:
    """timm's cosine with restarts: ``lr_min + (peak_i - lr_min) * (1 + cos(pi * t_cur ** k / t_i ** k)) / 2``.

    Cycle ``i`` has length ``t_i = t_initial * cycle_mul ** i`` and peak ``init_value * cycle_decay **
    i``; ``t_cur`` is the time since it started. From cycle ``cycle_limit`` on the value is ``lr_min``
    (also after the finite total length of a shrinking schedule, ``cycle_mul < 1``, where timm raises
    a math domain error).
    For ``t < warmup_t`` the value is linear from ``warmup_lr_init`` towards ``init_value``; the
    cycles start at ``t = 0`` (overlapping the warmup) unless ``warmup_prefix``, then at ``warmup_t``.

    ``t`` counts what timm's ``t_in_epochs`` says: epochs (``scheduler.step(epoch)``, the default) or
    optimizer updates (``t_in_epochs=False``, ``scheduler.step_update(num_updates)``); both set
    ``_get_lr(t)``, which is ``schedule(t)``. For an epoch schedule evaluated per update use
    ``js.schedules.per_epoch(timm_cosine(...), steps_per_epoch)``. timm:
    ``timm.scheduler.CosineLRScheduler(opt(init_value), t_initial, lr_min, cycle_mul, cycle_decay,
    cycle_limit, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, k_decay=k_decay)``; the
    ``noise_*`` options (random perturbations) are not provided.

    Args:
      init_value: the optimizer's base learning rate (peak of the first cycle).
      t_initial: length of the first cycle, an integer >= 1.
      lr_min: the value at the end of each cycle, >= 0.
      cycle_mul: growth of the cycle length, > 0 (a Python number: it selects the computation).
      cycle_decay: factor on the peak per cycle, >= 0.
      cycle_limit: number of cycles, an integer >= 0.
      warmup_t: length of the warmup, an integer >= 0.
      warmup_lr_init: the value at ``t = 0`` when ``warmup_t > 0``.
      warmup_prefix: start the cycles after the warmup.
      k_decay: exponent on the time within a cycle, > 0.
      t_in_epochs: what ``t`` counts, as in timm: epochs or updates. It does not change the function
        (timm's ``_get_lr(t)`` is the same either way); it is accepted so that a timm call ports as it is.

    Example::

        sched = js.schedules.timm_cosine(1.0, 4, cycle_limit=2, cycle_decay=0.5)
        sched(jnp.arange(9))   # [1, .853553, .5, .146447, .5, .426777, .25, .0732233, 0]
    """
    check_real("init_value", init_value)
    t_initial = check_step_count("t_initial", t_initial, low=1)
    check_number("lr_min", lr_min, low=0.0, allow_schedule=False)
    check_positive("cycle_mul", cycle_mul, allow_schedule=False)
    check_number("cycle_decay", cycle_decay, low=0.0, allow_schedule=False)
    cycle_limit = check_step_count("cycle_limit", cycle_limit)
    warmup_t = check_step_count("warmup_t", warmup_t)
    check_real("warmup_lr_init", warmup_lr_init)
    check_bool("warmup_prefix", warmup_prefix)
    check_positive("k_decay", k_decay, allow_schedule=False)
    check_bool("t_in_epochs", t_in_epochs)

    def schedule(t):
        t = as_step(t)
        # Clamped: during a prefixed warmup the cycle branch is discarded but must stay finite.
        cycle_t = jnp.maximum(t - warmup_t, 0) if warmup_prefix else t
        if cycle_mul == 1:
            cycle = to_float(cycle_t // t_initial)
            cycle_length = float(t_initial)
            elapsed = to_float(cycle_t % t_initial)
        else:
            # timm's closed form on floats (math.log(x, base) is log(x) / log(base)), divided exactly
            # as Python does so that the cycles switch at the same t; past the last cycle of a
            # shrinking schedule (cycle_mul < 1) the log is NaN and the value lr_min.
            mul = as_float(cycle_mul)
            elapsed_total = to_float(cycle_t)
            remaining = 1 - _divide_as_python(elapsed_total, t_initial) * (1 - mul)
            cycle = jnp.floor(_divide_as_python(jnp.log(remaining), jnp.log(mul)))
            cycle_length = mul**cycle * t_initial
            elapsed = elapsed_total - (1 - mul**cycle) / (1 - mul) * t_initial
        floor = as_float(lr_min)
        peak = as_float(init_value) * as_float(cycle_decay) ** cycle
        k = as_float(k_decay)
        cosine = floor + 0.5 * (peak - floor) * (1 + jnp.cos(jnp.pi * elapsed**k / cycle_length**k))
        annealed = jnp.where(cycle < cycle_limit, cosine, floor)
        if warmup_t == 0:
            return annealed
        start = as_float(warmup_lr_init)
        warming = start + to_float(t) * ((as_float(init_value) - start) / warmup_t)
        return jnp.where(t < warmup_t, warming, annealed)

    return schedule
