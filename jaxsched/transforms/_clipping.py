"""Gradient clipping, with torch's exact formulas."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxsched.core._base import EmptyState, GradientTransformation, first_complex_leaf, is_complex
from jaxsched.core._validation import check_nonnegative


def _sum_of_squares(x) -> jax.Array:
    x = jnp.asarray(x)
    x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    # |z|^2 for complex leaves, as torch's vector_norm: z * z would be a complex number
    return jnp.sum(jnp.square(x.real) + jnp.square(x.imag)) if is_complex(x) else jnp.sum(jnp.square(x))


def global_norm(tree) -> jax.Array:
    """The L2 norm of all leaves together (torch ``clip_grad_norm_``'s ``total_norm``; ``|z|`` for complex)."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.zeros([])
    return jnp.sqrt(sum(_sum_of_squares(x) for x in leaves))


def clip(max_delta) -> GradientTransformation:
    """Clamp every element to ``[-max_delta, max_delta]`` (``torch.nn.utils.clip_grad_value_``)."""
    check_nonnegative("max_delta", max_delta)

    def init(params):
        del params
        return EmptyState()

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        complex_leaf = first_complex_leaf(updates)
        if complex_leaf is not None:
            raise TypeError(
                f"clip: gradient {complex_leaf} is complex; clamping complex values is undefined (torch refuses too)"
            )
        return jax.tree.map(lambda u: jnp.clip(u, -max_delta, max_delta).astype(u.dtype), updates), state

    return GradientTransformation(init, update)


def clip_by_global_norm(max_norm) -> GradientTransformation:
    """Scale all updates by ``min(1, max_norm / (norm + 1e-6))`` (``torch.nn.utils.clip_grad_norm_``).

    The ``1e-6`` is torch's; ``optax.clip_by_global_norm`` uses ``max_norm / max(norm, max_norm)``.
    """
    check_nonnegative("max_norm", max_norm)

    def init(params):
        del params
        return EmptyState()

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        coef = jnp.minimum(max_norm / (global_norm(updates) + 1e-6), 1.0)
        return jax.tree.map(lambda u: (u * coef).astype(u.dtype), updates), state

    return GradientTransformation(init, update)
