"""Resilient backpropagation (``torch.optim.Rprop``)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    increment_step,
    state_dtype,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_nonnegative, check_number, check_pair, is_schedule
from jaxsched.optimizers._compose import torch_optimizer


class RpropState(NamedTuple):
    """torch's Rprop state: step count, previous (masked) gradient, per-element step sizes."""

    step: jax.Array
    prev: PyTree
    step_size: PyTree


def scale_by_rprop(*, learning_rate, etas, step_sizes) -> GradientTransformation:
    """Rprop's whole step, learning rate included::

        s         = sign(g * prev)
        step_size = clip(step_size * (etaplus if s > 0 else etaminus if s < 0 else 1), *step_sizes)
        g         = 0 where s < 0
        update    = -sign(g) * step_size;   prev = g

    ``step_size`` starts at ``learning_rate`` on the first update; later learning rates are unused.
    Raw block: arguments are numbers or arrays (``etas``, ``step_sizes`` pairs of them).
    """
    etaminus, etaplus = etas
    step_size_min, step_size_max = step_sizes

    def init(params):
        return RpropState(
            zero_step(),
            tree_zeros_state(params),
            jax.tree.map(lambda p: jnp.full_like(p, learning_rate, dtype=state_dtype(p)), params),
        )

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        # torch seeds the step sizes from the learning rate when its state is created, at the first step
        first = state.step == 0
        grads = jax.tree.map(lambda g, prev: jnp.asarray(g, prev.dtype), updates, state.prev)
        signs = jax.tree.map(lambda g, prev: jnp.sign(g * prev), grads, state.prev)

        def adapt(old, s):
            size = jnp.where(first, jnp.asarray(learning_rate, old.dtype), old)
            factor = jnp.where(s > 0, etaplus, jnp.where(s < 0, etaminus, 1))
            return jnp.clip(size * factor, step_size_min, step_size_max).astype(old.dtype)

        sizes = jax.tree.map(adapt, state.step_size, signs)
        grads = jax.tree.map(lambda g, s: jnp.where(s < 0, 0, g), grads, signs)
        new_updates = jax.tree.map(lambda g, size: -(jnp.sign(g) * size), grads, sizes)
        return new_updates, RpropState(increment_step(state.step), grads, sizes)

    return GradientTransformation(init, update)


def _check_etas(etas) -> tuple:
    etaminus, etaplus = check_pair("etas", etas)
    check_number("etas[0] (etaminus)", etaminus, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    check_number("etas[1] (etaplus)", etaplus, low=1.0, low_inclusive=False)
    return etaminus, etaplus


def _check_step_sizes(step_sizes) -> tuple:
    smallest, largest = check_pair("step_sizes", step_sizes)
    check_nonnegative("step_sizes[0] (minimum)", smallest)
    check_nonnegative("step_sizes[1] (maximum)", largest)
    if not (is_schedule(smallest) or is_schedule(largest)) and float(smallest) > float(largest):
        raise ValueError(f"step_sizes must be (minimum, maximum) with minimum <= maximum, got {step_sizes!r}")
    return smallest, largest


def rprop(
    learning_rate: ScalarOrSchedule = 1e-2,
    etas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.5, 1.2),
    step_sizes: tuple[ScalarOrSchedule, ScalarOrSchedule] = (1e-6, 50.0),
    maximize: bool = False,
) -> GradientTransformation:
    """Resilient backpropagation, exactly ``torch.optim.Rprop``.

    With ``g`` the gradient (negated if ``maximize``), per element::

        s         = sign(g * prev)                       (prev = 0 before the first update)
        step_size = step_size * (etaplus if s > 0, etaminus if s < 0, else 1),
                    clipped to [step_sizes[0], step_sizes[1]]    (step_size = learning_rate at first)
        g         = 0 where s < 0      (after a sign flip: no move, and no adaptation next step)
        p         = p - sign(g) * step_size;   prev = g

    The learning rate only seeds the per-element step sizes on the first update, as in torch:
    changing it later (a schedule, ``set_hyperparams``) has no effect. It stays readable with
    ``get_hyperparams``.

    PyTorch: ``torch.optim.Rprop(params, lr, etas, step_sizes, maximize=...)``.
    TensorFlow: no built-in equivalent.

    Args:
      learning_rate: initial step size >= 0, a float or a schedule (only its first value is used).
      etas: ``(etaminus, etaplus)`` with ``0 < etaminus < 1 < etaplus``; each a float or a schedule.
      step_sizes: ``(minimum, maximum)`` step size, ``0 <= minimum <= maximum``; each a float or a
        schedule.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.rprop(0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0))
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    etas = _check_etas(etas)
    step_sizes = _check_step_sizes(step_sizes)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_rprop,
        dict(learning_rate=learning_rate, etas=etas, step_sizes=step_sizes),
        maximize=maximize,
    )
