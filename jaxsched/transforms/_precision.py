"""Optional lower-precision storage of optimizer state (moments, buffers)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsched.core._base import GradientTransformation, call_update


def _is_per_parameter(x: Any) -> bool:
    # Moments and buffers are arrays; step counts, hyperparameters and NAdam's mu_product are scalars.
    return jnp.issubdtype(jnp.result_type(x), jnp.floating) and jnp.ndim(x) > 0


def low_precision_state(transform: GradientTransformation, dtype: Any = jnp.bfloat16) -> GradientTransformation:
    """Store ``transform``'s per-parameter state in ``dtype`` (e.g. bfloat16), halving its memory.

    By default jaxsched keeps state in at least float32, as torch does for float32 parameters. With
    this wrapper, each update widens the stored state to float32 (exactly), runs the optimizer's usual
    float32 math and rounds the new state to ``dtype``. Step counts and hyperparameters stay as they are.
    The results then differ from torch by the rounding of the moments (for Adam, about 3 significant
    digits in bfloat16); use it for memory-bound training, not for parity. Like optax's ``mu_dtype``.

    Example::

        tx = js.low_precision_state(js.adamw(1e-3), jnp.bfloat16)
    """
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")

    def narrow(state):
        return jax.tree.map(lambda x: x.astype(dtype) if _is_per_parameter(x) else x, state)

    def init(params):
        return narrow(transform.init(params))

    def update(updates, state, params=None, **extra_args):
        wide = jax.tree.map(lambda x: x.astype(jnp.promote_types(x.dtype, jnp.float32)) if _is_per_parameter(x) else x, state)
        new_updates, new_state = call_update(transform, updates, wide, params, extra_args)
        return new_updates, jax.tree.map(lambda new, old: new.astype(old.dtype), new_state, state)

    return GradientTransformation(init, update)
