"""NAdam: Adam with Nesterov momentum (``torch.optim.NAdam``)."""

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
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool
from jaxsched.optimizers._adam import (
    bias_correction,
    check_adam_family_args,
    step_count,
    update_first_moment,
    update_second_moment,
)
from jaxsched.optimizers._compose import KernelOp, torch_optimizer


class NAdamState(NamedTuple):
    """State of :func:`nadam` (``state.inner_state``), with torch's names.

    Attributes:
      step: updates made so far.
      mu_product: ``mu_1 * ... * mu_t``, one scalar (torch keeps an equal copy per parameter).
      exp_avg: first moment ``m``.
      exp_avg_sq: second moment ``v``.
    """

    step: jax.Array
    mu_product: jax.Array  # prod of mu_1..mu_t; one scalar (torch keeps an equal copy per parameter)
    exp_avg: PyTree
    exp_avg_sq: PyTree


def _momentum_coefficients(state: NAdamState, betas, momentum_decay) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(mu_product, gradient_coef, momentum_coef)`` of the update being made: ``mu_1 ... mu_t``,
    ``(1 - mu_t) / (1 - mu_product)`` and ``mu_{t+1} / (1 - mu_product mu_{t+1})``."""
    beta1 = betas[0]
    t = step_count(state.step)

    def momentum_cache(t):
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))

    mu, mu_next = momentum_cache(t), momentum_cache(t + 1)
    mu_product = (state.mu_product * mu).astype(state.mu_product.dtype)
    return mu_product, (1.0 - mu) / (1.0 - mu_product), mu_next / (1.0 - mu_product * mu_next)


def _kernel_scalars(state: NAdamState, *, betas, eps, momentum_decay) -> tuple:
    """The scalars of ``ops.h``'s ``Nadam``: :func:`scale_by_nadam`'s, the division by ``1 - beta2^t``
    as the multiplication by its reciprocal that XLA compiles it to."""
    beta1, beta2 = betas
    _, gradient_coef, momentum_coef = _momentum_coefficients(state, betas, momentum_decay)
    inverse_correction2 = 1 / bias_correction(beta2, step_count(state.step))
    return 1 - beta1, beta2, 1 - beta2, inverse_correction2, eps, gradient_coef, momentum_coef


def scale_by_nadam(*, betas, eps, momentum_decay) -> GradientTransformation:
    """NAdam's direction, before the learning rate (torch's ``_single_tensor_nadam``)::

    mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay));  mu_product = mu_product * mu_t
    m = m + (g - m)(1 - beta1);  v = beta2 v + (1 - beta2) g^2;  denom = sqrt(v / (1 - beta2^t)) + eps
    d = (1 - mu_t) / (1 - mu_product) * g / denom + mu_{t+1} / (1 - mu_product mu_{t+1}) * m / denom
    """
    beta1, beta2 = betas

    def init(params):
        return NAdamState(
            zero_step(), jnp.ones([], hyperparam_dtype()), tree_zeros_state(params), tree_zeros_state(params)
        )

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        t = step_count(state.step)
        mu_product, gradient_coef, momentum_coef = _momentum_coefficients(state, betas, momentum_decay)
        exp_avg = update_first_moment(updates, state.exp_avg, beta1)
        exp_avg_sq = update_second_moment(updates, state.exp_avg_sq, beta2)
        correction2 = bias_correction(beta2, t)

        def direction(g, m, v):
            denom = jnp.sqrt(v / correction2) + eps
            return gradient_coef * (g.astype(m.dtype) / denom) + momentum_coef * (m / denom)

        updates = jax.tree.map(direction, updates, exp_avg, exp_avg_sq)
        return updates, NAdamState(increment_step(state.step), mu_product, exp_avg, exp_avg_sq)

    return GradientTransformation(init, update)


def nadam(
    learning_rate: ScalarOrSchedule = 2e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    momentum_decay: ScalarOrSchedule = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """NAdam, exactly ``torch.optim.NAdam``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p`` unless the decay is
    decoupled, at update ``t = 1, 2, ...``::

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)),  mu_product = mu_1 * ... * mu_t
        m = m + (g - m)(1 - beta1);   v = beta2 v + (1 - beta2) g^2
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p * (1 - learning_rate * weight_decay)                         (decoupled_weight_decay)
        p = p - learning_rate * ((1 - mu_t) / (1 - mu_product) * g / denom
                                 + mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom)

    PyTorch: ``torch.optim.NAdam(params, lr, betas, eps, weight_decay, momentum_decay,
    decoupled_weight_decay, maximize=...)``. TensorFlow: ``tf.keras.optimizers.Nadam`` (``momentum_decay``
    fixed at 4e-3). Optax: ``optax.nadam`` has no ``mu_t`` schedule (it uses ``beta1`` throughout).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      eps: added to the denominator, >= 0.
      weight_decay: weight decay >= 0. A literal 0 leaves the term out; it can then not be changed
        with ``set_hyperparams``.
      momentum_decay: ``psi`` of the momentum schedule ``mu_t``, >= 0.
      decoupled_weight_decay: decay the parameters directly (NAdamW) instead of adding an L2 term
        to the gradient.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.nadam(2e-3, weight_decay=1e-2, decoupled_weight_decay=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    betas = check_adam_family_args(learning_rate, betas, eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
    check_bool("decoupled_weight_decay", decoupled_weight_decay)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_nadam,
        dict(
            learning_rate=learning_rate,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
        ),
        maximize=maximize,
        decoupled_weight_decay=decoupled_weight_decay,
        kernel=KernelOp("nadam", (False, False), _kernel_scalars, ("exp_avg", "exp_avg_sq")),
    )
