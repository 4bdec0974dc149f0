"""RAdam: Adam with variance rectification (``torch.optim.RAdam``)."""

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

# torch rectifies once the approximated SMA length exceeds this.
RECTIFICATION_THRESHOLD = 5.0


class RAdamState(NamedTuple):
    """State of :func:`radam` (``state.inner_state``), with torch's names.

    Attributes:
      step: updates made so far.
      exp_avg: first moment ``m``.
      exp_avg_sq: second moment ``v``.
    """

    step: jax.Array
    exp_avg: PyTree
    exp_avg_sq: PyTree


def rho(beta2, t) -> tuple[jax.Array, jax.Array]:
    """``(rho_inf, rho_t)``: ``rho_inf = 2 / (1 - beta2) - 1``, ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``.

    In float64 this is torch's formula as torch writes it. In float32 that formula subtracts two
    numbers near ``rho_inf`` (about 2000 for beta2 = 0.999) to get a small ``rho_t``, losing 3 to 4
    digits and flipping the ``rho_t > 5`` decision that torch takes in float64. Float32 therefore
    uses the same value without the cancellation: with ``x = 1 - beta2``, ``L = -log(beta2)`` and
    ``z = t L``, ``rho_t = c + t (1 - z/6 + z^3/360 - ...)`` where ``c = 2/x - 1 - 2/L`` (its own
    series for small ``x``), from ``2 t / expm1(z) = (2 / L) z / expm1(z)`` and the Bernoulli series.
    """
    rho_inf = 2 / (1 - beta2) - 1
    if hyperparam_dtype() == jnp.float64:
        return rho_inf, rho_inf - 2 * t * beta2**t / bias_correction(beta2, t)
    x = 1 - beta2
    log_decay = -jnp.log1p(-x)
    z = t * log_decay
    c_series = x * (1 / 6 + x * (1 / 12 + x * (19 / 360 + x * (3 / 80 + x * (863 / 30240 + x * 275 / 12096)))))
    c = jnp.where(x < 0.1, c_series, rho_inf - 2 / log_decay)
    z2 = z * z
    bernoulli = 1 - z / 6 + z * z2 * (1 / 360 - z2 * (1 / 15120 - z2 * (1 / 604800 - z2 / 23950080)))
    rho_t = jnp.where(z < 0.5, c + t * bernoulli, rho_inf - 2 * t / jnp.expm1(z))
    return rho_inf, rho_t


def rectification(beta2, t) -> tuple[jax.Array, jax.Array]:
    """``(rho_t > 5, rect)``: whether to use the adaptive step, and its rectification factor.

    ``rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``, with
    ``rho_inf`` and ``rho_t`` from :func:`rho`.
    """
    rho_inf, rho_t = rho(beta2, t)
    rectify = rho_t > RECTIFICATION_THRESHOLD
    # rect is undefined below the threshold (sqrt of a negative, or 0/0 for rho_inf in {2, 4}); a
    # stand-in value keeps NaNs out of the unused branch.
    safe = RECTIFICATION_THRESHOLD + 1
    rho_t, rho_inf = jnp.where(rectify, rho_t, safe), jnp.where(rectify, rho_inf, safe)
    rect = jnp.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return rectify, rect


def _kernel_scalars(state: RAdamState, *, betas, eps) -> tuple:
    """The scalars of ``ops.h``'s ``Radam``: :func:`scale_by_radam`'s, the division by ``1 - beta1^t``
    as the multiplication by its reciprocal that XLA compiles it to, the switch as 0 or 1."""
    beta1, beta2 = betas
    t = step_count(state.step)
    rectify, rect = rectification(beta2, t)
    correction2_sqrt = jnp.sqrt(bias_correction(beta2, t))
    return 1 - beta1, beta2, 1 - beta2, 1 / bias_correction(beta1, t), correction2_sqrt, eps, rectify, rect


def scale_by_radam(*, betas, eps) -> GradientTransformation:
    """RAdam's direction, before the learning rate (torch's ``_single_tensor_radam``)::

        m = m + (g - m)(1 - beta1);   v = beta2 v + (1 - beta2) g^2;   mhat = m / (1 - beta1^t)
        d = mhat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * rect     if rho_t > 5
        d = mhat                                                  otherwise

    The switch is a ``jnp.where`` on the step, so it works under ``jit`` with scheduled betas.
    """
    beta1, beta2 = betas

    def init(params):
        return RAdamState(zero_step(), tree_zeros_state(params), tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        t = step_count(state.step)
        exp_avg = update_first_moment(updates, state.exp_avg, beta1)
        exp_avg_sq = update_second_moment(updates, state.exp_avg_sq, beta2)
        correction1 = bias_correction(beta1, t)
        correction2_sqrt = jnp.sqrt(bias_correction(beta2, t))
        rectify, rect = rectification(beta2, t)

        def direction(m, v):
            adaptive = correction2_sqrt / (jnp.sqrt(v) + eps)
            return m / correction1 * jnp.where(rectify, adaptive * rect, 1.0)

        updates = jax.tree.map(direction, exp_avg, exp_avg_sq)
        return updates, RAdamState(increment_step(state.step), exp_avg, exp_avg_sq)

    return GradientTransformation(init, update)


def radam(
    learning_rate: ScalarOrSchedule = 1e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """RAdam, exactly ``torch.optim.RAdam``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p`` unless the decay is
    decoupled, at update ``t = 1, 2, ...``::

        m = m + (g - m)(1 - beta1);   v = beta2 v + (1 - beta2) g^2;   mhat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        p = p * (1 - learning_rate * weight_decay)                        (decoupled_weight_decay)
        p = p - learning_rate * mhat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * rect   if rho_t > 5
        p = p - learning_rate * mhat                                                otherwise
        rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    PyTorch: ``torch.optim.RAdam(params, lr, betas, eps, weight_decay, decoupled_weight_decay,
    maximize=...)``. Optax: ``optax.radam`` (its ``threshold`` defaults to 5 as here, but it adds
    ``eps`` to the bias-corrected root). TensorFlow Addons: ``tfa.optimizers.RectifiedAdam``.

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      eps: added to ``sqrt(v)``, >= 0.
      weight_decay: weight decay >= 0. A literal 0 leaves the term out; it can then not be changed
        with ``set_hyperparams``.
      decoupled_weight_decay: decay the parameters directly (as AdamW) instead of adding an L2 term
        to the gradient.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.radam(1e-3, weight_decay=1e-2, decoupled_weight_decay=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    betas = check_adam_family_args(learning_rate, betas, eps, weight_decay=weight_decay)
    check_bool("decoupled_weight_decay", decoupled_weight_decay)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_radam,
        dict(learning_rate=learning_rate, betas=betas, eps=eps, weight_decay=weight_decay),
        maximize=maximize,
        decoupled_weight_decay=decoupled_weight_decay,
        kernel=KernelOp("radam", (False, False), _kernel_scalars, ("exp_avg", "exp_avg_sq")),
    )
