"""One-pass optimizer steps on CPU: the compiled kernel of ``jaxsched/_kernel`` through the XLA FFI.

XLA CPU runs an elementwise optimizer as one loop per output array: Adam reads the gradient three
times and its moments twice. The kernel reads each element once and writes the moments in place,
like ``torch.optim.Adam(fused=True)``. Its state is packed: each buffer (``m``, ``v``, ...) is one
vector per dtype, because every array crossing the jitted step's boundary costs a few
microseconds; parameters and gradients stay leaves, read by offset, a bounded number per call.
Wherever the kernel cannot serve, the same packed state runs through the optimizer's pure-JAX math
(the fallback), so a checkpoint moves freely between the two.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental.custom_partitioning import custom_partitioning
from jax.sharding import NamedSharding, PartitionSpec

from jaxsched.core._base import (
    GradientTransformation,
    OptState,
    PyTree,
    apply_updates,
    call_update,
    check_has_params,
    components_of,
    first_difference,
    hyperparam_dtype,
)
from jaxsched.core._hyperparams import HyperparamsState, current_values
from jaxsched.core._packing import Layout, Packed, pack, unpack
from jaxsched.core._validation import check_bool, check_transformation
from jaxsched.optimizers._compose import Fusion

# Leaves per custom call: XLA's compile time grows much faster than linearly with a call's operand
# count (issue 18's prototype: 56-77 s for one call over 1000 leaves), while each extra call costs ~1 us.
MAX_LEAVES_PER_CALL = 64
# The jaxlib versions the kernel is built and tested against: its XLA FFI headers (API 0.3) come from
# jaxlib 0.10.2. Outside this range fused runs the fallback rather than risk a mismatched ABI.
KERNEL_JAXLIB = ((0, 10, 2), (0, 11, 0))  # [lowest, first not tested)
# jaxsched/_kernel/kernel.h's numbering
_OPS = {"adam": 0, "sgd": 1, "rmsprop": 2, "adagrad": 3, "adamax": 4, "nadam": 5, "radam": 6, "lion": 7}
_L2, _DECOUPLED, _OP_FLAG_A, _OP_FLAG_B, _APPLY = 1, 2, 4, 8, 16
_KERNEL_DTYPES = ("float32", "float64")


class FusedTransformation(GradientTransformation):
    """What :func:`fused` returns: a :class:`~jaxsched.GradientTransformation` with a one-pass ``step``.

    ``step(grads, state, params) -> (params, state)`` equals ``update`` followed by
    :func:`jaxsched.apply_updates`, with the parameters written in place by the kernel: no update
    array is made, so a step reads and writes each element once (donate ``params`` and ``state``
    to the jitted step for the writes to land in place).
    """

    step: Callable[..., tuple[PyTree, OptState]]

    def __new__(cls, init, update, step):
        self = super().__new__(cls, init, update)
        self.step = step
        return self


class FusedState(NamedTuple):
    """State of :func:`fused`.

    Attributes:
      inner_state: the wrapped optimizer's own state (its ``HyperparamsState``, so
        :func:`jaxsched.get_hyperparams` and :func:`jaxsched.set_hyperparams` read and set it as
        usual), built over the parameters packed by dtype: each buffer, e.g. Adam's ``exp_avg``,
        is a ``Packed(flat={"float32": vector}, large=())`` with the leaves in tree order. A
        parameter split over devices when the state was made (tensor or FSDP sharding) is not packed:
        it keeps its own arrays, with its sharding, at its leaf number in ``large`` (``None`` at the
        other numbers). An optimizer without per-parameter state (SGD without momentum) packs nothing.
    """

    inner_state: OptState


@functools.cache
def kernel_module() -> Any:
    """The compiled kernel (``jaxsched._fused_kernel``) with its FFI targets registered, or ``None``.

    ``None`` where the package was installed without a C++ compiler, or with a jaxlib outside
    :data:`KERNEL_JAXLIB`: :func:`fused` then always runs the pure-JAX fallback.
    """
    from jaxlib.version import __version__ as jaxlib_version

    version = tuple(int(part) for part in jaxlib_version.split(".")[:3] if part.isdigit())
    if not KERNEL_JAXLIB[0] <= version < KERNEL_JAXLIB[1]:
        return None
    try:
        from jaxsched import _fused_kernel  # type: ignore[attr-defined]
    except ImportError:
        return None
    for name, capsule in _fused_kernel.registrations().items():
        jax.ffi.register_ffi_target(name, capsule, platform="cpu")
    return _fused_kernel


def _served_by_kernel(updates: PyTree, params: PyTree) -> bool:
    """Whether every leaf has the kernel's dtype: float32, or float64 under ``jax_enable_x64``.

    The kernel computes in the parameters' dtype with scalars of the hyperparameters' dtype, so
    both must agree (float32 parameters under x64 would see float64 intermediates in the fallback).
    """
    dtype = jnp.dtype(hyperparam_dtype())
    leaves = jax.tree.leaves(updates) + jax.tree.leaves(params)
    return bool(leaves) and dtype.name in _KERNEL_DTYPES and all(jnp.result_type(x) == dtype for x in leaves)


def _is_split(leaf: Any) -> bool:
    """Whether ``leaf`` is split over devices: seen on a concrete array, and on a traced one under an
    explicit mesh (an auto-sharded trace does not tell)."""
    sharding = getattr(leaf, "sharding", None)  # a concrete array's (a traced one has none)
    if sharding is not None:
        return not sharding.is_fully_replicated
    if hasattr(jax, "typeof"):  # jax >= 0.6: a trace's explicit sharding
        return any(axis is not None for axis in getattr(getattr(jax.typeof(leaf), "sharding", None), "spec", ()))
    return False


def _fused_layout(tree: PyTree, separate: frozenset[int]) -> Layout:
    """Every leaf packed in tree order, one vector per dtype, except the leaves numbered in ``separate``.

    Those were split over devices when the state was made: a packed vector cannot follow each leaf's
    own sharding, so each keeps its own state arrays, at the leaf's number in ``Packed.large``
    (``None`` elsewhere). The state's structure thus records which leaves they are.
    """
    leaves, treedef = jax.tree.flatten(tree)
    if separate and max(separate) >= len(leaves):
        raise ValueError(
            f"fused: optimizer state does not match the gradients: the state keeps leaf {max(separate)} apart, "
            f"but there are {len(leaves)} leaves; was the state initialized for other parameters?"
        )
    shapes = tuple(tuple(np.shape(x)) for x in leaves)
    packed: dict[str, int] = {}  # dtype name -> elements packed so far
    places = []
    for index, (leaf, shape) in enumerate(zip(leaves, shapes)):
        if index in separate:
            places.append(("large", index, 0))
        else:
            dtype = jnp.dtype(jnp.result_type(leaf)).name
            places.append(("flat", dtype, packed.get(dtype, 0)))
            packed[dtype] = packed.get(dtype, 0) + int(np.prod(shape, dtype=np.int64))
    return Layout(treedef, shapes, tuple(places))


def _separate_leaves(state: OptState) -> frozenset[int] | None:
    """The leaves the state keeps apart (see :func:`_fused_layout`), or ``None`` when the optimizer
    keeps no per-parameter state at all (SGD without momentum)."""
    is_packed = lambda x: isinstance(x, Packed)  # noqa: E731
    packed = [x for x in jax.tree.leaves(state, is_leaf=is_packed) if is_packed(x)]
    if not packed:
        return None
    return frozenset(index for index, x in enumerate(packed[0].large) if x is not None)


def _split_leaves(tree: PyTree) -> frozenset[int]:
    """The numbers of the leaves of ``tree`` that are split over devices (see :func:`_is_split`)."""
    return frozenset(index for index, leaf in enumerate(jax.tree.leaves(tree)) if _is_split(leaf))


def _check_packable(tree: PyTree, separate: frozenset[int], what: str) -> None:
    """Refuse a split leaf that the state packs: its state was made for a replicated parameter."""
    packed_but_split = _split_leaves(tree) - separate
    if packed_but_split:
        path = jax.tree_util.tree_flatten_with_path(tree)[0][min(packed_but_split)][0]
        raise ValueError(
            f"fused: {what} {jax.tree_util.keystr(path)} is split over devices, but the optimizer state "
            "packs it into one vector with the other leaves (the state was made for a replicated "
            "parameter): initialize the state from the parameters as they are placed, tx.init(params)"
        )


def _flags(fusion: Fusion) -> int:
    first, second = fusion.kernel.flags
    return (
        _L2 * fusion.l2_weight_decay
        + _DECOUPLED * fusion.decoupled_weight_decay
        + _OP_FLAG_A * first
        + _OP_FLAG_B * second
    )


def _call_kernel(scalars, buffers, params, grads, *, op: int, flags: int, offset: int, apply: bool) -> list:
    """One custom call: the kernel over the leaves ``grads`` (and ``params``), reading and writing
    ``buffers`` in place from element ``offset``. Returns the new buffers, then the updates (with
    ``apply``, the new parameters, written in place)."""
    aliases = {1 + k: k for k in range(len(buffers))}
    if apply:  # each parameter's buffer receives its new value
        aliases.update({1 + len(buffers) + j: len(buffers) + j for j in range(len(grads))})
    call = jax.ffi.ffi_call(
        "jaxsched_fused_update",
        [jax.ShapeDtypeStruct(b.shape, b.dtype) for b in buffers]
        + [jax.ShapeDtypeStruct(g.shape, g.dtype) for g in grads],
        input_output_aliases=aliases,
        vmap_method="sequential",
    )
    return list(
        call(
            scalars,
            *buffers,
            *params,
            *grads,
            op=np.int32(op),
            flags=np.int32(flags + _APPLY * apply),
            offset=np.int64(offset),
            buffers=np.int64(len(buffers)),
        )
    )


@functools.cache
def _split_leaf_kernel(rank: int, n_buffers: int, op: int, flags: int, apply: bool) -> Callable[..., list]:
    """The kernel over one leaf split over devices and its own state arrays: ``(scalars, *buffers,
    param, grad) -> [*buffers, update]``.

    The math is elementwise, so each device updates its own shards: every array keeps the
    parameter's sharding, the scalars are replicated, and the step needs no communication.
    (``custom_partitioning`` has no batching rule: such a call cannot be vmapped.)
    """

    def local(scalars, *arrays):
        buffers, (param, grad) = list(arrays[:n_buffers]), arrays[n_buffers:]
        return _call_kernel(scalars, buffers, [param], [grad], op=op, flags=flags, offset=0, apply=apply)

    def param_sharding(arg_shapes):
        return arg_shapes[1 + n_buffers].sharding

    def partition(mesh, arg_shapes, result_shape):
        sharding = param_sharding(arg_shapes)
        replicated = NamedSharding(mesh, PartitionSpec())
        return mesh, local, [sharding] * (n_buffers + 1), (replicated,) + (sharding,) * (n_buffers + 2)

    dims = " ".join(f"d{k}" for k in range(rank))
    split = custom_partitioning(local)
    split.def_partition(
        partition,
        infer_sharding_from_operands=lambda mesh, arg_shapes, result_shape: (
            [param_sharding(arg_shapes)] * (n_buffers + 1)
        ),
        sharding_rule=f"s, {', '.join([dims] * (n_buffers + 2))} -> {', '.join([dims] * (n_buffers + 1))}",
        need_replication_factors=("s",),
    )
    return split


def _kernel_update(
    transform: GradientTransformation,
    fusion: Fusion,
    layout: Layout,
    updates: PyTree,
    state: FusedState,
    params: PyTree,
    apply: bool,
):
    """One update through the kernel: every leaf has the same dtype (see :func:`_served_by_kernel`).

    Returns the updates, or with ``apply`` the updated parameters (written in place), and the state.
    """
    outer: HyperparamsState = state.inner_state
    inner = outer.inner_state
    kernel = fusion.kernel
    values = current_values(outer)
    own_scalars = kernel.scalars(inner, **{name: values[name] for name in fusion.math_arguments})
    dtype = hyperparam_dtype()
    scalars = jnp.stack([jnp.asarray(x, dtype) for x in fusion.common_scalars(values) + tuple(own_scalars)])
    fields = [name for name in kernel.buffers if getattr(inner, name) is not None]
    key = jnp.dtype(dtype).name
    op, flags = _OPS[kernel.op], _flags(fusion)
    grads = jax.tree.leaves(updates)
    # without weight decay the kernel never reads the parameters: the gradients stand in for them
    param_leaves = grads if params is None else jax.tree.leaves(params)
    new_leaves: list[Any] = [None] * len(grads)
    packed_leaves = [index for index, (kind, _, _) in enumerate(layout.places) if kind == "flat"]
    flat = {}
    if packed_leaves:
        buffers = [getattr(inner, name).flat[key] for name in fields]
        for start in range(0, len(packed_leaves), MAX_LEAVES_PER_CALL):
            chunk = packed_leaves[start : start + MAX_LEAVES_PER_CALL]  # contiguous in the buffers
            results = _call_kernel(
                scalars,
                buffers,
                [param_leaves[index] for index in chunk],
                [grads[index] for index in chunk],
                op=op,
                flags=flags,
                offset=layout.places[chunk[0]][2],
                apply=apply,
            )
            buffers = results[: len(buffers)]
            for index, leaf in zip(chunk, results[len(buffers) :]):
                new_leaves[index] = leaf
        flat = {name: {key: vector} for name, vector in zip(fields, buffers)}
    large = {name: list(getattr(inner, name).large) for name in fields}
    for index, (kind, _, _) in enumerate(layout.places):
        if kind == "large":
            split = _split_leaf_kernel(grads[index].ndim, len(fields), op, flags, apply)
            results = split(scalars, *[large[name][index] for name in fields], param_leaves[index], grads[index])
            for name, array in zip(fields, results):
                large[name][index] = array
            new_leaves[index] = results[len(fields)]
    # The rest of the state (step counts, schedules, NAdam's mu product) advances as the optimizer's
    # own update advances it over no parameters.
    without_buffers = outer._replace(inner_state=inner._replace(**{name: {} for name in fields}))
    _, new_outer = transform.update({}, without_buffers, {})
    new_buffers = {name: Packed(flat.get(name, {}), tuple(large[name])) for name in fields}
    new_outer = new_outer._replace(inner_state=new_outer.inner_state._replace(**new_buffers))
    return jax.tree.unflatten(layout.treedef, new_leaves), FusedState(new_outer)


def fused(transform: GradientTransformation, kernel: bool = True) -> FusedTransformation:
    """Run a jaxsched optimizer as one compiled pass over each element, with packed state.

    The same math as ``transform`` (the same formula and operation order), computed by a
    C++ kernel that reads each parameter, gradient and state element once and updates the state in
    place: ``torch.optim.Adam(fused=True)`` (and the other optimizers' ``fused``/``foreach``) for
    JAX. Plain XLA runs one loop per output array instead. The optimizer's state buffers (Adam's
    ``m`` and ``v``, a momentum buffer, ...) are each one vector per dtype (see :class:`FusedState`);
    the updates come back as a tree like the gradients, for :func:`jaxsched.apply_updates`. The
    returned :class:`FusedTransformation` also has ``step(grads, state, params) -> (params,
    state)``, the same numbers with the parameters written in place: the fastest form, one pass
    over memory like torch's ``optimizer.step()``.

    Runs: :func:`jaxsched.adam`, :func:`jaxsched.adamw` (AMSGrad too), :func:`jaxsched.sgd`
    (momentum, dampening, Nesterov), :func:`jaxsched.rmsprop` (centered, momentum),
    :func:`jaxsched.adagrad`, :func:`jaxsched.adamax`, :func:`jaxsched.nadam`, :func:`jaxsched.radam`
    and :func:`jaxsched.lion`, with every flag, weight decay and ``maximize``; schedules,
    :func:`jaxsched.set_hyperparams` (no recompiles), :func:`jaxsched.get_hyperparams`, checkpoints,
    :func:`jaxsched.partition`, :func:`jaxsched.masked` and :func:`jaxsched.skip_non_finite`
    around it work as with the optimizer alone.

    The kernel serves float32 parameters (float64 under ``jax_enable_x64``) on CPU. Elsewhere the
    optimizer's own pure-JAX math runs on the packed state instead, with the same state layout (a
    checkpoint moves between the two): on GPU/TPU, where the package was installed without a C++
    compiler, for other dtypes (bfloat16, float16, complex, float32 under x64), and when the update
    is differentiated (the derivative is the pure-JAX math's). The kernel computes the math as XLA
    compiles it (torch's order; Adam's bias corrections as reciprocals), rounding each operation
    once; on CPUs with FMA, XLA also contracts some multiply-adds in the fallback, so there the two
    agree to a few roundings per step (bit for bit without FMA). Float64 parity with torch holds for
    both.

    Sharding: replicated parameters (data parallelism) are packed and need no communication.
    Parameters split over devices (tensor parallelism, FSDP) keep their own state arrays with their
    sharding, and each device runs the kernel over its own shards (``custom_partitioning``), so the
    step needs no communication either. ``init`` learns which parameters are split from the placed
    arrays (concrete ones, or traced ones under an explicit mesh), and an update that finds a split
    leaf where the state packs one raises ``ValueError``. SGD without momentum keeps no state and
    runs as the optimizer itself: XLA already makes it one pass per leaf.

    PyTorch: ``torch.optim.Adam(params, ..., fused=True)``; optax has no equivalent.

    Args:
      transform: the optimizer, e.g. ``js.adam(1e-3)``. Anything else (another optimizer, a chain,
        an optax transformation) raises ``TypeError``.
      kernel: ``False`` always runs the pure-JAX fallback (the same state and numbers), e.g. to
        compare the two.

    Example::

        tx = js.fused(js.adam(1e-3, weight_decay=1e-4))
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
        params, state = tx.step(grads, state, params)   # the same, the parameters written in place
    """
    check_transformation("fused's transform", transform)
    check_bool("kernel", kernel)
    fusion = components_of(transform).get("fusion")
    if not isinstance(fusion, Fusion):
        raise TypeError(
            "fused runs one jaxsched optimizer built by js.adam, js.adamw, js.sgd, js.rmsprop, js.adagrad, "
            f"js.adamax, js.nadam, js.radam or js.lion, directly (wrap chains and partitions around fused, not fused around them); got {transform!r}"
        )

    def init_packed(params: PyTree, separate: frozenset[int]) -> FusedState:
        return FusedState(transform.init(pack(params, _fused_layout(params, separate))))

    def init(params):
        params = jax.tree.map(jnp.asarray, params)
        return init_packed(params, _split_leaves(params))

    def run(updates, state, params, extra_args, apply: bool):
        updates = jax.tree.map(jnp.asarray, updates)
        params = None if params is None else jax.tree.map(jnp.asarray, params)
        if fusion.reads_params:
            check_has_params(params, "weight_decay")
        if params is not None:
            difference = first_difference(updates, params)
            if difference:
                raise ValueError(f"fused: gradients and params do not match: {difference} (gradients vs params)")
        separate = _separate_leaves(state)
        if separate is not None:
            _check_packable(updates, separate, "gradient")
            if params is not None:
                _check_packable(params, separate, "parameter")
        # a state without per-parameter arrays records nothing: the expected one then keeps the leaves
        # that are visibly split apart too, as init does, rather than concatenate differing shardings
        difference = first_difference(
            state,
            jax.eval_shape(lambda u: init_packed(u, _split_leaves(u) if separate is None else separate), updates),
            compare_dtypes=False,
        )
        if difference:
            raise ValueError(
                f"fused: optimizer state does not match the gradients: {difference} (state vs state for these "
                "gradients); was the state initialized for other parameters?"
            )
        if separate is None:  # no per-parameter state: XLA already runs the update as one pass per leaf
            new_updates, inner_state = call_update(transform, updates, state.inner_state, params, extra_args)
            return (apply_updates(params, new_updates) if apply else new_updates), FusedState(inner_state)
        layout = _fused_layout(updates, separate)

        def fallback(updates, state, params):
            packed_params = None if params is None else pack(params, layout)
            packed_updates, inner_state = call_update(
                transform, pack(updates, layout), state.inner_state, packed_params, extra_args
            )
            new_updates = unpack(packed_updates, layout)
            return (apply_updates(params, new_updates) if apply else new_updates), FusedState(inner_state)

        if not kernel or kernel_module() is None or not _served_by_kernel(updates, params):
            return fallback(updates, state, params)

        def on_cpu(updates, state, params):
            return _kernel_update(transform, fusion, layout, updates, state, params, apply)

        @jax.custom_jvp
        def one_pass(updates, state, params):
            return jax.lax.platform_dependent(updates, state, params, cpu=on_cpu, default=fallback)

        # the kernel has no derivative of its own: differentiating the update differentiates the math
        one_pass.defjvp(lambda primals, tangents: jax.jvp(fallback, primals, tangents))
        return one_pass(updates, state, params)

    def update(updates, state, params=None, **extra_args):
        return run(updates, state, params, extra_args, apply=False)

    def step(grads, state, params, **extra_args):
        check_has_params(params, "fused's step")
        return run(grads, state, params, extra_args, apply=True)

    return FusedTransformation(init, update, step)
