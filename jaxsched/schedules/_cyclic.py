"""Cyclical schedules: torch's CyclicLR and OneCycleLR, for the learning rate and for momentum."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxsched.core._base import Schedule, torch_lerp
from jaxsched.core._validation import (
    check_bool,
    check_choice,
    check_nonnegative,
    check_number,
    check_positive,
)
from jaxsched.schedules._step import (
    as_float,
    as_step,
    check_callable,
    check_real,
    check_step_count,
    safe_divide,
    split,
    to_float,
)

_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def _cyclic(
    names: tuple[str, str],
    start_value: Any,
    peak_value: Any,
    step_size_up: int,
    step_size_down: int | None,
    mode: str,
    gamma: Any,
    scale_fn: Callable | None,
    scale_mode: str,
) -> Schedule:
    """``start + (peak - start) * triangle(step) * amplitude``: the shape shared by CyclicLR's lr and momentum."""
    check_real(names[0], start_value)
    check_real(names[1], peak_value)
    step_size_up = check_step_count("step_size_up", step_size_up, low=1)
    if step_size_down is not None:
        step_size_down = check_step_count("step_size_down", step_size_down, low=1)
    check_nonnegative("gamma", gamma, allow_schedule=False)
    check_choice("scale_mode", scale_mode, ("cycle", "iterations"))
    shape: Callable[[Any], Any]
    if scale_fn is None:
        check_choice("mode", mode, _CYCLIC_MODES)  # as torch, mode is ignored when scale_fn is given
        scale_mode = "iterations" if mode == "exp_range" else "cycle"
        shape = {
            "triangular": lambda cycle: jnp.ones_like(to_float(cycle)),
            "triangular2": lambda cycle: jnp.exp2(-to_float(cycle - 1)),
            "exp_range": lambda step: as_float(gamma) ** to_float(step),
        }[mode]
    else:
        check_callable("scale_fn", scale_fn)
        shape = scale_fn
    up = step_size_up
    down = step_size_up if step_size_down is None else step_size_down
    period = up + down

    def schedule(step):
        step = as_step(step)
        # Position in the cycle on integers: torch's x <= up / (up + down) is exactly pos <= up.
        completed, pos = split(step, period)
        rise = jnp.where(pos <= up, to_float(pos) / up, to_float(down - (pos - up)) / down)
        cycle = completed + 1
        amplitude = as_float(shape(cycle if scale_mode == "cycle" else step))
        start = as_float(start_value)
        return start + (as_float(peak_value) - start) * rise * amplitude

    return schedule


def cyclic(
    base_lr: Any,
    max_lr: Any,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: Any = 1.0,
    scale_fn: Callable | None = None,
    scale_mode: str = "cycle",
) -> Schedule:
    """Cyclical learning rate: ``base_lr + (max_lr - base_lr) * rise(step) * amplitude``.

    ``rise`` climbs linearly from 0 to 1 over ``step_size_up`` steps and back over ``step_size_down``;
    ``amplitude`` is 1 (``"triangular"``), ``1 / 2**(cycle - 1)`` (``"triangular2"``, cycle counted
    from 1), ``gamma**step`` (``"exp_range"``) or ``scale_fn(cycle)`` / ``scale_fn(step)`` (custom,
    per ``scale_mode``; ``mode`` is then ignored, as torch). ``scale_fn`` receives an integer array.

    PyTorch: ``CyclicLR(opt, base_lr, max_lr, step_size_up, step_size_down, mode, gamma, scale_fn,
    scale_mode)`` (learning rate; see :func:`cyclic_momentum` for ``cycle_momentum``).

    Args:
      base_lr: lower bound of the cycle (value at step 0).
      max_lr: upper bound of the cycle.
      step_size_up: steps of the rising half, an integer >= 1.
      step_size_down: steps of the falling half (default ``step_size_up``).
      mode: "triangular", "triangular2" or "exp_range".
      gamma: base of the "exp_range" amplitude, >= 0.
      scale_fn: custom amplitude function of an integer array.
      scale_mode: "cycle" or "iterations": what ``scale_fn`` receives.

    Example::

        js.schedules.cyclic(1.0, 5.0, step_size_up=4)(jnp.arange(9))   # [1, 2, 3, 4, 5, 4, 3, 2, 1]
    """
    return _cyclic(
        ("base_lr", "max_lr"), base_lr, max_lr, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode
    )


def cyclic_momentum(
    base_momentum: Any = 0.8,
    max_momentum: Any = 0.9,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: Any = 1.0,
    scale_fn: Callable | None = None,
    scale_mode: str = "cycle",
) -> Schedule:
    """The momentum of a cycle, moving opposite to :func:`cyclic`'s learning rate:
    ``max_momentum - (max_momentum - base_momentum) * rise(step) * amplitude``.

    PyTorch: the momentum (or Adam's ``betas[0]``) that ``CyclicLR(..., cycle_momentum=True,
    base_momentum, max_momentum)`` sets. Same arguments as :func:`cyclic`.

    Example::

        js.schedules.cyclic_momentum(0.8, 0.9, step_size_up=2)(jnp.arange(5))   # [.9, .85, .8, .85, .9]
    """
    return _cyclic(
        ("max_momentum", "base_momentum"),
        max_momentum,
        base_momentum,
        step_size_up,
        step_size_down,
        mode,
        gamma,
        scale_fn,
        scale_mode,
    )


def _anneal(start: jax.Array, end: jax.Array, pct: jax.Array, strategy: str) -> jax.Array:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (jnp.cos(jnp.pi * pct) + 1)
    # torch's (end - start) * pct + start, evaluated from the nearer end: in float32 the plain form
    # ends at 4.0233e-7 instead of 4e-7 when annealing from 0.1 (the cancellation near pct = 1)
    return torch_lerp(start, end, pct)


def _one_cycle(
    total_steps: int,
    pct_start: Any,
    anneal_strategy: str,
    three_phase: bool,
    knots: Callable[[], Sequence[jax.Array]],
) -> Schedule:
    """Anneal between ``knots()`` (one value per phase boundary) over torch's OneCycleLR phases."""
    total_steps = check_step_count("total_steps", total_steps, low=1)
    check_number("pct_start", pct_start, low=0.0, high=1.0, allow_schedule=False)
    check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    check_bool("three_phase", three_phase)
    # torch's phase ends, kept as the same Python floats (e.g. 0.3 * 100 - 1 = 29.000000000000004).
    rise_end = float(pct_start * total_steps) - 1
    ends = [rise_end, float(2 * pct_start * total_steps) - 2] if three_phase else [rise_end]
    ends.append(total_steps - 1)
    starts = [0.0, *ends[:-1]]

    def schedule(step):
        # torch raises past total_steps; here the final value is held.
        t = to_float(jnp.clip(as_step(step), 0, total_steps - 1))
        phase = jnp.full(t.shape, len(ends) - 1)
        for i in reversed(range(len(ends) - 1)):  # torch takes the first phase with t <= its end
            phase = jnp.where(t <= ends[i], i, phase)
        start, end = as_float(starts)[phase], as_float(ends)[phase]
        pct = safe_divide(t - start, end - start, 1.0)  # a zero-length phase ends at its end value
        values = jnp.stack(knots())
        return _anneal(values[phase], values[phase + 1], pct, anneal_strategy)

    return schedule


def one_cycle(
    max_lr: Any,
    total_steps: int,
    pct_start: Any = 0.3,
    anneal_strategy: str = "cos",
    div_factor: Any = 25.0,
    final_div_factor: Any = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """The 1cycle learning rate: ``initial = max_lr / div_factor`` up to ``max_lr``, then down to
    ``initial / final_div_factor``.

    Two phases end at steps ``pct_start * total_steps - 1`` and ``total_steps - 1``; with
    ``three_phase`` they are up to ``max_lr``, back to ``initial`` (ending at
    ``2 * pct_start * total_steps - 2``) and down to the minimum. Within a phase ``p`` runs 0..1 and
    the value is ``end + (start - end) * (1 + cos(pi p)) / 2`` ("cos") or ``start + (end - start) p``
    ("linear"). The final value is held after ``total_steps - 1`` (torch raises there).

    PyTorch: ``OneCycleLR(opt, max_lr, total_steps, pct_start, anneal_strategy, div_factor=...,
    final_div_factor=..., three_phase=...)`` (learning rate; :func:`one_cycle_momentum` for momentum).

    Args:
      max_lr: peak value.
      total_steps: an integer >= 1 (torch's ``epochs * steps_per_epoch`` is the same number).
      pct_start: fraction of the steps spent rising, in [0, 1].
      anneal_strategy: "cos" or "linear".
      div_factor: ``max_lr / initial``, > 0.
      final_div_factor: ``initial / final``, > 0.
      three_phase: use the three-phase variant.

    Example::

        js.schedules.one_cycle(25.0, 10, anneal_strategy="linear", final_div_factor=2)(2)   # 25.0
    """
    check_real("max_lr", max_lr)
    check_positive("div_factor", div_factor, allow_schedule=False)
    check_positive("final_div_factor", final_div_factor, allow_schedule=False)

    def knots():
        peak = as_float(max_lr)
        initial = peak / as_float(div_factor)
        final = initial / as_float(final_div_factor)
        return [initial, peak, initial, final] if three_phase else [initial, peak, final]

    return _one_cycle(total_steps, pct_start, anneal_strategy, three_phase, knots)


def one_cycle_momentum(
    total_steps: int,
    base_momentum: Any = 0.85,
    max_momentum: Any = 0.95,
    pct_start: Any = 0.3,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
) -> Schedule:
    """The 1cycle momentum: ``max_momentum`` down to ``base_momentum`` while the learning rate rises,
    then back up (and held at ``max_momentum`` in the third phase). Phases as :func:`one_cycle`.

    PyTorch: the momentum (or ``betas[0]``) that ``OneCycleLR(..., cycle_momentum=True,
    base_momentum, max_momentum)`` sets.

    Args:
      total_steps, pct_start, anneal_strategy, three_phase: as :func:`one_cycle`.
      base_momentum: value at the learning-rate peak.
      max_momentum: value at the start and the end.

    Example::

        js.schedules.one_cycle_momentum(10, 1.0, 22.0, anneal_strategy="linear")(2)   # 1.0
    """
    check_real("base_momentum", base_momentum)
    check_real("max_momentum", max_momentum)

    def knots():
        low, high = as_float(base_momentum), as_float(max_momentum)
        return [high, low, high, high] if three_phase else [high, low, high]

    return _one_cycle(total_steps, pct_start, anneal_strategy, three_phase, knots)
