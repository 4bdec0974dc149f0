"""Adam and AdamW (``torch.optim.Adam``, ``torch.optim.AdamW``), and the moment updates the Adam family shares."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

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
from jaxsched.core._validation import check_bool, check_nonnegative, check_pair, check_unit_interval
from jaxsched.optimizers._compose import KernelOp, torch_optimizer

# --- shared by the Adam family (adam, adamax, nadam, radam, sparse_adam) ---------------------------


def check_adam_family_args(learning_rate: Any, betas: Any, eps: Any, **nonnegative: Any) -> tuple[Any, Any]:
    """torch's checks for ``lr``, ``betas``, ``eps`` (and any extra ``name=value`` that must be >= 0).

    Returns ``betas`` as a tuple ``(beta1, beta2)``.
    """
    check_nonnegative("learning_rate", learning_rate)
    beta1, beta2 = check_pair("betas", betas)
    check_unit_interval("betas[0]", beta1)
    check_unit_interval("betas[1]", beta2)
    check_nonnegative("eps", eps)
    for name, value in nonnegative.items():
        check_nonnegative(name, value)
    return beta1, beta2


def step_count(step: jax.Array) -> jax.Array:
    """The number of the update being made (1 on the first update), as a float for ``beta ** t``."""
    return increment_step(step).astype(hyperparam_dtype())


def bias_correction(beta: jax.Array, t: jax.Array) -> jax.Array:
    """``1 - beta ** t``."""
    return 1 - beta**t


def update_first_moment(grads: PyTree, exp_avg: PyTree, beta1: jax.Array) -> PyTree:
    """``m = m + (g - m) * (1 - beta1)`` (torch's ``exp_avg.lerp_(grad, 1 - beta1)``), in the state dtype."""
    return jax.tree.map(lambda g, m: (m + (g.astype(m.dtype) - m) * (1 - beta1)).astype(m.dtype), grads, exp_avg)


def update_second_moment(grads: PyTree, exp_avg_sq: PyTree, beta2: jax.Array) -> PyTree:
    """``v = beta2 * v + ((1 - beta2) * g) * g``, in the state dtype.

    torch's ``addcmul_(g, g, value=1 - beta2)`` order: ``g * g`` first would overflow float32 for
    ``|g|`` above about 1.8e19, freezing the parameter where torch still moves it.
    """

    def update(g, v):
        g = g.astype(v.dtype)
        return (v * beta2 + ((1 - beta2) * g) * g).astype(v.dtype)

    return jax.tree.map(update, grads, exp_avg_sq)


# --- Adam -----------------------------------------------------------------------------------------


class AdamState(NamedTuple):
    """State of :func:`adam` and :func:`adamw` (``state.inner_state``), with torch's names.

    Attributes:
      step: updates made so far (torch's ``state["step"]``).
      exp_avg: first moment ``m``, one array per parameter.
      exp_avg_sq: second moment ``v``.
      max_exp_avg_sq: running maximum of ``v`` with ``amsgrad=True``, else ``None``.
    """

    step: jax.Array
    exp_avg: PyTree
    exp_avg_sq: PyTree
    max_exp_avg_sq: PyTree | None


def _bias_corrections(state: AdamState, betas) -> tuple[jax.Array, jax.Array]:
    """``(1 - beta1^t, sqrt(1 - beta2^t))`` for the update being made."""
    t = step_count(state.step)
    return bias_correction(betas[0], t), jnp.sqrt(bias_correction(betas[1], t))


def _kernel_scalars(state: AdamState, *, betas, eps) -> tuple:
    """The scalars of ``ops.h``'s ``Adam``: :func:`scale_by_adam`'s, its two bias corrections inverted.

    XLA compiles the math's divisions by these scalars into multiplications by their reciprocals
    (``rsqrt`` for the square root); the kernel does the same, one division per element instead of three.
    """
    beta1, beta2 = betas
    t = step_count(state.step)
    return 1 - beta1, beta2, 1 - beta2, jax.lax.rsqrt(bias_correction(beta2, t)), eps, 1 / bias_correction(beta1, t)


def scale_by_adam(*, betas, eps, amsgrad: bool = False) -> GradientTransformation:
    """Adam's direction, before the learning rate (torch's ``_single_tensor_adam``)::

        m = m + (g - m)(1 - beta1);   v = beta2 v + (1 - beta2) g^2;   vmax = max(vmax, v) (amsgrad)
        u = m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps) / (1 - beta1^t)

    Raw block: ``betas`` is a pair of numbers or arrays, ``eps`` a number or array.
    """
    beta1, beta2 = betas

    def init(params):
        return AdamState(
            zero_step(),
            tree_zeros_state(params),
            tree_zeros_state(params),
            tree_zeros_state(params) if amsgrad else None,
        )

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        exp_avg = update_first_moment(updates, state.exp_avg, beta1)
        exp_avg_sq = update_second_moment(updates, state.exp_avg_sq, beta2)
        max_exp_avg_sq = jax.tree.map(jnp.maximum, state.max_exp_avg_sq, exp_avg_sq) if amsgrad else None
        correction1, correction2_sqrt = _bias_corrections(state, betas)

        def direction(m, v):
            return m / (jnp.sqrt(v) / correction2_sqrt + eps) / correction1

        updates = jax.tree.map(direction, exp_avg, max_exp_avg_sq if amsgrad else exp_avg_sq)
        return updates, AdamState(increment_step(state.step), exp_avg, exp_avg_sq, max_exp_avg_sq)

    return GradientTransformation(init, update)


def _adam(learning_rate, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    betas = check_adam_family_args(learning_rate, betas, eps, weight_decay=weight_decay)
    check_bool("amsgrad", amsgrad)
    check_bool("maximize", maximize)
    check_bool("decoupled_weight_decay", decoupled_weight_decay)
    return torch_optimizer(
        functools.partial(scale_by_adam, amsgrad=amsgrad),
        dict(learning_rate=learning_rate, betas=betas, eps=eps, weight_decay=weight_decay),
        maximize=maximize,
        decoupled_weight_decay=decoupled_weight_decay,
        kernel=KernelOp("adam", (amsgrad, False), _kernel_scalars, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    )


def adam(
    learning_rate: ScalarOrSchedule = 1e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> GradientTransformation:
    """Adam, exactly ``torch.optim.Adam``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p`` (L2), at update ``t = 1, 2, ...``::

        m = m + (g - m)(1 - beta1)
        v = beta2 v + (1 - beta2) g^2
        vmax = max(vmax, v)                                  (amsgrad; the max of the raw v)
        p = p - learning_rate / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)

    PyTorch: ``torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad, maximize=...,
    decoupled_weight_decay=...)``.
    TensorFlow: ``tf.keras.optimizers.Adam`` (it adds ``epsilon`` to the uncorrected ``sqrt(v)``, and
    its ``weight_decay`` is decoupled). Optax: ``optax.adam`` (``eps`` placed as here).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      eps: added to the denominator, >= 0.
      weight_decay: L2 penalty >= 0 added to the gradient. A literal 0 leaves the term out; it can
        then not be changed with ``set_hyperparams``.
      amsgrad: keep the running maximum of ``v`` (AMSGrad).
      maximize: maximize the objective instead of minimizing it.
      decoupled_weight_decay: apply ``weight_decay`` as AdamW does (``p *= 1 - learning_rate *
        weight_decay``) instead of as L2; then ``adam`` equals :func:`adamw` (torch 2.13's option).

    Example::

        tx = js.adam(1e-3, betas=(0.9, 0.99), amsgrad=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    return _adam(learning_rate, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)


def adamw(
    learning_rate: ScalarOrSchedule = 1e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 1e-2,
    amsgrad: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """AdamW, exactly ``torch.optim.AdamW``: Adam with decoupled weight decay.

    The parameters decay before the Adam step (``g`` is the gradient, negated if ``maximize``)::

        p = p * (1 - learning_rate * weight_decay)
        p = p - learning_rate / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)

    with ``m``, ``v``, ``vmax`` as in :func:`adam`, computed from ``g`` alone.

    PyTorch: ``torch.optim.AdamW(params, lr, betas, eps, weight_decay=1e-2, amsgrad, maximize=...)``.
    TensorFlow: ``tf.keras.optimizers.AdamW`` (default ``weight_decay`` 4e-3, ``epsilon`` added to the
    uncorrected ``sqrt(v)``). Optax: ``optax.adamw`` (default ``weight_decay`` 1e-4).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      eps: added to the denominator, >= 0.
      weight_decay: decoupled decay rate >= 0 (multiplied by the learning rate, as torch).
      amsgrad: keep the running maximum of ``v`` (AMSGrad).
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.adamw(js.schedules.cosine_annealing(1e-3, t_max=10_000), weight_decay=0.05)
    """
    return _adam(learning_rate, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True)
