"""torch's SWALR: anneal from the learning rate in use to a constant SWA learning rate."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from jaxsched.core._base import Schedule
from jaxsched.core._validation import check_choice, check_nonnegative
from jaxsched.schedules._step import as_float, as_step, check_real, check_step_count, to_float


def swa_lr(swa_lr: Any, anneal_epochs: int = 10, anneal_strategy: str = "cos", *, start_value: Any) -> Schedule:
    """``swa_lr * alpha + start_value * (1 - alpha)``, ``alpha = anneal(min(step, anneal_epochs) / anneal_epochs)``.

    ``anneal`` is ``(1 - cos(pi * t)) / 2`` ("cos") or ``t`` ("linear"): ``start_value`` at step 0,
    ``swa_lr`` from step ``anneal_epochs`` on (from step 0 when ``anneal_epochs == 0``).

    PyTorch: ``SWALR(opt, swa_lr, anneal_epochs, anneal_strategy)``, where ``start_value`` is the
    learning rate the optimizer holds at SWALR's first ``step()`` (the last value of the schedule
    before it, in the usual recipe). torch recomputes it every step by undoing the previous step's
    blend, ``(lr - alpha_prev * swa_lr) / (1 - alpha_prev)``, then blends again; this closed form is
    that recursion without the round trip (equal to float rounding). With ``anneal_epochs == 0``
    torch's constructor already sets ``swa_lr``: build that SWALR when SWA starts, not up front,
    or it overwrites the learning rate of the scheduler before it.

    The classic recipe, each scheduler stepped once per epoch, ``CosineAnnealingLR(T_max)`` until
    epoch ``swa_start`` and SWALR after (torch steps the cosine at the end of epochs
    ``0..swa_start``, SWALR from the end of epoch ``swa_start + 1`` on)::

        cosine = js.schedules.cosine_annealing(lr, t_max)
        recipe = js.schedules.join(
            [cosine, js.schedules.swa_lr(0.05, 5, start_value=cosine(swa_start + 1))], [swa_start + 1]
        )
        schedule = js.schedules.per_epoch(recipe, steps_per_epoch)

    Args:
      swa_lr: the final learning rate, >= 0.
      anneal_epochs: steps of the annealing phase, an integer >= 0.
      anneal_strategy: "cos" or "linear".
      start_value: the learning rate at step 0 (keyword only: torch reads it from the optimizer).

    Example::

        js.schedules.swa_lr(0.05, 4, "linear", start_value=0.1)(jnp.arange(6))   # [.1, .0875, .075, .0625, .05, .05]
    """
    check_nonnegative("swa_lr", swa_lr, allow_schedule=False)
    anneal_epochs = check_step_count("anneal_epochs", anneal_epochs, low=0)
    check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    check_real("start_value", start_value)

    def schedule(step):
        step = as_step(step)
        if anneal_epochs == 0:
            alpha = jnp.ones(step.shape, as_float(swa_lr).dtype)
        else:
            fraction = to_float(jnp.clip(step, 0, anneal_epochs)) / anneal_epochs
            alpha = (1 - jnp.cos(jnp.pi * fraction)) / 2 if anneal_strategy == "cos" else fraction
        return as_float(swa_lr) * alpha + as_float(start_value) * (1 - alpha)

    return schedule
