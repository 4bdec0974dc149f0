"""Adafactor (``torch.optim.Adafactor``): second moments factored into row and column means."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    check_has_params,
    hyperparam_dtype,
    increment_step,
    state_dtype,
    torch_lerp,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_nonnegative, check_number, check_pair, is_zero
from jaxsched.optimizers._adam import step_count
from jaxsched.optimizers._compose import torch_optimizer


class AdafactorState(NamedTuple):
    """State of :func:`adafactor` (``state.inner_state``), with torch's names.

    Each moment field mirrors the parameter tree and holds ``None`` at the leaves it does not apply
    to, so the layout is the same whatever the parameters' shapes (torch's ``state.get("row_var")``).

    Attributes:
      step: updates made so far (torch's ``state["step"]``).
      row_var: for a parameter of 2 or more dimensions, shape ``(..., m, n)``: the running mean of
        ``g^2`` over its last dimension, shape ``(..., m, 1)``; ``None`` for vectors and scalars.
      col_var: the same over its second-to-last dimension, shape ``(..., 1, n)``. With ``row_var``
        it takes ``O(m + n)`` memory instead of ``O(m n)``.
      variance: for a vector or scalar parameter, the running mean of ``g^2`` (its shape); ``None``
        for parameters of 2 or more dimensions.
    """

    step: jax.Array
    row_var: PyTree
    col_var: PyTree
    variance: PyTree


def _is_factored(x) -> bool:
    return jnp.ndim(x) >= 2


def _zeros_reduced(p, axis: int) -> jax.Array:
    shape = list(jnp.shape(p))
    shape[axis] = 1
    return jnp.zeros(shape, state_dtype(p))


def _norm(x, axis=None) -> jax.Array:
    """``torch.norm`` (2-norm) of ``x`` along ``axis``, dimensions kept."""
    return jnp.sqrt(jnp.sum(x * x, axis=axis, keepdims=axis is not None))


def _mean_square(g, axis: int) -> jax.Array:
    # torch squares the norm instead of averaging g * g, to avoid a temporary the size of g
    return jnp.square(_norm(g, axis)) / g.shape[axis]


def scale_by_adafactor(
    *, learning_rate, beta2_decay, eps, d, weight_decay, with_weight_decay: bool
) -> GradientTransformation:
    """Adafactor's whole update, learning rate and weight decay included (torch's ``_single_tensor_adafactor``)::

        one_minus_beta2 = t^beta2_decay;   rho = min(learning_rate, 1 / sqrt(t))
        alpha = max(eps2, RMS(p)) * rho
        row_var = lerp(row_var, mean(g^2, -1), one_minus_beta2);  col_var likewise over -2   (ndim >= 2)
        v = row_var col_var / max(mean(row_var, -2), eps1)                                   (ndim >= 2)
        v = variance = lerp(variance, g^2, one_minus_beta2)                                  (ndim < 2)
        u = g / sqrt(max(v, eps1^2));   u = -alpha / max(1, RMS(u) / d) * u - learning_rate * weight_decay * p

    Raw block: every hyperparameter is a number or array, except ``eps[0]``, which may be ``None``
    (``finfo(p.dtype).eps`` per parameter). ``with_weight_decay`` is structural; ``params`` are required.
    """
    eps1, eps2 = eps

    def init(params):
        return AdafactorState(
            zero_step(),
            jax.tree.map(lambda p: _zeros_reduced(p, -1) if _is_factored(p) else None, params),
            jax.tree.map(lambda p: _zeros_reduced(p, -2) if _is_factored(p) else None, params),
            jax.tree.map(lambda p: None if _is_factored(p) else jnp.zeros_like(p, dtype=state_dtype(p)), params),
        )

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "adafactor")
        t = step_count(state.step)
        one_minus_beta2 = t**beta2_decay
        rho = jnp.minimum(learning_rate, 1 / t**0.5)

        def leaf_update(g, p, row_var, col_var, variance):
            dtype = state_dtype(p)
            g, p_math = jnp.asarray(g, dtype), jnp.asarray(p, dtype)
            leaf_eps1 = jnp.finfo(jnp.asarray(p).dtype).eps if eps1 is None else eps1
            # torch computes these scalars in Python (double) and casts them to the tensors' dtype on use
            alpha = jnp.maximum(eps2, _norm(p_math).astype(hyperparam_dtype()) / math.sqrt(p_math.size)) * rho
            weight = one_minus_beta2.astype(dtype)
            if _is_factored(g):
                row_var = torch_lerp(row_var, _mean_square(g, -1), weight).astype(dtype)
                col_var = torch_lerp(col_var, _mean_square(g, -2), weight).astype(dtype)
                row_var_mean = jnp.maximum(jnp.mean(row_var, axis=-2, keepdims=True), jnp.asarray(leaf_eps1, dtype))
                var_estimate = row_var * col_var / row_var_mean
            else:
                variance = var_estimate = torch_lerp(variance, g * g, weight).astype(dtype)
            direction = jax.lax.rsqrt(jnp.maximum(var_estimate, jnp.asarray(leaf_eps1 * leaf_eps1, dtype))) * g
            clipping = jnp.maximum(1.0, _norm(direction).astype(hyperparam_dtype()) / (math.sqrt(direction.size) * d))
            new_update = (-alpha / clipping).astype(dtype) * direction
            if with_weight_decay:
                new_update = new_update - (learning_rate * weight_decay).astype(dtype) * p_math
            return new_update, row_var, col_var, variance

        results = jax.tree.map(leaf_update, updates, params, state.row_var, state.col_var, state.variance)
        new_updates, row_var, col_var, variance = (
            jax.tree.map(lambda _, leaf_results, i=i: leaf_results[i], updates, results) for i in range(4)
        )
        return new_updates, AdafactorState(increment_step(state.step), row_var, col_var, variance)

    return GradientTransformation(init, update)


def adafactor(
    learning_rate: ScalarOrSchedule = 1e-2,
    beta2_decay: ScalarOrSchedule = -0.8,
    eps: tuple[ScalarOrSchedule | None, ScalarOrSchedule] = (None, 1e-3),
    d: ScalarOrSchedule = 1.0,
    weight_decay: ScalarOrSchedule = 0.0,
    maximize: bool = False,
) -> GradientTransformation:
    """Adafactor, exactly ``torch.optim.Adafactor``.

    With ``g`` the gradient (negated if ``maximize``), at update ``t = 1, 2, ...`` and for each parameter ``p``::

        beta2_t = 1 - t^beta2_decay;   rho = min(learning_rate, 1 / sqrt(t));   alpha = max(eps[1], RMS(p)) * rho
        p = p * (1 - learning_rate * weight_decay)                                   (decoupled, as AdamW)
        ndim >= 2:  R = beta2_t R + (1 - beta2_t) mean(g^2, last dim)                 (row_var, shape (..., m, 1))
                    C = beta2_t C + (1 - beta2_t) mean(g^2, second-to-last dim)       (col_var, shape (..., 1, n))
                    v = R C / max(mean(R), eps[0])
        ndim < 2:   v = beta2_t v + (1 - beta2_t) g^2                                 (variance)
        u = g / max(sqrt(v), eps[0]);   p = p - alpha * u / max(1, RMS(u) / d)

    ``RMS(x) = ||x|| / sqrt(x.size)``, computed on ``p`` before the decay. A parameter of 2 or more
    dimensions keeps only its row and column means: ``O(m + n)`` state for an ``(m, n)`` matrix.
    The learning rate caps the relative step size ``rho``; the step is relative to the parameter's
    RMS (at least ``eps[1]``), so ``learning_rate`` does not scale the update linearly.

    PyTorch: ``torch.optim.Adafactor(params, lr, beta2_decay, eps, d, weight_decay, maximize=...)``.
    torch resolves ``eps[0]=None`` from the dtype of the first parameter of a group; here it is
    resolved per parameter (the same whenever a group has one dtype).
    TensorFlow: ``tf.keras.optimizers.Adafactor`` (``epsilon_1`` added to ``g^2`` inside the factors,
    learning rate multiplies the step). Optax: ``optax.adafactor`` (the paper's version: ``eps`` inside
    the factors, a momentum option, a ``min_dim_size_to_factor``).

    Args:
      learning_rate: maximum relative step size and weight decay scale, >= 0, a float or a schedule.
      beta2_decay: exponent of the second-moment decay ``1 - t^beta2_decay``, <= 0.
      eps: ``(eps[0], eps[1])``: ``eps[0]`` >= 0 bounds the variance estimate from below (``None``:
        the machine epsilon of each parameter's dtype, as torch; it cannot then be set with
        ``set_hyperparams``); ``eps[1]`` >= 0 is the smallest parameter RMS the step is relative to.
      d: update clipping threshold on ``RMS(u)``, >= 1.
      weight_decay: decoupled decay rate >= 0 (multiplied by the learning rate). A literal 0 leaves
        the term out; it can then not be changed with ``set_hyperparams``.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.adafactor(1e-2, weight_decay=1e-4)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)      # params are required
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_number("beta2_decay", beta2_decay, high=0.0)
    eps1, eps2 = check_pair("eps", eps)
    if eps1 is not None:
        check_nonnegative("eps[0]", eps1)
    check_nonnegative("eps[1]", eps2)
    check_number("d", d, low=1.0)
    check_nonnegative("weight_decay", weight_decay)
    check_bool("maximize", maximize)
    return torch_optimizer(
        functools.partial(scale_by_adafactor, with_weight_decay=not is_zero(weight_decay)),
        dict(learning_rate=learning_rate, beta2_decay=beta2_decay, eps=(eps1, eps2), d=d, weight_decay=weight_decay),
        maximize=maximize,
        supports_complex=False,
    )
