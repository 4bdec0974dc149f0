"""Adagrad with learning-rate decay (``torch.optim.Adagrad``)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    hyperparam_dtype,
    increment_step,
    state_dtype,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_nonnegative
from jaxsched.optimizers._compose import KernelOp, torch_optimizer


class AdagradState(NamedTuple):
    """torch's Adagrad state: step count and the running sum of squared gradients."""

    step: jax.Array
    sum: PyTree


def _negative_clr(state: AdagradState, learning_rate, lr_decay) -> jax.Array:
    """``-learning_rate / (1 + (t - 1) * lr_decay)``, the decayed learning rate of the update being made."""
    t = increment_step(state.step).astype(hyperparam_dtype())
    return -(learning_rate / (1 + (t - 1) * lr_decay))


def _kernel_scalars(state: AdagradState, *, learning_rate, lr_decay, initial_accumulator_value, eps) -> tuple:
    """The scalars of ``ops.h``'s ``Adagrad``: the same expressions as :func:`scale_by_adagrad`'s."""
    first_step = (state.step == 0).astype(hyperparam_dtype())
    return first_step, initial_accumulator_value, _negative_clr(state, learning_rate, lr_decay), eps


def scale_by_adagrad(*, learning_rate, lr_decay, initial_accumulator_value, eps) -> GradientTransformation:
    """Adagrad's whole step, its decayed learning rate included (``t`` = 1 on the first update)::

        sum    = sum + g * g                       (sum = initial_accumulator_value at first)
        clr    = learning_rate / (1 + (t - 1) * lr_decay)
        update = -clr * g / (sqrt(sum) + eps)

    Raw block: arguments are numbers or arrays.
    """

    def init(params):
        return AdagradState(
            zero_step(),
            jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value, dtype=state_dtype(p)), params),
        )

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        # torch fills the sum when its state is created, at the first step
        first = state.step == 0
        grads = jax.tree.map(lambda g, old: jnp.asarray(g, old.dtype), updates, state.sum)
        negative_clr = _negative_clr(state, learning_rate, lr_decay)

        def accumulate(g, old):
            start = jnp.where(first, jnp.asarray(initial_accumulator_value, old.dtype), old)
            return (start + g * g).astype(old.dtype)

        sums = jax.tree.map(accumulate, grads, state.sum)
        new_updates = jax.tree.map(lambda g, s: (negative_clr * g) / (jnp.sqrt(s) + eps), grads, sums)
        return new_updates, AdagradState(increment_step(state.step), sums)

    return GradientTransformation(init, update)


def adagrad(
    learning_rate: ScalarOrSchedule = 1e-2,
    lr_decay: ScalarOrSchedule = 0.0,
    weight_decay: ScalarOrSchedule = 0.0,
    initial_accumulator_value: ScalarOrSchedule = 0.0,
    eps: ScalarOrSchedule = 1e-10,
    maximize: bool = False,
) -> GradientTransformation:
    """Adagrad, exactly ``torch.optim.Adagrad``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p`` and ``t`` the step
    number (1 on the first update)::

        sum = sum + g * g                          (sum starts at initial_accumulator_value)
        p   = p - learning_rate / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)

    PyTorch: ``torch.optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value,
    eps, maximize=...)``. TensorFlow: ``tf.keras.optimizers.Adagrad`` (default accumulator 0.1,
    eps 1e-7, no ``lr_decay``); optax: ``optax.adagrad`` (eps inside the root, accumulator 0.1).

    Args:
      learning_rate: step size >= 0, a float or a schedule ``step -> value``.
      lr_decay: learning-rate decay >= 0 (``t``-dependent divisor above).
      weight_decay: L2 penalty >= 0 (added to the gradient).
      initial_accumulator_value: starting value of ``sum``, >= 0. Like torch, it is read when the
        state is first used: setting it after the first update has no effect.
      eps: term added to the denominator for numerical stability, >= 0.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.adagrad(0.1, lr_decay=1e-3, initial_accumulator_value=0.1)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_nonnegative("lr_decay", lr_decay)
    check_nonnegative("weight_decay", weight_decay)
    check_nonnegative("initial_accumulator_value", initial_accumulator_value)
    check_nonnegative("eps", eps)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_adagrad,
        dict(
            learning_rate=learning_rate,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        ),
        maximize=maximize,
        # the decayed learning rate clr belongs to Adagrad's own math
        kernel=KernelOp("adagrad", (False, False), _kernel_scalars, ("sum",)),
    )
