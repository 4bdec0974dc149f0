"""LAMB (``pytorch_optimizer.Lamb``, pytorch_optimizer 4.1.0): Adam directions scaled by a per-tensor trust ratio."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    check_has_params,
    increment_step,
    state_dtype,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_int, check_unit_interval
from jaxsched.optimizers._adam import bias_correction, check_adam_family_args, step_count, update_second_moment
from jaxsched.optimizers._compose import torch_optimizer

# pytorch_optimizer's Lamb.clamp: the parameter norm in the trust ratio is capped at this value
WEIGHT_NORM_CAP = 10.0


class LambState(NamedTuple):
    """State of :func:`lamb` (``state.inner_state``), with pytorch_optimizer's names.

    Attributes:
      step: updates made so far (the reference's ``group["step"]``).
      exp_avg: first moment ``m``, one array per parameter.
      exp_avg_sq: second moment ``v``.
      exp_grad_adanorm: with ``adanorm=True``, the running average of each gradient's norm (shape
        ``(1,)`` per parameter, as the reference); else ``None``.
    """

    step: jax.Array
    exp_avg: PyTree
    exp_avg_sq: PyTree
    exp_grad_adanorm: PyTree | None


def global_norm_scale(grads: PyTree, max_grad_norm, eps) -> jax.Array:
    """``min(max_grad_norm / (|g| + eps), 1)`` in float32 (1 when ``max_grad_norm`` is 0), the reference's ``pre_norm``.

    pytorch_optimizer squares and sums the per-tensor norms in float32 whatever the parameters'
    dtype, one tensor after the other, and divides as ``reciprocal() * max_grad_norm``.
    """
    norms = [jnp.linalg.norm(g.astype(state_dtype(g))).astype(jnp.float32) for g in jax.tree.leaves(grads)]
    squared_sum = functools.reduce(lambda total, n: total + n * n, norms, jnp.float32(0))
    scale = jnp.minimum(1 / (jnp.sqrt(squared_sum) + jnp.float32(eps)) * jnp.float32(max_grad_norm), 1)
    return jnp.where(max_grad_norm == 0, jnp.float32(1), scale)


def rectified_step_size(learning_rate, beta2, t, n_sma_threshold: int, degenerated_to_sgd: bool):
    """The reference's ``get_rectify_step_size``: ``(learning_rate * rt, n_sma)``, rt = -1 when the step is skipped."""
    n_sma_max = 2 / (1 - beta2) - 1
    beta2_t = beta2**t
    n_sma = n_sma_max - 2 * t * beta2_t / (1 - beta2_t)
    rectified = n_sma >= n_sma_threshold
    # the guard keeps sqrt's argument valid where the value is not used
    safe_n_sma = jnp.where(rectified, n_sma, n_sma_max)
    rt = jnp.sqrt(
        (1 - beta2_t) * (safe_n_sma - 4) / (n_sma_max - 4) * (safe_n_sma - 2) / safe_n_sma * n_sma_max / (n_sma_max - 2)
    )
    rt = jnp.where(rectified, rt, 1.0 if degenerated_to_sgd else -1.0)
    return learning_rate * rt, n_sma


def adanorm_gradient(g, exp_grad_norm, r):
    """AdaNorm: ``g * e / |g|`` where the running norm ``e`` exceeds ``|g| > 0``, and the new ``e``."""
    grad_norm = jnp.linalg.norm(g)
    exp_grad_norm = exp_grad_norm * r + grad_norm * (1 - r)
    boost = (grad_norm > 0) & (exp_grad_norm[0] > grad_norm)
    scaled = g * exp_grad_norm[0] / jnp.where(grad_norm > 0, grad_norm, 1)
    return jnp.where(boost, scaled, g), exp_grad_norm


def trust_ratio(weight, update, eps):
    """``min(|w|, 10) / (|u| + eps)``, or 1 when either norm is 0 (norms of the whole tensor)."""
    weight_norm = jnp.minimum(jnp.linalg.norm(weight), WEIGHT_NORM_CAP)
    update_norm = jnp.linalg.norm(update)
    both_nonzero = (weight_norm != 0) & (update_norm != 0)
    return jnp.where(both_nonzero, weight_norm / (update_norm + eps), 1)


def scale_by_lamb(
    *,
    learning_rate,
    betas,
    weight_decay,
    eps,
    max_grad_norm=None,
    adanorm_r=None,
    weight_decouple: bool = True,
    fixed_decay: bool = False,
    rectify: bool = False,
    degenerated_to_sgd: bool = False,
    n_sma_threshold: int = 5,
    grad_averaging: bool = True,
    adam: bool = False,
    adam_debias: bool = False,
) -> GradientTransformation:
    """LAMB's whole update, learning rate and weight decay included (the reference's ``Lamb.step``).

    ``max_grad_norm`` is ``None`` without ``pre_norm``, ``adanorm_r`` ``None`` without ``adanorm``.
    The reference batches tensors (``_step_foreach``, dividing as ``m * (1 / d)``) unless ``rectify``
    or ``adanorm`` send it down its per-tensor path (``m / d``); each form is kept.
    """
    beta1, beta2 = betas
    beta3 = 1 - beta1 if grad_averaging else 1.0
    per_tensor_path = rectify or adanorm_r is not None

    def init(params):
        adanorm_state = None
        if adanorm_r is not None:
            adanorm_state = jax.tree.map(lambda p: jnp.zeros((1,), state_dtype(p)), params)
        return LambState(zero_step(), tree_zeros_state(params), tree_zeros_state(params), adanorm_state)

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "lamb")
        t = step_count(state.step)
        if max_grad_norm is not None:
            scale = global_norm_scale(updates, max_grad_norm, eps)
            updates = jax.tree.map(lambda g: g.astype(state_dtype(g)) * scale.astype(state_dtype(g)), updates)
        grads = jax.tree.map(lambda g, m: g.astype(m.dtype), updates, state.exp_avg)
        params = jax.tree.map(lambda p, m: p.astype(m.dtype), params, state.exp_avg)

        exp_grad_adanorm = state.exp_grad_adanorm
        averaged_grads = grads
        if adanorm_r is not None:
            pairs = jax.tree.map(lambda g, e: adanorm_gradient(g, e, adanorm_r), grads, exp_grad_adanorm)
            averaged_grads = jax.tree.map(lambda g, pair: pair[0], grads, pairs)
            exp_grad_adanorm = jax.tree.map(lambda g, pair: pair[1], grads, pairs)
        exp_avg = jax.tree.map(lambda g, m: m * beta1 + g * beta3, averaged_grads, state.exp_avg)
        exp_avg_sq = update_second_moment(grads, state.exp_avg_sq, beta2)

        decay_factor = weight_decay * (1.0 if fixed_decay else learning_rate) if weight_decouple else 0.0
        step_size, n_sma = (
            rectified_step_size(learning_rate, beta2, t, n_sma_threshold, degenerated_to_sgd)
            if rectify
            else (learning_rate, None)
        )
        if not adam_debias:
            step_size = step_size / bias_correction(beta1, t)

        def delta(p, m, v):
            decayed = p * (1 - decay_factor)
            if n_sma is not None:  # rectify
                direction = jnp.where(n_sma >= n_sma_threshold, m / (jnp.sqrt(v) + eps), m)
                trust = trust_ratio(decayed, decayed + -step_size * direction, eps)
            else:
                denominator = jnp.sqrt(v) + eps
                direction = m / denominator if per_tensor_path else 1 / denominator * m
                if not weight_decouple:
                    direction = direction + weight_decay * p
                trust = trust_ratio(decayed, direction, eps)
            if adam:
                step = -step_size * direction
            elif per_tensor_path:
                step = -step_size * trust * direction
            else:  # the batched path scales u by the trust ratio before the step size
                step = -step_size * (direction * trust)
            if rectify:  # the reference skips the step (not the decay) while step_size <= 0
                step = jnp.where(step_size > 0, step, 0)
            return -decay_factor * p + step

        new_updates = jax.tree.map(delta, params, exp_avg, exp_avg_sq)
        return new_updates, LambState(increment_step(state.step), exp_avg, exp_avg_sq, exp_grad_adanorm)

    return GradientTransformation(init, update)


def lamb(
    learning_rate: ScalarOrSchedule = 1e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    weight_decay: ScalarOrSchedule = 0.0,
    weight_decouple: bool = True,
    fixed_decay: bool = False,
    rectify: bool = False,
    degenerated_to_sgd: bool = False,
    n_sma_threshold: int = 5,
    grad_averaging: bool = True,
    max_grad_norm: ScalarOrSchedule = 1.0,
    adam: bool = False,
    pre_norm: bool = False,
    eps: ScalarOrSchedule = 1e-6,
    maximize: bool = False,
    adam_debias: bool = False,
    adanorm: bool = False,
    adanorm_r: ScalarOrSchedule = 0.95,
) -> GradientTransformation:
    """LAMB, exactly ``pytorch_optimizer.Lamb`` (pytorch_optimizer 4.1.0).

    With ``g`` the gradient (negated if ``maximize``; times ``min(max_grad_norm / (|g|_global + eps), 1)``,
    computed in float32, if ``pre_norm``), at update ``t = 1, 2, ...`` and for each parameter tensor ``p``::

        m = beta1 m + beta3 g                   (beta3 = 1 - beta1 if grad_averaging else 1)
        v = beta2 v + (1 - beta2) g^2
        p = p (1 - weight_decay * lr)           (weight_decouple; weight_decay alone if fixed_decay)
        u = m / (sqrt(v) + eps)   (+ weight_decay p  without weight_decouple)
        trust = min(|p|, 10) / (|u| + eps)      (1 if |p| or |u| is 0, or if adam)
        p = p - lr / (1 - beta1^t) * trust * u  (no 1 / (1 - beta1^t) with adam_debias)

    ``|.|`` is the Frobenius norm of the whole tensor. ``rectify`` uses RAdam's rectified step size
    ``lr * rt`` and, while the rectification is off, ``u = m`` (``degenerated_to_sgd``) or no step
    at all; its trust ratio compares ``p`` with ``p - step_size u`` and it has no L2 decay (as the
    reference). ``adanorm`` replaces ``g`` in ``m`` by ``g * e / |g|`` where the running norm
    ``e = adanorm_r e + (1 - adanorm_r) |g|`` exceeds ``|g|``.

    Reference: ``pytorch_optimizer.Lamb(params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0,
    weight_decouple=True, fixed_decay=False, rectify=False, degenerated_to_sgd=False, n_sma_threshold=5,
    grad_averaging=True, max_grad_norm=1.0, adam=False, pre_norm=False, eps=1e-6, maximize=False,
    adam_debias=False, adanorm=False, adanorm_r=0.95)`` (the last three through its ``**kwargs``); its
    ``pre_norm`` reads the constructor's ``eps`` and ``max_grad_norm``, here their current values. Its
    ``foreach`` only selects a kernel. Optax: ``optax.lamb`` (it bias-corrects ``v`` too, has no
    weight-norm cap nor ``eps`` in the trust ratio, and puts the decay inside the trust ratio).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      weight_decay: decay rate >= 0, decoupled or L2 (``weight_decouple``).
      weight_decouple: decay the parameters (AdamW style) rather than adding ``weight_decay p`` to ``u``.
      fixed_decay: decoupled decay not multiplied by the learning rate.
      rectify: RAdam's rectified step size.
      degenerated_to_sgd: with ``rectify``, step with ``m`` while the rectification is off.
      n_sma_threshold: with ``rectify``, the length of the moving average from which it is on (an int).
      grad_averaging: scale the gradient by ``1 - beta1`` in ``m``.
      max_grad_norm: with ``pre_norm``, the global gradient norm scaled down to, >= 0 (0: no scaling).
      adam: use a trust ratio of 1 (plain Adam without the second-moment bias correction).
      pre_norm: scale the gradients by their global norm first.
      eps: added to the denominators, >= 0.
      maximize: maximize the objective instead of minimizing it.
      adam_debias: leave out the ``1 / (1 - beta1^t)`` of the step size.
      adanorm: AdaNorm's gradient-norm correction of ``m``.
      adanorm_r: with ``adanorm``, the decay of the running gradient norm, in ``[0, 1)``.

    Example::

        tx = js.lamb(2e-3, weight_decay=0.01, pre_norm=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    betas = check_adam_family_args(learning_rate, betas, eps, weight_decay=weight_decay, max_grad_norm=max_grad_norm)
    for name, flag in dict(
        weight_decouple=weight_decouple,
        fixed_decay=fixed_decay,
        rectify=rectify,
        degenerated_to_sgd=degenerated_to_sgd,
        grad_averaging=grad_averaging,
        adam=adam,
        pre_norm=pre_norm,
        maximize=maximize,
        adam_debias=adam_debias,
        adanorm=adanorm,
    ).items():
        check_bool(name, flag)
    check_int("n_sma_threshold", n_sma_threshold)
    check_unit_interval("adanorm_r", adanorm_r)

    hyperparams = dict(learning_rate=learning_rate, betas=betas, weight_decay=weight_decay, eps=eps)
    if pre_norm:
        hyperparams["max_grad_norm"] = max_grad_norm
    if adanorm:
        hyperparams["adanorm_r"] = adanorm_r
    math = functools.partial(
        scale_by_lamb,
        weight_decouple=weight_decouple,
        fixed_decay=fixed_decay,
        rectify=rectify,
        degenerated_to_sgd=degenerated_to_sgd,
        n_sma_threshold=n_sma_threshold,
        grad_averaging=grad_averaging,
        adam=adam,
        adam_debias=adam_debias,
    )
    return torch_optimizer(math, hyperparams, maximize=maximize, off_when_zero=(), supports_complex=False)
