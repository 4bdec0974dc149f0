"""SparseAdam: Adam on the gradient's present entries only (``torch.optim.SparseAdam``)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.experimental import sparse

from jaxsched.core._base import (
    GradientTransformation,
    PyTree,
    ScalarOrSchedule,
    components_of,
    increment_step,
    record_components,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._validation import check_bool, check_positive
from jaxsched.optimizers._adam import bias_correction, check_adam_family_args, step_count
from jaxsched.optimizers._compose import torch_optimizer


class SparseAdamState(NamedTuple):
    """State of :func:`sparse_adam` (``state.inner_state``), with torch's names.

    Attributes:
      step: updates made so far (every update counts, present entries or not).
      exp_avg: first moment ``m`` (only present entries move).
      exp_avg_sq: second moment ``v``.
    """

    step: jax.Array
    exp_avg: PyTree
    exp_avg_sq: PyTree


def _is_bcoo(x) -> bool:
    return isinstance(x, sparse.BCOO)


def _dense(grad):
    if not _is_bcoo(grad):
        return grad
    # js.partition hands a group the leaves of other groups as None: a BCOO is a pytree, so it
    # arrives as BCOO(None, None)
    return None if grad.data is None else grad.todense()


def gradient_presence(grad) -> jax.Array:
    """Which entries of a gradient leaf are present: the stored ones of a BCOO, the nonzero ones otherwise."""
    if _is_bcoo(grad):
        # Scatter a mark per stored entry; todense drops BCOO's out-of-range padding indices.
        marks = sparse.BCOO((jnp.ones_like(grad.data, jnp.int32), grad.indices), shape=grad.shape)
        return marks.todense() > 0
    return grad != 0


def scale_by_sparse_adam(*, betas, eps) -> GradientTransformation:
    """SparseAdam's direction on present entries, 0 elsewhere (torch's ``F.sparse_adam``)::

        m = m + (g - m)(1 - beta1);   v = v + (g^2 - v)(1 - beta2)       (present entries only)
        d = sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)       (eps not bias-corrected)

    ``t`` counts every update, present entries or not. ``update`` takes dense gradients and an
    optional ``gradient_present`` tree of bool masks (default: the nonzero entries).
    """
    beta1, beta2 = betas

    def init(params):
        return SparseAdamState(zero_step(), tree_zeros_state(params), tree_zeros_state(params))

    def update(updates, state, params=None, gradient_present=None, **extra_args):
        del params, extra_args
        if gradient_present is None:
            gradient_present = jax.tree.map(gradient_presence, updates)
        t = step_count(state.step)
        step_size = jnp.sqrt(bias_correction(beta2, t)) / bias_correction(beta1, t)

        def moving_average(target, present, old, beta):
            return jnp.where(present, old + (target - old) * (1 - beta), old).astype(old.dtype)

        grads = jax.tree.map(lambda g, m: g.astype(m.dtype), updates, state.exp_avg)
        exp_avg = jax.tree.map(lambda g, k, m: moving_average(g, k, m, beta1), grads, gradient_present, state.exp_avg)
        exp_avg_sq = jax.tree.map(
            lambda g, k, v: moving_average(g * g, k, v, beta2), grads, gradient_present, state.exp_avg_sq
        )
        updates = jax.tree.map(
            lambda k, m, v: jnp.where(k, step_size * (m / (jnp.sqrt(v) + eps)), 0),
            gradient_present,
            exp_avg,
            exp_avg_sq,
        )
        return updates, SparseAdamState(increment_step(state.step), exp_avg, exp_avg_sq)

    return GradientTransformation(init, update)


def sparse_adam(
    learning_rate: ScalarOrSchedule = 1e-3,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    maximize: bool = False,
) -> GradientTransformation:
    """SparseAdam, exactly ``torch.optim.SparseAdam``: only present gradient entries update.

    A gradient leaf may be a dense array (its nonzero entries are present) or a
    ``jax.experimental.sparse.BCOO`` (its stored entries are present, even with value 0). With ``g``
    the gradient (negated if ``maximize``), at update ``t = 1, 2, ...`` (counting every update)::

        m = m + (g - m)(1 - beta1);   v = v + (g^2 - v)(1 - beta2)                  (present entries)
        p = p - learning_rate * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)   (present entries)

    Absent entries keep their ``m``, ``v`` and parameter. The updates are dense, so
    :func:`jaxsched.apply_updates` works as usual. There is no weight decay (as torch).

    PyTorch: ``torch.optim.SparseAdam(params, lr, betas, eps, maximize=...)`` with sparse gradients
    (e.g. ``nn.Embedding(sparse=True)``). TensorFlow: ``tf.keras.optimizers.Adam`` applied to
    ``IndexedSlices`` with lazy updates (``tfa.optimizers.LazyAdam``).

    Args:
      learning_rate: step size, a float > 0 or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``, each in ``[0, 1)``, a float or a schedule.
      eps: added to ``sqrt(v)``, > 0.
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.sparse_adam(1e-3)
        state = tx.init(params)
        grads = {"embedding": jax.experimental.sparse.BCOO.fromdense(dense_grad)}
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_positive("learning_rate", learning_rate)
    check_positive("eps", eps)
    betas = check_adam_family_args(learning_rate, betas, eps)
    check_bool("maximize", maximize)
    dense_optimizer = torch_optimizer(
        scale_by_sparse_adam,
        dict(learning_rate=learning_rate, betas=betas, eps=eps),
        maximize=maximize,
        supports_complex=False,
    )

    def update(updates, state, params=None, **extra_args):
        # Presence is read before densifying: a BCOO's stored zeros are present, dense zeros are not.
        dense = jax.tree.map(_dense, updates, is_leaf=_is_bcoo)
        present = jax.tree.map(
            lambda g, d: None if d is None else gradient_presence(g), updates, dense, is_leaf=_is_bcoo
        )
        return dense_optimizer.update(dense, state, params, gradient_present=present, **extra_args)

    return record_components(GradientTransformation(dense_optimizer.init, update), **components_of(dense_optimizer))
