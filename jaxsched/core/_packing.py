"""Run a transformation on one flat vector per dtype instead of on many small leaves.

Every leaf of a pytree costs the jitted step a fixed amount, independent of its size: XLA CPU
passes each array in and out of the executable separately and runs one kernel per output array.
For a model with hundreds of small leaves (biases, norms, small layers) that fixed cost is most of
the optimizer step. :func:`flatten` packs those leaves into one vector per dtype, so the optimizer
state is a few large arrays and the update a few large kernels.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched.core._base import GradientTransformation, OptState, PyTree, call_update, first_difference
from jaxsched.core._validation import check_int, check_transformation

DEFAULT_MAX_LEAF_SIZE = 16384
# At most this many elements are packed per dtype; further leaves stay separate. The per-step
# concatenation of the gradients is an XLA temporary, and above ~32 MB glibc unmaps a freed block,
# so every page of it faults again on the next step (measured in benchmarks/README.md).
MAX_PACKED_SIZE = 2**21


class Packed(NamedTuple):
    """What the wrapped transformation sees: small leaves packed per dtype, large ones as they are."""

    flat: dict[str, jax.Array]  # dtype name -> 1-D concatenation of that dtype's small leaves
    large: tuple[jax.Array | None, ...]  # the other leaves, each at its place's index (None in a gap)


class FlattenState(NamedTuple):
    """State of :func:`flatten`: the inner state, built over the :class:`Packed` parameters."""

    inner_state: OptState


class Layout(NamedTuple):
    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    # per leaf: ("flat", key into Packed.flat, offset) or ("large", index into Packed.large, 0)
    places: tuple[tuple[str, Any, int], ...]


def packing_layout(tree: PyTree, max_leaf_size: int | None, max_packed_size: int | None) -> Layout:
    leaves, treedef = jax.tree.flatten(tree)
    shapes = tuple(tuple(np.shape(x)) for x in leaves)
    packed: dict[str, int] = {}  # dtype name -> elements packed so far
    places = []
    n_large = 0
    for leaf, shape in zip(leaves, shapes):
        size = int(np.prod(shape, dtype=np.int64))
        dtype = jnp.dtype(jnp.result_type(leaf)).name
        used = packed.get(dtype, 0)
        fits = max_packed_size is None or used + size <= max_packed_size
        if (max_leaf_size is None or size <= max_leaf_size) and fits:
            places.append(("flat", dtype, used))
            packed[dtype] = used + size
        else:
            places.append(("large", n_large, 0))
            n_large += 1
    return Layout(treedef, shapes, tuple(places))


def pack(tree: PyTree, layout: Layout) -> Packed:
    groups: dict[str, list[jax.Array]] = {}
    large: dict[int, jax.Array] = {}
    for leaf, (kind, key, _) in zip(jax.tree.leaves(tree), layout.places):
        if kind == "flat":
            groups.setdefault(key, []).append(jnp.ravel(leaf))
        else:
            large[key] = leaf
    flat = {key: parts[0] if len(parts) == 1 else jnp.concatenate(parts) for key, parts in sorted(groups.items())}
    return Packed(flat, tuple(large.get(index) for index in range(max(large, default=-1) + 1)))


def unpack(packed: Packed, layout: Layout) -> PyTree:
    leaves = []
    for shape, (kind, key, offset) in zip(layout.shapes, layout.places):
        if kind == "flat":
            size = int(np.prod(shape, dtype=np.int64))
            leaves.append(packed.flat[key][offset : offset + size].reshape(shape))
        else:
            leaves.append(packed.large[key])
    return jax.tree.unflatten(layout.treedef, leaves)


def _check_packable(updates: PyTree, params: PyTree) -> None:
    difference = first_difference(updates, params)
    if difference:
        raise ValueError(
            f"flatten packs gradients and params the same way, so they need equal structure, shapes and "
            f"dtypes (sparse gradients cannot be packed): {difference} (gradients vs params)"
        )


def flatten(
    transform: GradientTransformation, max_leaf_size: int | None = DEFAULT_MAX_LEAF_SIZE
) -> GradientTransformation:
    """Apply ``transform`` to the small leaves packed into one 1-D vector per dtype.

    Leaves with at most ``max_leaf_size`` elements are concatenated, per dtype, into one vector of
    up to 2**21 elements (a new concatenation of the gradients each step; the optimizer state stays
    packed; leaves beyond that budget stay separate), the transformation runs on
    ``Packed(flat={"float32": vector, ...}, large=(the other leaves,))`` and
    the updates are split back into the original tree. The math is unchanged: an elementwise
    optimizer (every optimizer here except L-BFGS) computes the same formula per element (XLA may
    vectorise a longer vector differently, so float32 results can differ in the last bit); a
    transformation that sums over leaves (``clip_by_global_norm``, L-BFGS) adds in another order.

    Use it for pytrees with many small leaves, where each leaf's fixed cost dominates the step:
    on a 2-core CPU, Adam over 1000 leaves of 1000 parameters runs about 2.4x as fast (see
    ``benchmarks/README.md``). Large leaves stay separate: their fixed cost is small next to their
    memory traffic, and packing them would need a large temporary every step. The price is
    compile time when many leaves share one shape: XLA compiles one kernel per shape for
    separate leaves but one per leaf for slices of a vector.

    optax: ``optax.flatten`` (which packs every leaf into one vector of a single dtype).
    PyTorch: ``torch.optim.Adam(fused=True)`` and ``foreach=True`` serve the same purpose.

    Put ``flatten`` around an optimizer, inside :func:`partition` or :func:`masked` (their labels
    and masks need the original tree). The state no longer mirrors the parameters leaf by leaf,
    so do not use it with :func:`jaxsched.zero1_shardings` or with sharded parameters.

    Args:
      transform: the transformation to run on the packed vectors.
      max_leaf_size: leaves with more elements are passed through unpacked (an int >= 1), or
        ``None`` for no size limit (the 2**21-element budget per dtype still applies).

    Example::

        tx = js.flatten(js.adam(1e-3))
        state = tx.init(params)                      # Adam moments: one vector per dtype
        updates, state = tx.update(grads, state, params)
    """
    check_transformation("flatten's transform", transform)
    if max_leaf_size is not None:
        max_leaf_size = check_int("max_leaf_size", max_leaf_size, low=1)

    def init(params):
        return FlattenState(transform.init(pack(params, packing_layout(params, max_leaf_size, MAX_PACKED_SIZE))))

    def update(updates, state, params=None, **extra_args):
        layout = packing_layout(updates, max_leaf_size, MAX_PACKED_SIZE)
        if params is not None:
            _check_packable(updates, params)
        packed_params = None if params is None else pack(params, layout)
        if "value_fn" in extra_args:  # optax convention: a loss of the params (L-BFGS line search)
            value_fn = extra_args["value_fn"]
            extra_args = {**extra_args, "value_fn": lambda packed, *a, **k: value_fn(unpack(packed, layout), *a, **k)}
        packed_updates = pack(updates, layout)
        new_updates, inner_state = call_update(transform, packed_updates, state.inner_state, packed_params, extra_args)
        return unpack(new_updates, layout), FlattenState(inner_state)

    return GradientTransformation(init, update)
