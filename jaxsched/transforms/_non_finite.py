"""Skip updates whose gradients contain NaN or infinity."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import MAX_STEP, GradientTransformation, OptState, call_update, increment_step, zero_step
from jaxsched.core._validation import check_int, check_transformation


class SkipNonFiniteState(NamedTuple):
    """State of :func:`skip_non_finite`.

    Attributes:
      inner_state: the wrapped transformation's state (unchanged by a skipped step).
      consecutive_skips: skipped steps since the last applied one.
      total_skips: skipped steps over the whole run.
    """

    inner_state: OptState
    consecutive_skips: jax.Array
    total_skips: jax.Array


def all_finite(tree) -> jax.Array:
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else jnp.asarray(True)


def skip_non_finite(
    transform: GradientTransformation, max_consecutive_skips: int | None = None
) -> GradientTransformation:
    """Wrap ``transform`` so a step with a NaN/Inf gradient changes nothing.

    On such a step the updates are zero and ``transform``'s state (step counts, moments, scheduled
    hyperparameters) stays as it was; ``consecutive_skips`` and ``total_skips`` count them. After
    ``max_consecutive_skips`` skips in a row the wrapper gives up and applies the update anyway, so a
    run that is truly diverging shows NaNs instead of silently freezing (``None``: never give up).
    Like ``optax.apply_if_finite``; PyTorch users write ``if torch.isfinite(loss): opt.step()``.

    Example::

        tx = js.skip_non_finite(js.adam(1e-3), max_consecutive_skips=10)
    """
    check_transformation("skip_non_finite's transform", transform)
    if max_consecutive_skips is not None:
        max_consecutive_skips = check_int("max_consecutive_skips", max_consecutive_skips, low=1, high=MAX_STEP)

    def init(params):
        return SkipNonFiniteState(transform.init(params), zero_step(), zero_step())

    def update(updates, state, params=None, **extra_args):
        new_updates, inner_state = call_update(transform, updates, state.inner_state, params, extra_args)
        finite = all_finite(updates)
        apply = finite
        if max_consecutive_skips is not None:
            apply = finite | (state.consecutive_skips >= max_consecutive_skips)
        new_updates = jax.tree.map(lambda u: jnp.where(apply, u, jnp.zeros_like(u)), new_updates)
        inner_state = jax.tree.map(lambda new, old: jnp.where(apply, new, old), inner_state, state.inner_state)
        return new_updates, SkipNonFiniteState(
            inner_state,
            jnp.where(finite, 0, increment_step(state.consecutive_skips)).astype(state.consecutive_skips.dtype),
            # a step given up on is applied, not skipped
            jnp.where(apply, state.total_skips, increment_step(state.total_skips)).astype(state.total_skips.dtype),
        )

    return GradientTransformation(init, update)
