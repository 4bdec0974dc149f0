"""Lion (``lion_pytorch.Lion``, lion-pytorch 0.2.5): the sign of an interpolated momentum."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import GradientTransformation, PyTree, ScalarOrSchedule, check_has_params, tree_zeros_state
from jaxsched.core._validation import (
    check_bool,
    check_nonnegative,
    check_number,
    check_pair,
    check_positive,
    is_zero,
)
from jaxsched.optimizers._compose import KernelOp, torch_optimizer


class LionState(NamedTuple):
    """State of :func:`lion` (``state.inner_state``), with lion-pytorch's name.

    Attributes:
      exp_avg: the momentum ``m``, one array per parameter.
    """

    exp_avg: PyTree


def _decay(weight_decay, decay_divisor):
    """The factor of ``p`` in the decay term, divided by ``decay_divisor`` where lion-pytorch divides it."""
    return weight_decay if decay_divisor is None or weight_decay is None else weight_decay / decay_divisor


def scale_by_lion(*, learning_rate, betas, weight_decay, decay_divisor: Any = None) -> GradientTransformation:
    """Lion's whole update, learning rate and decay included (lion-pytorch's ``update_fn``)::

        p = p (1 - learning_rate wd) - learning_rate sign(beta1 m + (1 - beta1) g)
        m = beta2 m + (1 - beta2) g

    with ``wd = weight_decay / decay_divisor`` (lion-pytorch's ``decoupled_weight_decay``) or ``weight_decay``;
    ``weight_decay=None`` leaves the decay out (``params`` are then not needed).
    """
    beta1, beta2 = betas
    decay = _decay(weight_decay, decay_divisor)

    def init(params):
        return LionState(tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del extra_args

        steps = jax.tree.map(
            lambda g, m: -learning_rate * jnp.sign(m * beta1 + g.astype(m.dtype) * (1 - beta1)), updates, state.exp_avg
        )
        if decay is not None:
            check_has_params(params, "weight_decay")
            steps = jax.tree.map(lambda step, p: step - (learning_rate * decay) * p.astype(step.dtype), steps, params)
        exp_avg = jax.tree.map(
            lambda g, m: (m * beta2 + g.astype(m.dtype) * (1 - beta2)).astype(m.dtype), updates, state.exp_avg
        )
        return steps, LionState(exp_avg)

    return GradientTransformation(init, update)


def lion(
    learning_rate: ScalarOrSchedule = 1e-4,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.99),
    weight_decay: ScalarOrSchedule = 0.0,
    decoupled_weight_decay: bool = False,
) -> GradientTransformation:
    """Lion (EvoLved Sign Momentum), exactly ``lion_pytorch.Lion`` (lion-pytorch 0.2.5).

    With ``g`` the gradient and ``wd = weight_decay`` (``weight_decay / initial learning_rate`` with
    ``decoupled_weight_decay``)::

        p = p * (1 - learning_rate * wd)
        p = p - learning_rate * sign(beta1 * m + (1 - beta1) * g)
        m = beta2 * m + (1 - beta2) * g

    Reference: ``lion_pytorch.Lion(params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0,
    use_triton=False, decoupled_weight_decay=False)``; ``use_triton`` selects a CUDA kernel of the
    same math and has no counterpart here. Optax: ``optax.lion`` gives the same numbers for the same
    hyperparameters (to 1e-14 over 30 steps), but its default ``weight_decay`` is 1e-3, not 0.

    Args:
      learning_rate: step size, a float > 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1]``: ``beta1`` interpolates the update direction,
        ``beta2`` is the momentum decay.
      weight_decay: decoupled decay rate >= 0 (multiplied by the learning rate). A literal 0 leaves the
        term out; it can then not be changed with ``set_hyperparams``.
      decoupled_weight_decay: divide ``weight_decay`` by the initial learning rate (the constructor's
        value, or a schedule's value at step 0), so the decay follows the schedule's shape but not its scale.

    Example::

        tx = js.lion(3e-5, betas=(0.95, 0.98), weight_decay=0.1)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_positive("learning_rate", learning_rate)
    beta1, beta2 = check_pair("betas", betas)
    check_number("betas[0]", beta1, low=0.0, high=1.0)
    check_number("betas[1]", beta2, low=0.0, high=1.0)
    check_nonnegative("weight_decay", weight_decay)
    check_bool("decoupled_weight_decay", decoupled_weight_decay)
    decay_divisor = None
    if decoupled_weight_decay:
        decay_divisor = learning_rate(0) if callable(learning_rate) else learning_rate
        check_positive("learning_rate at step 0", decay_divisor, allow_schedule=False)

    decays = not is_zero(weight_decay)

    def math(*, learning_rate, betas, weight_decay):
        return scale_by_lion(
            learning_rate=learning_rate,
            betas=betas,
            weight_decay=weight_decay if decays else None,
            decay_divisor=decay_divisor,
        )

    def kernel_scalars(state: LionState, *, learning_rate, betas, weight_decay) -> tuple:
        """The scalars of ``ops.h``'s ``Lion``: :func:`scale_by_lion`'s."""
        del state
        beta1, beta2 = betas
        lr_times_decay = learning_rate * _decay(weight_decay, decay_divisor) if decays else 0.0
        return beta1, 1 - beta1, beta2, 1 - beta2, -learning_rate, lr_times_decay

    return torch_optimizer(
        math,
        dict(learning_rate=learning_rate, betas=(beta1, beta2), weight_decay=weight_decay),
        supports_complex=False,
        kernel=KernelOp("lion", (decays, False), kernel_scalars, ("exp_avg",), reads_params=decays),
    )
