"""Optional lower-precision storage of optimizer state (moments, buffers)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxsched.core._base import GradientTransformation, call_update
from jaxsched.core._validation import check_transformation


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
    check_transformation("low_precision_state's transform", transform)
    try:
        dtype = jnp.dtype(dtype) if dtype is not None else None  # jnp.dtype(None) is the default float
    except TypeError:
        raise TypeError(f"dtype must be a floating dtype such as jnp.bfloat16, got {dtype!r}") from None
    if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"dtype must be a floating dtype such as jnp.bfloat16, got {dtype}")
    if jnp.finfo(dtype).minexp > jnp.finfo(jnp.bfloat16).minexp:
        # float16 flushes squared gradients of |g| ~ 1e-3 to zero (smallest normal 6e-5, subnormal
        # 6e-8): Adam's second moment underflows and its steps grow many times too large.
        raise ValueError(
            f"dtype {dtype} cannot hold second moments (squared gradients underflow); use jnp.bfloat16, "
            "which has float32's range"
        )

    def narrow(state):
        return jax.tree.map(lambda x: x.astype(dtype) if _is_per_parameter(x) else x, state)

    def init(params):
        return narrow(transform.init(params))

    def update(updates, state, params=None, **extra_args):
        wide = jax.tree.map(
            lambda x: x.astype(jnp.promote_types(x.dtype, jnp.float32)) if _is_per_parameter(x) else x, state
        )
        new_updates, new_state = call_update(transform, updates, wide, params, extra_args)
        return new_updates, jax.tree.map(lambda new, old: new.astype(old.dtype), new_state, state)

    return GradientTransformation(init, update)
