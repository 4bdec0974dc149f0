"""Adadelta (``torch.optim.Adadelta``)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import GradientTransformation, PyTree, ScalarOrSchedule, tree_zeros_state
from jaxsched.core._validation import check_bool, check_nonnegative, check_number
from jaxsched.optimizers._compose import torch_optimizer


class AdadeltaState(NamedTuple):
    """torch's Adadelta state: running averages of squared gradients and of squared updates."""

    square_avg: PyTree
    acc_delta: PyTree


def scale_by_adadelta(*, rho, eps) -> GradientTransformation:
    """Adadelta's direction (the learning rate is applied afterwards)::

        square_avg = rho * square_avg + (1 - rho) * g^2
        delta      = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta  = rho * acc_delta + (1 - rho) * delta^2

    Raw block: arguments are numbers or arrays.
    """

    def init(params):
        return AdadeltaState(tree_zeros_state(params), tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        grads = jax.tree.map(lambda g, old: jnp.asarray(g, old.dtype), updates, state.square_avg)

        def running_square(old, x):
            return (old * rho + (1 - rho) * x * x).astype(old.dtype)

        square_avg = jax.tree.map(running_square, state.square_avg, grads)
        deltas = jax.tree.map(
            lambda g, sq, acc: jnp.sqrt(acc + eps) / jnp.sqrt(sq + eps) * g, grads, square_avg, state.acc_delta
        )
        acc_delta = jax.tree.map(running_square, state.acc_delta, deltas)
        return deltas, AdadeltaState(square_avg, acc_delta)

    return GradientTransformation(init, update)


def adadelta(
    learning_rate: ScalarOrSchedule = 1.0,
    rho: ScalarOrSchedule = 0.9,
    eps: ScalarOrSchedule = 1e-6,
    weight_decay: ScalarOrSchedule = 0.0,
    maximize: bool = False,
) -> GradientTransformation:
    """Adadelta, exactly ``torch.optim.Adadelta``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p``::

        square_avg = rho * square_avg + (1 - rho) * g^2
        delta      = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta  = rho * acc_delta + (1 - rho) * delta^2
        p          = p - learning_rate * delta

    The default ``learning_rate=1.0`` descends, as torch's does (``optax.adadelta()`` with its
    default ``learning_rate=None`` returns ascent directions).

    PyTorch: ``torch.optim.Adadelta(params, lr, rho, eps, weight_decay, maximize=...)``.
    TensorFlow: ``tf.keras.optimizers.Adadelta`` (default learning_rate 0.001, rho 0.95, eps 1e-7).

    Args:
      learning_rate: scale of the update >= 0, a float or a schedule ``step -> value``.
      rho: decay rate of the running averages, in [0, 1].
      eps: term added inside both square roots, >= 0.
      weight_decay: L2 penalty >= 0 (added to the gradient).
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.adadelta()
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_number("rho", rho, low=0.0, high=1.0)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_adadelta,
        dict(learning_rate=learning_rate, rho=rho, eps=eps, weight_decay=weight_decay),
        maximize=maximize,
    )
