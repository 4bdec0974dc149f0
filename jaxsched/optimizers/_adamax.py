"""Adamax: Adam with the infinity norm (``torch.optim.Adamax``)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    increment_step,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool
from jaxsched.optimizers._adam import bias_correction, check_adam_family_args, step_count, update_first_moment
from jaxsched.optimizers._compose import KernelOp, torch_optimizer


class AdamaxState(NamedTuple):
    """State of :func:`adamax` (``state.inner_state``), with torch's names.

    Attributes:
      step: updates made so far.
      exp_avg: first moment ``m``.
      exp_inf: exponentially weighted infinity norm ``u``.
    """

    step: jax.Array
    exp_avg: PyTree
    exp_inf: PyTree


def _kernel_scalars(state: AdamaxState, *, betas, eps) -> tuple:
    """The scalars of ``ops.h``'s ``Adamax``: the division by ``1 - beta1^t`` as the multiplication by
    its reciprocal that XLA compiles it to."""
    beta1, beta2 = betas
    return 1 - beta1, beta2, eps, 1 / bias_correction(beta1, step_count(state.step))


def scale_by_adamax(*, betas, eps) -> GradientTransformation:
    """Adamax's direction, before the learning rate (torch's ``_single_tensor_adamax``)::

    m = m + (g - m)(1 - beta1);   u = max(beta2 u, |g| + eps);   d = m / u / (1 - beta1^t)
    """
    beta1, beta2 = betas

    def init(params):
        return AdamaxState(zero_step(), tree_zeros_state(params), tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        exp_avg = update_first_moment(updates, state.exp_avg, beta1)
        exp_inf = jax.tree.map(
            lambda g, u: jnp.maximum(u * beta2, jnp.abs(g.astype(u.dtype)) + eps).astype(u.dtype),
            updates,
            state.exp_inf,
        )
        correction1 = bias_correction(beta1, step_count(state.step))
        updates = jax.tree.map(lambda m, u: m / u / correction1, exp_avg, exp_inf)
        return updates, AdamaxState(increment_step(state.step), exp_avg, exp_inf)

    return GradientTransformation(init, update)


def adamax(
    learning_rate: ScalarOrSchedule = 2e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    maximize: bool = False,
) -> GradientTransformation:
    """Adamax, exactly ``torch.optim.Adamax``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p`` (L2), at update ``t = 1, 2, ...``::

        m = m + (g - m)(1 - beta1)
        u = max(beta2 u, |g| + eps)
        p = p - learning_rate / (1 - beta1^t) * m / u

    PyTorch: ``torch.optim.Adamax(params, lr, betas, eps, weight_decay, maximize=...)``.
    TensorFlow: ``tf.keras.optimizers.Adamax`` (it adds ``epsilon`` to ``u`` when dividing instead of
    inside the max). Optax: ``optax.adamax`` (same formula as here).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      eps: added to ``|g|`` inside the max, >= 0.
      weight_decay: L2 penalty >= 0 added to the gradient. A literal 0 leaves the term out; it can
        then not be changed with ``set_hyperparams``.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.adamax(2e-3, betas=(0.9, 0.99))
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    betas = check_adam_family_args(learning_rate, betas, eps, weight_decay=weight_decay)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_adamax,
        dict(learning_rate=learning_rate, betas=betas, eps=eps, weight_decay=weight_decay),
        maximize=maximize,
        kernel=KernelOp("adamax", (False, False), _kernel_scalars, ("exp_avg", "exp_inf")),
    )
