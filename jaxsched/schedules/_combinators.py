"""Combinators that build a schedule from other schedules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from jaxsched.core._base import Schedule
from jaxsched.schedules._step import (
    as_float,
    as_step,
    check_callable,
    check_real,
    check_step_count,
    check_steps,
    to_float,
)


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """``schedules[k](step - boundaries[k-1])`` for ``boundaries[k-1] <= step < boundaries[k]``.

    Each later schedule restarts at its own step 0 at its boundary. PyTorch:
    ``SequentialLR(opt, schedulers, milestones)``; optax: ``join_schedules``.

    Args:
      schedules: the schedules in order.
      boundaries: ``len(schedules) - 1`` strictly increasing integer steps >= 0.

    Example::

        sched = js.schedules.join([js.schedules.constant(0.1), js.schedules.exponential_decay(1.0, 0.5)], [3])
        sched(jnp.arange(6))   # [.1, .1, .1, 1, .5, .25]
    """
    if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence) or not schedules:
        raise TypeError(f"schedules must be a non-empty sequence of schedules, got {schedules!r}")
    for i, schedule in enumerate(schedules):
        check_callable(f"schedules[{i}]", schedule)
    boundaries = check_steps("boundaries", boundaries, low=0)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"boundaries must have len(schedules) - 1 = {len(schedules) - 1} entries, got {len(boundaries)}: {list(boundaries)}"
        )
    schedules = tuple(schedules)

    def joined(step):
        step = as_step(step)
        value = as_float(schedules[0](step))
        for boundary, schedule in zip(boundaries, schedules[1:]):
            # Clamped so the inactive branch never sees a negative step (keeps its gradient finite).
            later = as_float(schedule(jnp.maximum(step - boundary, 0)))
            value = jnp.where(step >= boundary, later, value)
        return value

    return joined


def warmup(schedule: Schedule, warmup_steps: int, start_value: Any = 0.0) -> Schedule:
    """Linear from ``start_value`` to ``schedule(0)`` over ``warmup_steps``, then ``schedule(step - warmup_steps)``.

    optax: ``warmup_*`` schedules; PyTorch: ``SequentialLR([LinearLR(...), scheduler], [warmup_steps])``.

    Args:
      schedule: the schedule that follows the warmup.
      warmup_steps: integer >= 0 (0 returns ``schedule`` unchanged).
      start_value: value at step 0.

    Example::

        js.schedules.warmup(js.schedules.constant(1.0), 4)(jnp.arange(6))   # [0, .25, .5, .75, 1, 1]
    """
    check_callable("schedule", schedule)
    warmup_steps = check_step_count("warmup_steps", warmup_steps, low=0)
    check_real("start_value", start_value)
    if warmup_steps == 0:
        return schedule

    def ramp(step):
        start = as_float(start_value)
        target = as_float(schedule(jnp.zeros((), step.dtype)))
        return start + (target - start) * to_float(step) / warmup_steps

    return join([ramp, schedule], [warmup_steps])


def product(*schedules: Schedule) -> Schedule:
    """``schedules[0](step) * schedules[1](step) * ...``.

    PyTorch: ``ChainedScheduler([s0, s1, ...])`` where each scheduler multiplies the learning rate by
    its own factor: write the base learning rate into one of the schedules and the others as
    factors, e.g. ``product(linear(0.4 * lr, lr, 3), multistep_decay(1.0, [4, 8]))``.

    Example::

        js.schedules.product(js.schedules.constant(2.0), js.schedules.step_decay(1.0, 2, 0.5))(2)   # 1.0
    """
    if not schedules:
        raise TypeError("product(*schedules) needs at least one schedule")
    for i, schedule in enumerate(schedules):
        check_callable(f"schedules[{i}]", schedule)

    def multiplied(step):
        step = as_step(step)
        value = as_float(schedules[0](step))
        for schedule in schedules[1:]:
            value = value * as_float(schedule(step))
        return value

    return multiplied


def per_epoch(schedule: Schedule, steps_per_epoch: int) -> Schedule:
    """``schedule(step // steps_per_epoch)``: a schedule written in epochs, evaluated per update.

    PyTorch: calling ``scheduler.step()`` once per epoch instead of once per batch.

    Args:
      schedule: the schedule in epochs.
      steps_per_epoch: integer >= 1: torch's ``len(loader)``, which is ``math.ceil(n / batch_size)``,
        or ``n // batch_size`` only when the loader drops the last partial batch (``drop_last=True``).

    Example::

        js.schedules.per_epoch(js.schedules.step_decay(0.1, 30), 100)(3000)   # 0.01
    """
    check_callable("schedule", schedule)
    steps_per_epoch = check_step_count("steps_per_epoch", steps_per_epoch, low=1)

    def in_epochs(step):
        return as_float(schedule(as_step(step) // steps_per_epoch))

    # read by the torch scheduler converters: torch's last_epoch then counts epochs
    in_epochs.steps_per_epoch = steps_per_epoch  # type: ignore[attr-defined]
    return in_epochs
