"""RMSprop, plain or centered, with optional momentum (``torch.optim.RMSprop``)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import GradientTransformation, PyTree, ScalarOrSchedule, torch_lerp, tree_zeros_state
from jaxsched.core._validation import check_bool, check_nonnegative, check_number, is_zero
from jaxsched.optimizers._compose import KernelOp, torch_optimizer
from jaxsched.transforms._momentum import update_momentum_buffer


class RmspropState(NamedTuple):
    """State of :func:`rmsprop` (``state.inner_state``), with torch's names.

    Attributes:
      square_avg: running average of squared gradients.
      grad_avg: running average of gradients with ``centered=True``, else ``None``.
      momentum_buffer: the momentum buffer when ``momentum`` is nonzero, else ``None``.
    """

    square_avg: PyTree
    grad_avg: PyTree | None
    momentum_buffer: PyTree | None


def _kernel_scalars(state: RmspropState, *, alpha, eps, momentum) -> tuple:
    """The scalars of ``ops.h``'s ``Rmsprop``: the same expressions as :func:`scale_by_rmsprop`'s."""
    del state
    lerp_weight = 1 - alpha
    return alpha, 1 - alpha, lerp_weight, 1 - lerp_weight, eps, momentum


def scale_by_rmsprop(*, alpha, eps, momentum, centered: bool, with_momentum: bool) -> GradientTransformation:
    """RMSprop's direction, before the learning rate (torch's ``_single_tensor_rmsprop``)::

        square_avg = alpha * square_avg + (1 - alpha) * g^2
        grad_avg   = lerp(grad_avg, g, 1 - alpha)                         (centered only)
        u          = g / (sqrt(square_avg - grad_avg^2 if centered else square_avg) + eps)
        buf        = momentum * buf + u;   u = buf                        (with_momentum only)

    Raw block: ``alpha``, ``eps``, ``momentum`` are numbers or arrays; ``centered`` and
    ``with_momentum`` are structural.
    """

    def init(params):
        return RmspropState(
            tree_zeros_state(params),
            tree_zeros_state(params) if centered else None,
            tree_zeros_state(params) if with_momentum else None,
        )

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        grads = jax.tree.map(lambda g, old: jnp.asarray(g, old.dtype), updates, state.square_avg)
        square_avg = jax.tree.map(
            lambda sq, g: (sq * alpha + (1 - alpha) * g * g).astype(sq.dtype), state.square_avg, grads
        )
        if centered:
            grad_avg = jax.tree.map(lambda ga, g: torch_lerp(ga, g, 1 - alpha).astype(ga.dtype), state.grad_avg, grads)
            variance = jax.tree.map(lambda sq, ga: sq - ga * ga, square_avg, grad_avg)
        else:
            grad_avg, variance = None, square_avg
        new_updates = jax.tree.map(lambda g, var: g / (jnp.sqrt(var) + eps), grads, variance)
        buffer = None
        if with_momentum:
            # torch's buffer starts at 0, so its first step is m * 0 + u: no special first step
            buffer = new_updates = update_momentum_buffer(new_updates, state.momentum_buffer, momentum)
        return new_updates, RmspropState(square_avg, grad_avg, buffer)

    return GradientTransformation(init, update)


def rmsprop(
    learning_rate: ScalarOrSchedule = 1e-2,
    alpha: ScalarOrSchedule = 0.99,
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    momentum: ScalarOrSchedule = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """RMSprop, exactly ``torch.optim.RMSprop``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p``::

        square_avg = alpha * square_avg + (1 - alpha) * g^2
        grad_avg   = grad_avg + (g - grad_avg) * (1 - alpha)              (centered only)
        avg        = sqrt(square_avg - grad_avg^2 if centered else square_avg) + eps
        buf        = momentum * buf + g / avg;   p = p - learning_rate * buf   (momentum > 0)
        p          = p - learning_rate * g / avg                               (momentum == 0)

    ``eps`` is added outside the square root (TensorFlow and optax's default add it inside).

    PyTorch: ``torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered,
    maximize=...)``. TensorFlow: ``tf.keras.optimizers.RMSprop`` (``rho`` = alpha, default
    learning_rate 0.001, rho 0.9, eps 1e-7).

    Args:
      learning_rate: step size >= 0, a float or a schedule ``step -> value``.
      alpha: smoothing constant of the running averages, in [0, 1] (torch also accepts alpha > 1,
        which can make ``square_avg`` negative and the update NaN).
      eps: term added to the denominator, >= 0.
      weight_decay: L2 penalty >= 0 (added to the gradient).
      momentum: momentum factor >= 0. A literal 0 leaves the momentum buffer out entirely; it can
        then not be changed with ``set_hyperparams``.
      centered: normalize by an estimate of the gradient's variance instead of its second moment.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.rmsprop(1e-3, momentum=0.9, centered=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_number("alpha", alpha, low=0.0, high=1.0)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    check_nonnegative("momentum", momentum)
    check_bool("centered", centered)
    check_bool("maximize", maximize)
    return torch_optimizer(
        functools.partial(scale_by_rmsprop, centered=centered, with_momentum=not is_zero(momentum)),
        dict(learning_rate=learning_rate, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum),
        maximize=maximize,
        off_when_zero=("weight_decay", "momentum"),
        kernel=KernelOp(
            "rmsprop",
            (centered, not is_zero(momentum)),
            _kernel_scalars,
            ("square_avg", "grad_avg", "momentum_buffer"),
        ),
    )
