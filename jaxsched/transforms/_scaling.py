"""Elementwise building blocks shared by the optimizers: sign, weight decay, learning rate.

These are raw blocks: hyperparameters are numbers or arrays. Optimizers compose them inside
:func:`jaxsched.core._hyperparams.injected`, which supplies the current (possibly scheduled) values;
the top-level ``js.scale_by_learning_rate`` etc. are the same blocks with their hyperparameters
kept in the state.
"""

from __future__ import annotations

import jax

from jaxsched.core._base import EmptyState, GradientTransformation, check_has_params


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
    """``u = u + weight_decay * p``.

    Placed before an optimizer's scaling it is torch's L2 ``weight_decay``; placed after the scaling
    and before the learning rate it is decoupled decay (AdamW: ``p *= 1 - lr * weight_decay``).
    """
    return _stateless(lambda u, p: u + weight_decay * p, needs_params="add_weight_decay")


def scale_by_learning_rate(learning_rate) -> GradientTransformation:
    """``u = -learning_rate * u``: turns a descent direction into the update ``apply_updates`` adds."""
    return _stateless(lambda u: -learning_rate * u)
