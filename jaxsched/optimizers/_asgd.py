"""Averaged SGD (``torch.optim.ASGD``) and the running average of the parameters it keeps."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    OptState,
    PyTree,
    ScalarOrSchedule,
    check_has_params,
    hyperparam_dtype,
    increment_step,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_nonnegative
from jaxsched.optimizers._compose import torch_optimizer


class AsgdState(NamedTuple):
    """torch's ASGD state: step count, current step size ``eta``, averaging weight ``mu``, average ``ax``."""

    step: jax.Array
    eta: jax.Array
    mu: jax.Array
    ax: PyTree


def scale_by_asgd(*, learning_rate, lambd, alpha, t0) -> GradientTransformation:
    """ASGD's whole step, learning rate included (the update is ``p_new - p``)::

        p_new = p * (1 - lambd * eta) - eta * g
        ax    = p_new if mu == 1 else ax + (p_new - ax) * mu
        eta   = learning_rate / (1 + lambd * learning_rate * t) ** alpha     (for the next step)
        mu    = 1 / max(1, t - t0)

    ``eta`` starts as the learning rate of the first update (torch creates its state lazily), so
    a changing learning rate acts one step late. Raw block: arguments are numbers or arrays.
    """

    def init(params):
        dtype = hyperparam_dtype()
        return AsgdState(zero_step(), jnp.asarray(learning_rate, dtype), jnp.ones([], dtype), tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "asgd")
        eta = jnp.where(state.step == 0, learning_rate, state.eta)
        params = jax.tree.map(lambda p, ax: jnp.asarray(p, ax.dtype), params, state.ax)

        def descend(g, p):
            return p * (1 - lambd * eta) + (-eta) * jnp.asarray(g, p.dtype)

        new_params = jax.tree.map(descend, updates, params)

        def average(p, ax):
            return jnp.where(state.mu == 1, p, ax + (p - ax) * state.mu).astype(ax.dtype)

        ax = jax.tree.map(average, new_params, state.ax)
        step = increment_step(state.step)
        t = step.astype(state.eta.dtype)
        new_eta = learning_rate / (1 + lambd * learning_rate * t) ** alpha
        new_mu = 1 / jnp.maximum(1, t - t0)
        new_updates = jax.tree.map(jnp.subtract, new_params, params)
        new_state = AsgdState(step, new_eta.astype(state.eta.dtype), new_mu.astype(state.mu.dtype), ax)
        return new_updates, new_state

    return GradientTransformation(init, update)


def asgd(
    learning_rate: ScalarOrSchedule = 1e-2,
    lambd: ScalarOrSchedule = 1e-4,
    alpha: ScalarOrSchedule = 0.75,
    t0: ScalarOrSchedule = 1e6,
    weight_decay: ScalarOrSchedule = 0.0,
    maximize: bool = False,
) -> GradientTransformation:
    """Averaged stochastic gradient descent, exactly ``torch.optim.ASGD``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p`` and ``t`` the step
    number (1 on the first update)::

        p   = p * (1 - lambd * eta) - eta * g          (eta = learning_rate on the first update)
        ax  = p if mu == 1 else ax + (p - ax) * mu     (mu = 1 on the first update)
        eta = learning_rate / (1 + lambd * learning_rate * t) ** alpha
        mu  = 1 / max(1, t - t0)

    ``eta`` is computed at the end of a step from that step's learning rate, so a changed or
    scheduled learning rate takes effect one step late, as in torch. The average ``ax`` (the
    parameters to evaluate with) is read with :func:`asgd_averaged_params`.

    PyTorch: ``torch.optim.ASGD(params, lr, lambd, alpha, t0, weight_decay, maximize=...)``.
    TensorFlow: no equivalent (``tf.train.ExponentialMovingAverage`` averages differently).

    Args:
      learning_rate: step size >= 0, a float or a schedule ``step -> value``.
      lambd: decay term >= 0.
      alpha: power of the ``eta`` decay, >= 0.
      t0: step after which averaging starts, >= 0.
      weight_decay: L2 penalty >= 0 (added to the gradient).
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.asgd(0.01, t0=1000)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
        eval_params = js.asgd_averaged_params(state)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_nonnegative("lambd", lambd)
    check_nonnegative("alpha", alpha)
    check_nonnegative("t0", t0)
    check_nonnegative("weight_decay", weight_decay)
    check_bool("maximize", maximize)
    return torch_optimizer(
        scale_by_asgd,
        dict(learning_rate=learning_rate, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay),
        maximize=maximize,
    )


def _merge_disjoint(first: PyTree, second: PyTree) -> PyTree:
    def pick(a, b):
        if a is not None and b is not None:
            raise ValueError("more than one ASGD state averages the same parameter; read the sub-states separately")
        return b if a is None else a

    return jax.tree.map(pick, first, second, is_leaf=lambda x: x is None)


def asgd_averaged_params(state: OptState) -> PyTree:
    """ASGD's running average of the parameters (torch's ``optimizer.state[p]['ax']``).

    Finds the :func:`asgd` state anywhere in ``state``: bare, or inside ``chain``, ``masked`` or
    ``partition`` states. Parameters that no ASGD state covers (masked out, or in a partition group
    with another optimizer) are ``None``; the partition groups' averages are merged into one tree
    shaped like the parameters. Averages are stored in the state dtype (float32 for bfloat16 params).

    Raises ``ValueError`` if ``state`` holds no ASGD state.

    Example::

        averaged = js.asgd_averaged_params(opt_state)
        eval_loss = loss_fn(averaged, batch)
    """
    is_asgd = lambda x: isinstance(x, AsgdState)  # noqa: E731
    averages = [node.ax for node in jax.tree.leaves(state, is_leaf=is_asgd) if is_asgd(node)]
    if not averages:
        raise ValueError("asgd_averaged_params: this state holds no ASGD state; pass the state of js.asgd(...)")
    return functools.reduce(_merge_disjoint, averages)
