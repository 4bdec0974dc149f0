"""The transformation protocol shared by every jaxsched optimizer and building block.

A :class:`GradientTransformation` is a pair of pure functions::

    state = tx.init(params)
    updates, state = tx.update(grads, state, params=None, **extra_args)
    params = apply_updates(params, updates)

It is duck-type compatible with optax: optax transforms run inside :func:`jaxsched.chain`
and jaxsched transforms run inside ``optax.chain``.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar

import jax
import jax.numpy as jnp

PyTree = Any
Params = PyTree
Updates = PyTree
OptState = PyTree
Schedule = Callable[[Any], jax.Array]
ScalarOrSchedule = float | jax.Array | Schedule

STEP_DTYPE = jnp.int32
# the largest step a counter holds (counters saturate there); no step count may exceed it
MAX_STEP = int(jnp.iinfo(STEP_DTYPE).max)


class TransformInitFn(Protocol):
    def __call__(self, params: Params) -> OptState: ...


class TransformUpdateFn(Protocol):
    def __call__(
        self, updates: Updates, state: OptState, params: Params | None = None, **extra_args: Any
    ) -> tuple[Updates, OptState]: ...


class GradientTransformation(NamedTuple):
    """A pure ``(init, update)`` pair; ``update`` accepts ``**extra_args`` (e.g. ``value_fn``)."""

    init: TransformInitFn
    update: TransformUpdateFn


class EmptyState(NamedTuple):
    """State of a transformation that keeps nothing."""


def identity() -> GradientTransformation:
    """Pass updates through unchanged."""

    def init(params):
        del params
        return EmptyState()

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        return updates, state

    return GradientTransformation(init, update)


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates`` leaf by leaf, keeping each parameter's dtype and shape (as ``optax.apply_updates``).

    Raises ``ValueError`` naming the leaf where an update's shape differs from its parameter's
    (broadcasting would silently reshape the parameter).
    """

    def apply(path, p, u):
        if p is None:
            return None
        if jnp.shape(p) != jnp.shape(u):
            raise ValueError(
                f"apply_updates: the update for {jax.tree_util.keystr(path)} has shape {jnp.shape(u)}, "
                f"the parameter {jnp.shape(p)}"
            )
        return jnp.asarray(p + u).astype(jnp.asarray(p).dtype)

    return jax.tree_util.tree_map_with_path(apply, params, updates, is_leaf=lambda x: x is None)


# What a transformation was built from, keyed by its update function (a NamedTuple cannot carry
# attributes): read by code that translates a state to another library's layout (torch state dicts),
# which needs the flags and schedules that live only in closures.
class _HasUpdate(Protocol):
    @property
    def update(self) -> Callable[..., Any]: ...


_Composite = TypeVar("_Composite", bound=_HasUpdate)  # a GradientTransformation, or another pair with an update
_COMPONENTS: weakref.WeakKeyDictionary[Callable[..., Any], dict[str, Any]] = weakref.WeakKeyDictionary()


def record_components(tx: _Composite, **components: Any) -> _Composite:
    """Remember ``components`` (flags, schedules, sub-transformations) as what ``tx`` is made of; returns ``tx``."""
    _COMPONENTS.setdefault(tx.update, {}).update(components)
    return tx


def components_of(tx: Any) -> dict[str, Any]:
    """What :func:`record_components` recorded for ``tx`` (empty for a transformation built elsewhere)."""
    return _COMPONENTS.get(tx.update, {})


def accepts_extra_args(tx: GradientTransformation) -> bool:
    """Whether ``tx.update`` takes ``**extra_args`` (every jaxsched transform and optax's ``*ExtraArgs`` do)."""
    try:
        parameters = inspect.signature(tx.update).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def call_update(tx: GradientTransformation, updates, state, params, extra_args):
    """Call ``tx.update``, forwarding ``extra_args`` only to transforms that accept them."""
    if accepts_extra_args(tx):
        return tx.update(updates, state, params, **extra_args)
    return tx.update(updates, state, params)


def increment_step(step: jax.Array) -> jax.Array:
    """``step + 1``, saturating at the dtype's maximum so long runs never wrap around."""
    limit = jnp.iinfo(step.dtype).max
    return jnp.where(step < limit, step + 1, limit).astype(step.dtype)


def zero_step() -> jax.Array:
    return jnp.zeros([], STEP_DTYPE)


def state_dtype(x: jax.Array) -> jnp.dtype:
    """Dtype of optimizer state for a leaf: at least float32, so low-precision params keep exact moments."""
    return jnp.promote_types(jnp.asarray(x).dtype, jnp.float32)


def hyperparam_dtype() -> jnp.dtype:
    """Dtype hyperparameters are stored in: float64 under ``jax_enable_x64``, else float32."""
    return jnp.result_type(float)


def torch_lerp(start: jax.Array, end: jax.Array, weight: jax.Array) -> jax.Array:
    """``torch.lerp``: its formula switches at ``|weight| = 0.5`` to stay accurate near both ends."""
    difference = end - start
    return jnp.where(jnp.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight))


def tree_zeros_state(params: Params) -> PyTree:
    """Zeros like ``params`` in :func:`state_dtype`, on the same devices and sharding (``None`` stays ``None``)."""
    return jax.tree.map(lambda p: jnp.zeros_like(p, dtype=state_dtype(p)), params)


def is_complex(x: Any) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.complexfloating)


def torch_gradient(grads: PyTree) -> PyTree:
    """``jax.grad``'s gradient in torch's convention: the conjugate on complex leaves, real leaves as they are.

    For a real loss of a complex ``z``, ``jax.grad`` returns ``conj(dL/dRe z + i dL/dIm z)`` and torch's
    ``.grad`` is ``dL/dRe z + i dL/dIm z``; jaxsched optimizers take ``jax.grad``'s and convert here.
    """
    return jax.tree.map(lambda g: jnp.conj(g) if is_complex(g) else g, grads)


def real_view(tree: PyTree) -> PyTree:
    """Each complex leaf as a real array with a trailing axis of 2 (torch's ``view_as_real``); others unchanged."""
    return jax.tree.map(lambda x: jnp.stack([x.real, x.imag], axis=-1) if is_complex(x) else x, tree)


def from_real_view(views: PyTree, like: PyTree) -> PyTree:
    """Undo :func:`real_view`: leaves of ``views`` whose counterpart in ``like`` is complex become complex again."""
    return jax.tree.map(
        lambda view, x: (
            jax.lax.complex(view[..., 0], view[..., 1]).astype(jnp.result_type(x)) if is_complex(x) else view
        ),
        views,
        like,
    )


def first_complex_leaf(tree: PyTree) -> str | None:
    """The path of the first complex leaf of ``tree`` (``None`` if it has none)."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if is_complex(leaf):
            return jax.tree_util.keystr(path)
    return None


def check_has_params(params: Params | None, who: str) -> None:
    if params is None:
        raise ValueError(f"{who} needs the current parameters: call update(grads, state, params)")


def first_difference(actual: PyTree, expected: PyTree, compare_dtypes: bool = True) -> str | None:
    """Describe where two pytrees first differ in structure, shape or dtype (``None`` if they agree).

    Used to turn mismatched grads/params/state into an error naming the first differing path.
    """
    flat_a, tree_a = jax.tree_util.tree_flatten_with_path(actual)
    flat_e, tree_e = jax.tree_util.tree_flatten_with_path(expected)
    for (path_a, leaf_a), (path_e, leaf_e) in zip(flat_a, flat_e):
        if path_a != path_e:
            return f"structure differs at {jax.tree_util.keystr(path_a)} vs {jax.tree_util.keystr(path_e)}"
        shape_a, shape_e = jnp.shape(leaf_a), jnp.shape(leaf_e)
        if shape_a != shape_e:
            return f"shape differs at {jax.tree_util.keystr(path_a)}: {shape_a} vs {shape_e}"
        dtype_a, dtype_e = jnp.result_type(leaf_a), jnp.result_type(leaf_e)
        if compare_dtypes and dtype_a != dtype_e:
            return f"dtype differs at {jax.tree_util.keystr(path_a)}: {dtype_a} vs {dtype_e}"
    if tree_a != tree_e:
        longer, side = (flat_a, "first") if len(flat_a) > len(flat_e) else (flat_e, "second")
        extra = longer[min(len(flat_a), len(flat_e)) :]
        where = jax.tree_util.keystr(extra[0][0]) if extra else "the container types"
        return f"structure differs: only the {side} tree has {where}" if extra else f"structure differs in {where}"
    return None
