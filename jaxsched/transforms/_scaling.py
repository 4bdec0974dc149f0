"""Elementwise building blocks: sign, weight decay, learning rate.

Raw blocks: hyperparameters are numbers or arrays; the top-level ``js.add_weight_decay`` and
``js.scale_by_learning_rate`` are these blocks with their hyperparameters kept in the state. Chained
by hand they build an optimizer optax-style; jaxsched's own optimizers apply the same terms in
``optimizers/_compose.py``. The updates flowing into them are gradients in ``jax.grad``'s convention,
which for complex parameters is the conjugate of torch's ``.grad``: ``add_weight_decay`` adds the L2
gradient in that convention and ``scale_by_learning_rate`` turns the result into a parameter update.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxsched.core._base import EmptyState, GradientTransformation, check_has_params, is_complex
from jaxsched.core._validation import check_nonnegative


def _stateless(fn, needs_params: str | None = None) -> GradientTransformation:
    def init(params):
        del params
        return EmptyState()

    def update(updates, state, params=None, **extra_args):
        del extra_args
        if needs_params:
            check_has_params(params, needs_params)
            return jax.tree.map(fn, updates, params), state
        return jax.tree.map(fn, updates), state

    return GradientTransformation(init, update)


def negate() -> GradientTransformation:
    """``u = -u``: torch's ``maximize=True`` (ascend the objective)."""
    return _stateless(lambda u: -u)


def add_weight_decay(weight_decay) -> GradientTransformation:
    """``u = u + weight_decay * p`` (``conj(p)`` for complex ``p``: ``jax.grad``'s convention, see below).

    Placed before an optimizer's scaling it is torch's L2 ``weight_decay``; placed after the scaling
    and before the learning rate it is decoupled decay (AdamW: ``p *= 1 - lr * weight_decay``).
    """
    check_nonnegative("weight_decay", weight_decay)
    return _stateless(
        lambda u, p: u + weight_decay * (jnp.conj(p) if is_complex(p) else p), needs_params="add_weight_decay"
    )


def scale_by_learning_rate(learning_rate) -> GradientTransformation:
    """``u = -learning_rate * u``: turns a descent direction into the update ``apply_updates`` adds.

    Complex leaves are conjugated (``-learning_rate * conj(u)``): the incoming direction is in
    ``jax.grad``'s convention, the update is added to the parameters.
    """
    check_nonnegative("learning_rate", learning_rate)
    return _stateless(lambda u: -learning_rate * (jnp.conj(u) if is_complex(u) else u))
