"""Prodigy (``prodigyopt.Prodigy``): Adam with a step size ``d`` estimated from the distance travelled."""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

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
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_int, check_positive, check_unit_interval
from jaxsched.optimizers._adam import check_adam_family_args, step_count
from jaxsched.optimizers._compose import torch_optimizer


class ProdigyState(NamedTuple):
    """State of :func:`prodigy` (``state.inner_state``), with the reference's names.

    Attributes:
      k: updates made so far (``group['k']``).
      d: the step size estimate (``group['d']``), ``d0`` at first.
      d_max: the largest estimate ``d_hat`` so far, at least ``d0`` (``group['d_max']``).
      d_numerator: the running numerator of ``d_hat`` (``group['d_numerator']``).
      s: running sum of scaled gradients, every ``slice_p``-th entry of each flattened parameter
        (``state[p]['s']``).
      p0: the initial parameters, sliced like ``s`` (``state[p]['p0']``).
      exp_avg: first moment (``state[p]['exp_avg']``), kept even while ``beta1`` is 0.
      exp_avg_sq: second moment (``state[p]['exp_avg_sq']``).
    """

    k: jax.Array
    d: jax.Array
    d_max: jax.Array
    d_numerator: jax.Array
    s: PyTree
    p0: PyTree
    exp_avg: PyTree
    exp_avg_sq: PyTree


def _sliced(x: jax.Array, slice_p: int) -> jax.Array:
    return jnp.ravel(x)[::slice_p]


def _sum_in_order(values: list[jax.Array], dtype) -> jax.Array:
    """``0.0 + v0 + v1 + ...``: the reference accumulates per-parameter Python floats in parameter order."""
    return functools.reduce(jnp.add, values, jnp.zeros([], dtype))


def scale_by_prodigy(
    *,
    learning_rate,
    betas,
    eps,
    weight_decay,
    d0,
    d_coef,
    growth_rate,
    beta3=None,
    decouple: bool,
    use_bias_correction: bool,
    safeguard_warmup: bool,
    slice_p: int,
) -> GradientTransformation:
    """Prodigy's whole step, learning rate and weight decay included (the update is ``p_new - p``).

    ``beta3=None`` means ``sqrt(beta2)``. Raw block: arguments are numbers or arrays, flags are Python values.
    """
    beta1, beta2 = betas

    def init(params):
        dtype = hyperparam_dtype()
        d = jnp.asarray(d0, dtype)
        return ProdigyState(
            k=zero_step(),
            d=d,
            d_max=d,
            d_numerator=jnp.zeros([], dtype),
            s=jax.tree.map(lambda p: jnp.zeros_like(_sliced(p, slice_p), state_dtype(p)), params),
            p0=jax.tree.map(lambda p: _sliced(p, slice_p).astype(state_dtype(p)), params),
            exp_avg=tree_zeros_state(params),
            exp_avg_sq=tree_zeros_state(params),
        )

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "prodigy")
        dtype = state.d.dtype
        params = jax.tree.map(lambda p, v: jnp.asarray(p, v.dtype), params, state.exp_avg_sq)
        grads = jax.tree.map(lambda g, v: jnp.asarray(g, v.dtype), updates, state.exp_avg_sq)
        if not decouple:
            grads = jax.tree.map(lambda g, p: g + weight_decay * p, grads, params)
        decay_rate = jnp.sqrt(beta2) if beta3 is None else beta3
        t = step_count(state.k)
        correction = ((1 - beta2**t) ** 0.5) / (1 - beta1**t) if use_bias_correction else 1.0
        d = state.d
        dlr = d * learning_rate * correction
        d_ratio = d / d0

        def delta_numerator(g, p, p0):
            # the reference's torch.dot, as a sum of products: jnp.dot of two vectors sharded over
            # the same mesh axis is refused under explicit sharding (the output's sharding is
            # ambiguous), whereas a sum reduces the shards with one all-reduce
            return d_ratio * dlr * jnp.sum(_sliced(g, slice_p) * (p0 - _sliced(p, slice_p)))

        def first_moment(m, g):
            return jnp.where(beta1 > 0, m * beta1 + (d * (1 - beta1)) * g, m)

        def second_moment(v, g):
            return v * beta2 + (d * d * (1 - beta2)) * g * g

        def distance_sum(s, g):
            return s * decay_rate + (d_ratio * (d if safeguard_warmup else dlr)) * _sliced(g, slice_p)

        numerators = jax.tree.leaves(jax.tree.map(delta_numerator, grads, params, state.p0))
        exp_avg = jax.tree.map(first_moment, state.exp_avg, grads)
        exp_avg_sq = jax.tree.map(second_moment, state.exp_avg_sq, grads)
        s = jax.tree.map(distance_sum, state.s, grads)
        d_denom = _sum_in_order([jnp.sum(jnp.abs(x)).astype(dtype) for x in jax.tree.leaves(s)], dtype)
        d_numerator = state.d_numerator * decay_rate + _sum_in_order([x.astype(dtype) for x in numerators], dtype)

        d_hat = d_coef * d_numerator / jnp.where(d_denom == 0, 1.0, d_denom)
        new_d = jnp.where(d == d0, jnp.maximum(d, d_hat), d)
        d_max = jnp.maximum(state.d_max, d_hat)
        new_d = jnp.minimum(d_max, new_d * growth_rate)

        def step(p, g, m, v):
            denom = jnp.sqrt(v) + new_d * eps
            new_p = p + (-weight_decay * dlr) * p if decouple else p
            moved = jnp.where(beta1 > 0, new_p + ((-dlr) * m) / denom, new_p + ((-dlr * new_d) * g) / denom)
            return moved - p

        new_updates = jax.tree.map(step, params, grads, exp_avg, exp_avg_sq)
        new_state = ProdigyState(
            increment_step(state.k),
            new_d.astype(dtype),
            d_max.astype(dtype),
            d_numerator,
            s,
            state.p0,
            exp_avg,
            exp_avg_sq,
        )
        # The reference returns before changing anything when no gradient statistic moved: a zero
        # learning rate (it then skips the statistics) or all-zero gradients.
        active = (learning_rate > 0) & (d_denom != 0)
        new_updates = jax.tree.map(lambda u: jnp.where(active, u, jnp.zeros_like(u)), new_updates)
        new_state = jax.tree.map(lambda new, old: jnp.where(active, new, old), new_state, state)
        return new_updates, new_state

    return GradientTransformation(init, update)


def _check_growth_rate(growth_rate: Any) -> None:
    if not (isinstance(growth_rate, (int, float)) and growth_rate == math.inf):
        check_positive("growth_rate", growth_rate)


def prodigy(
    learning_rate: ScalarOrSchedule = 1.0,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    beta3: ScalarOrSchedule | None = None,
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    decouple: bool = True,
    use_bias_correction: bool = False,
    safeguard_warmup: bool = False,
    d0: ScalarOrSchedule = 1e-6,
    d_coef: ScalarOrSchedule = 1.0,
    growth_rate: ScalarOrSchedule = math.inf,
    slice_p: int = 1,
) -> GradientTransformation:
    """Prodigy, exactly ``prodigyopt.Prodigy`` (prodigyopt 1.1.2) for one parameter group.

    ``d`` is one scalar for all the leaves this optimizer sees (the reference's sums run over every
    parameter of the optimizer). With ``g`` the gradient (plus ``weight_decay * p`` unless
    ``decouple``), ``beta3 = sqrt(beta2)`` unless given, ``t = k + 1`` and ``ĝ, p̂, p0`` every
    ``slice_p``-th entry of ``g``, ``p`` and the initial ``p``::

        dlr = d * learning_rate * (sqrt(1 - beta2^t) / (1 - beta1^t) if use_bias_correction else 1)
        m   = beta1 m + d (1 - beta1) g;     v = beta2 v + d^2 (1 - beta2) g^2
        s   = beta3 s + (d / d0) (d if safeguard_warmup else dlr) ĝ
        d_numerator = beta3 d_numerator + (d / d0) dlr sum <ĝ, p0 - p̂>
        d_hat = d_coef d_numerator / sum |s|
        d   = max(d, d_hat) while d == d0;   d_max = max(d_max, d_hat);   d = min(d_max, d growth_rate)
        p   = p - weight_decay dlr p                                    (decouple)
        p   = p - dlr m / (sqrt(v) + d eps)     (beta1 = 0: p - dlr d g / (sqrt(v) + d eps))

    The new ``d`` enters only the denominator (and the ``beta1 = 0`` step). When ``sum |s|`` is 0
    (all-zero gradients) or the learning rate is 0, nothing changes, as in the reference.

    Reference: ``prodigyopt.Prodigy(params, lr, betas, beta3, eps, weight_decay, decouple,
    use_bias_correction, safeguard_warmup, d0, d_coef, growth_rate, slice_p=...)``; ``fsdp_in_use``
    has no counterpart (shard with jax instead). The reference shares ``d`` across its parameter
    groups; :func:`jaxsched.partition` groups each keep their own. Optax: ``optax.contrib.prodigy``
    (other numbers: no ``growth_rate``, ``use_bias_correction``, ``decouple`` or ``slice_p``, and its
    trajectories differ from the reference's even with the default options).

    Args:
      learning_rate: multiplier of the estimated step size, > 0, a float or a schedule.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``.
      beta3: decay of ``s`` and ``d_numerator`` in ``[0, 1)``; ``None`` for ``sqrt(beta2)``.
      eps: added to ``sqrt(v) / d`` in the denominator, > 0.
      weight_decay: decay rate >= 0.
      decouple: AdamW-style decay (``p *= 1 - weight_decay * dlr``) instead of L2.
      use_bias_correction: scale ``dlr`` by Adam's bias correction.
      safeguard_warmup: leave the learning rate out of ``s`` (steadier estimates during warmup).
      d0: initial estimate of ``d``, > 0.
      d_coef: multiplier of the estimate ``d_hat``, > 0.
      growth_rate: largest factor ``d`` may grow by per update, > 0 (``inf``: unbounded).
      slice_p: estimate ``d`` from every ``slice_p``-th entry of each parameter, an integer >= 1
        (less memory; an approximation for values above 1). Static.

    Example::

        tx = js.prodigy(1.0, weight_decay=0.01, safeguard_warmup=True, use_bias_correction=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
        d = state.inner_state.d
    """
    betas = check_adam_family_args(learning_rate, betas, eps, weight_decay=weight_decay)
    check_positive("learning_rate", learning_rate)
    check_positive("eps", eps)
    if beta3 is not None:
        check_unit_interval("beta3", beta3)
    check_positive("d0", d0)
    check_positive("d_coef", d_coef)
    _check_growth_rate(growth_rate)
    check_bool("decouple", decouple)
    check_bool("use_bias_correction", use_bias_correction)
    check_bool("safeguard_warmup", safeguard_warmup)
    check_int("slice_p", slice_p, low=1)
    hyperparams = dict(
        learning_rate=learning_rate, betas=betas, eps=eps, weight_decay=weight_decay,
        d0=d0, d_coef=d_coef, growth_rate=growth_rate,
    )  # fmt: skip
    if beta3 is not None:
        hyperparams["beta3"] = beta3
    return torch_optimizer(
        functools.partial(
            scale_by_prodigy,
            decouple=decouple,
            use_bias_correction=use_bias_correction,
            safeguard_warmup=safeguard_warmup,
            slice_p=slice_p,
        ),
        hyperparams,
        off_when_zero=(),
        supports_complex=False,
    )
