"""LARS (``pytorch_optimizer.LARS``, pytorch_optimizer 4.1.0): SGD with a layer-wise trust ratio."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    check_has_params,
    state_dtype,
    tree_zeros_state,
)
from jaxsched.core._validation import check_bool, check_nonnegative, check_number, is_zero
from jaxsched.optimizers._compose import torch_optimizer


class LarsState(NamedTuple):
    """State of :func:`lars` (``state.inner_state``), with pytorch_optimizer's name.

    Attributes:
      momentum_buffer: the momentum, one array per parameter; ``None`` when ``momentum`` is a literal 0.
    """

    momentum_buffer: PyTree | None


def _trust_scaled(g, p, weight_decay, trust_coefficient):
    """``(g + wd p) * trust_ratio`` for a matrix or higher-rank leaf; scalars and vectors pass unchanged."""
    dtype = state_dtype(p)
    g = g.astype(dtype)
    if p.ndim <= 1:
        return g
    p = p.astype(dtype)
    param_norm = jnp.linalg.norm(p)
    denominator = jnp.linalg.norm(g) + weight_decay * param_norm
    # the inner where keeps the unused branch finite, so its gradient stays free of NaN
    safe_denominator = jnp.where(denominator > 0, denominator, 1)
    trust_ratio = jnp.where((param_norm > 0) & (denominator > 0), trust_coefficient * param_norm / safe_denominator, 1)
    return (g + weight_decay * p) * trust_ratio


def scale_by_lars(
    *, weight_decay, momentum, dampening, trust_coefficient, nesterov: bool = False, use_momentum: bool = True
) -> GradientTransformation:
    """LARS's direction, before the learning rate (pytorch_optimizer's ``LARS._step_foreach``)::

        d = (g + wd p) * trust_ratio                      (leaves with ndim > 1; else d = g)
        trust_ratio = trust_coefficient |p| / (|d_raw| + wd |p|)   (1 when |p| or the denominator is 0)
        buf = momentum buf + (1 - dampening) d;   d = d + momentum buf if nesterov else buf

    ``use_momentum=False`` keeps no buffer (a literal ``momentum=0``); with a buffer, a momentum set to
    0 later skips it as the reference does.
    """

    def init(params):
        return LarsState(tree_zeros_state(params) if use_momentum else None)

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "lars")
        updates = jax.tree.map(lambda g, p: _trust_scaled(g, p, weight_decay, trust_coefficient), updates, params)
        if not use_momentum:
            return updates, state
        # the reference skips its buffer while momentum is 0, rather than decaying it to (1 - dampening) g
        momentum_on = momentum > 0
        buffers = jax.tree.map(
            lambda d, buf: jnp.where(momentum_on, buf * momentum + d * (1 - dampening), buf).astype(buf.dtype),
            updates,
            state.momentum_buffer,
        )

        def direction(d, buf):
            return jnp.where(momentum_on, d + momentum * buf if nesterov else buf, d)

        return jax.tree.map(direction, updates, buffers), LarsState(buffers)

    return GradientTransformation(init, update)


def lars(
    learning_rate: ScalarOrSchedule = 1e-3,
    weight_decay: ScalarOrSchedule = 0.0,
    momentum: ScalarOrSchedule = 0.9,
    dampening: ScalarOrSchedule = 0.0,
    trust_coefficient: ScalarOrSchedule = 1e-3,
    nesterov: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """LARS (layer-wise adaptive rate scaling), exactly ``pytorch_optimizer.LARS`` (pytorch_optimizer 4.1.0).

    With ``g`` the gradient (negated if ``maximize``), for each parameter tensor ``p`` of two or more
    dimensions (scalars and vectors, e.g. biases, get neither decay nor scaling)::

        trust_ratio = trust_coefficient |p| / (|g| + weight_decay |p|)   (1 if |p| = 0 or the denominator is 0)
        g = (g + weight_decay p) * trust_ratio
        buf = momentum buf + (1 - dampening) g             (buf starts at 0; skipped while momentum = 0)
        d = g + momentum buf if nesterov else buf
        p = p - learning_rate d

    ``|.|`` is the Frobenius norm of the whole tensor. Reference: ``pytorch_optimizer.LARS(params,
    lr=1e-3, weight_decay=0.0, momentum=0.9, dampening=0.0, trust_coefficient=1e-3, nesterov=False,
    maximize=False)``. Optax: ``optax.lars`` (its trust ratio divides by ``|g + weight_decay p|``
    rather than ``|g| + weight_decay |p|``, its default masks decay and scale vectors and scalars too,
    and its momentum has no dampening).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      weight_decay: L2 penalty >= 0, on tensors of two or more dimensions only.
      momentum: momentum factor in ``[0, 1)``. A literal 0 leaves the buffer out; it can then not be
        changed with ``set_hyperparams``.
      dampening: dampening of the momentum, in ``[0, 1)``.
      trust_coefficient: scale of the trust ratio, >= 0.
      nesterov: Nesterov momentum.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.lars(0.1, weight_decay=1e-4, momentum=0.9, trust_coefficient=1e-3)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_nonnegative("weight_decay", weight_decay)
    check_number("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    check_number("dampening", dampening, low=0.0, high=1.0, high_inclusive=False)
    check_nonnegative("trust_coefficient", trust_coefficient)
    check_bool("nesterov", nesterov)
    check_bool("maximize", maximize)
    use_momentum = not is_zero(momentum)

    def math(*, weight_decay, momentum, dampening, trust_coefficient):
        return scale_by_lars(
            weight_decay=weight_decay,
            momentum=momentum,
            dampening=dampening,
            trust_coefficient=trust_coefficient,
            nesterov=nesterov,
            use_momentum=use_momentum,
        )

    return torch_optimizer(
        math,
        dict(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            momentum=momentum,
            dampening=dampening,
            trust_coefficient=trust_coefficient,
        ),
        maximize=maximize,
        off_when_zero=("momentum",),
        supports_complex=False,
    )
