"""Hyperparameters held in the optimizer state.

Every numeric hyperparameter of a jaxsched optimizer lives in its state as an array, so a jitted
train step never recompiles when a float hyperparameter changes, and a schedule's current value is
readable without the schedule. One :class:`HyperparamsState` wraps each optimizer::

    HyperparamsState(step, hyperparams={"learning_rate": ..., "betas": (b1, b2), ...}, inner_state)

``hyperparams`` holds the values the *next* update uses. Values produced by a schedule are wrapped
in :class:`Scheduled`, terms compiled out at construction (a zero ``weight_decay``) in
:class:`Fixed`; :func:`set_hyperparams` refuses to overwrite either, with a message saying why.
A ``None`` (a value the optimizer derives itself, e.g. Adafactor's ``eps[0]`` from each parameter's
dtype) stays ``None`` and cannot be set either: a number there would change the compiled update.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    OptState,
    call_update,
    first_difference,
    hyperparam_dtype,
    increment_step,
    record_components,
    zero_step,
)
from jaxsched.core._validation import check_hyperparameter_value, check_takes_the_step, is_schedule


class Scheduled(NamedTuple):
    """A hyperparameter value computed by a schedule at the current step (read-only)."""

    value: jax.Array


class Fixed(NamedTuple):
    """A hyperparameter whose term was compiled out at construction, e.g. ``weight_decay=0`` (read-only)."""

    value: jax.Array


class HyperparamsState(NamedTuple):
    """State of one optimizer: its step count, current hyperparameters and the inner math's state."""

    step: jax.Array
    hyperparams: dict[str, Any]
    inner_state: OptState


def _as_hyperparam(value: Any) -> jax.Array:
    # An explicit dtype makes the array strongly typed: a weak type would recompile when it changes.
    return jnp.asarray(value, dtype=hyperparam_dtype())


def scheduled_value(name: str, schedule: Callable[[Any], Any], step: jax.Array) -> Scheduled:
    value = _as_hyperparam(schedule(step))
    if value.ndim != 0:
        raise ValueError(f"the schedule for {name} must return a scalar, got an array of shape {value.shape}")
    return Scheduled(value)


def _check_schedule_arity(name: str, spec: Any) -> None:
    if type(spec) is tuple:
        for i, member in enumerate(spec):
            _check_schedule_arity(f"{name}[{i}]", member)
    elif is_schedule(spec):
        check_takes_the_step(f"the schedule for {name}", spec)


def _initial(name: str, spec: Any, step: jax.Array, fixed: bool) -> Any:
    if spec is None:
        return None
    if type(spec) is tuple:
        return tuple(_initial(f"{name}[{i}]", member, step, fixed) for i, member in enumerate(spec))
    if is_schedule(spec):
        return scheduled_value(name, spec, step)
    return Fixed(_as_hyperparam(spec)) if fixed else _as_hyperparam(spec)


def _refresh(name: str, spec: Any, current: Any, step: jax.Array) -> Any:
    if type(spec) is tuple:
        return tuple(_refresh(f"{name}[{i}]", s, c, step) for i, (s, c) in enumerate(zip(spec, current)))
    if is_schedule(spec):
        return scheduled_value(name, spec, step)
    return current


def _is_variable(value: Any) -> bool:
    """A framework's mutable box around an array, e.g. flax NNX's ``OptArray`` in ``nnx.Optimizer.opt_state``.

    Duck-typed (an object with ``.value`` that is neither an array nor one of this module's wrappers),
    so jaxsched needs no flax import.
    """
    if isinstance(value, (jax.Array, tuple)):
        return False
    # the class is asked first: reading flax's deprecated ``.value`` property would warn
    return hasattr(type(value), "get_value") or hasattr(value, "value")


def unboxed(value: Any) -> Any:
    """The array inside a variable wrapper (flax NNX's ``get_value()``, else ``.value``); other values as they are."""
    if not _is_variable(value):
        return value
    return value.get_value() if hasattr(value, "get_value") else value.value


def replaced(old: Any, value: jax.Array) -> Any:
    """``value`` in place of ``old``; a variable wrapper is kept and given ``value`` (``set_value``, else ``.value``).

    Replacing the variable by a bare array would drop it from ``nnx.state(optimizer, nnx.OptState)``, so a
    checkpoint would restore the old value; NNX updates variables in place (as ``nnx.update`` does).
    """
    if not _is_variable(old):
        return value
    if hasattr(old, "set_value"):
        old.set_value(value)
    else:
        old.value = value
    return old


def _unwrap(value: Any) -> Any:
    if isinstance(value, (Scheduled, Fixed)):
        return _unwrap(value.value)
    if type(value) is tuple:
        return tuple(_unwrap(v) for v in value)
    return unboxed(value)


def injected(
    build: Callable[..., GradientTransformation],
    hyperparams: Mapping[str, Any],
    fixed: Iterable[str] = (),
) -> GradientTransformation:
    """Run ``build(**current_hyperparams)`` each step, with the hyperparameters kept in the state.

    Args:
      build: returns the inner transformation for given hyperparameter values (arrays).
        Anything structural (flags, which terms exist) must be captured in ``build``'s closure.
      hyperparams: name -> float, array, schedule ``step -> value``, or a tuple of those (``betas``).
      fixed: names whose term ``build`` leaves out; they are readable but not settable.

    The final updates are cast to the incoming gradients' dtypes, so optimizer math may run in the
    float32 state dtype for bfloat16/float16 parameters.
    """
    hyperparams = dict(hyperparams)
    fixed = frozenset(fixed)
    for name, spec in hyperparams.items():
        _check_schedule_arity(name, spec)

    def init(params):
        params = _as_arrays(params)
        _check_trainable(params)
        step = zero_step()
        values = {name: _initial(name, spec, step, name in fixed) for name, spec in hyperparams.items()}
        inner_state = build(**{name: _unwrap(v) for name, v in values.items()}).init(params)
        if _nodes(inner_state):
            raise TypeError(
                "the transformation already keeps its hyperparameters in its state (a jaxsched optimizer?); "
                "use it without inject_hyperparams: a second copy here would not reach its update"
            )
        return HyperparamsState(step, values, inner_state)

    def update(updates, state, params=None, **extra_args):
        updates, params = _as_arrays(updates), _as_arrays(params)
        inner = build(**current_values(state))
        _check_matches(updates, params, state.inner_state, inner)
        new_updates, inner_state = call_update(inner, updates, state.inner_state, params, extra_args)
        # in the parameters' dtype where known: low-precision gradients must not round a float32 update
        like = updates if params is None else params
        new_updates = jax.tree.map(lambda u, x: jnp.asarray(u).astype(x.dtype), new_updates, like)
        return new_updates, advanced(state, hyperparams, inner_state)

    return record_components(GradientTransformation(init, update), hyperparams=hyperparams)


def current_values(state: HyperparamsState) -> dict[str, Any]:
    """The hyperparameter values the next update uses, as arrays (and tuples of arrays)."""
    return {name: _unwrap(v) for name, v in state.hyperparams.items()}


def advanced(state: HyperparamsState, hyperparams: Mapping[str, Any], inner_state: OptState) -> HyperparamsState:
    """``state`` after one update: the step counted, schedules moved on, ``inner_state`` in place.

    ``hyperparams`` are the specifications given at construction (floats, schedules, tuples).
    """
    step = increment_step(state.step)
    values = {name: _refresh(name, spec, state.hyperparams[name], step) for name, spec in hyperparams.items()}
    return HyperparamsState(step, values, inner_state)


def _as_arrays(tree: Any) -> Any:
    """Python and numpy scalars as arrays, so every leaf has a dtype (``None`` leaves stay ``None``)."""
    return jax.tree.map(jnp.asarray, tree)


def _check_trainable(params: Any) -> None:
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        if not jnp.issubdtype(leaf.dtype, jnp.inexact):
            raise TypeError(
                f"parameter {jax.tree_util.keystr(path)} has dtype {leaf.dtype}; only floating and complex "
                "parameters can be optimized (as in torch)"
            )


def _check_matches(updates: Any, params: Any, inner_state: Any, inner: GradientTransformation) -> None:
    """Raise a clear error when gradients, params and state do not belong together.

    Runs at trace time (shapes only), so a jitted step pays nothing per call.
    """
    if params is not None:
        difference = first_difference(updates, params, compare_dtypes=False)
        if difference:
            raise ValueError(f"gradients and params do not match: {difference} (gradients vs params)")
    difference = first_difference(inner_state, jax.eval_shape(inner.init, updates), compare_dtypes=False)
    if difference:
        raise ValueError(
            f"optimizer state does not match the gradients: {difference} (state vs state for these gradients); "
            "was the state initialized for other parameters?"
        )


def inject_hyperparams(
    factory: Callable[..., GradientTransformation], static_args: Iterable[str] = ()
) -> Callable[..., GradientTransformation]:
    """Make any transformation factory keep its numeric hyperparameters in the state.

    Like ``optax.inject_hyperparams``: ``inject_hyperparams(optax.sgd)(learning_rate=sched)`` returns
    a transformation whose ``learning_rate`` is visible to :func:`get_hyperparams` and settable with
    :func:`set_hyperparams` inside ``jit`` without recompiling. Arguments that are bools, strings,
    ``None`` or named in ``static_args`` are passed through unchanged; numbers, arrays and callables
    (schedules) become hyperparameters.

    Example::

        tx = js.inject_hyperparams(js.transforms.clip_by_global_norm)(max_norm=1.0)
    """
    if not callable(factory):
        raise TypeError(f"inject_hyperparams needs a transformation factory (a callable), got {factory!r}")
    static_args = frozenset((static_args,) if isinstance(static_args, str) else static_args)
    signature = inspect.signature(factory)

    def is_numeric(name: str, value: Any) -> bool:
        if name in static_args or value is None or isinstance(value, (bool, str)):
            return False
        if type(value) is tuple:
            return all(is_numeric(name, v) for v in value)
        return isinstance(value, (int, float, jax.Array)) or hasattr(value, "dtype") or is_schedule(value)

    @functools.wraps(factory)
    def make(*args, **kwargs) -> GradientTransformation:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        numeric = {k: v for k, v in bound.arguments.items() if is_numeric(k, v)}
        static = {k: v for k, v in bound.arguments.items() if k not in numeric}
        factory(**bound.arguments)  # the factory's own argument checks, now rather than at init
        return injected(lambda **values: factory(**static, **values), numeric)

    return make


# --- reading and writing hyperparameters in any state --------------------------------------------


def _is_node(x: Any) -> bool:
    from jaxsched._averaging import AveragerState
    from jaxsched.core._combinators import PartitionState

    # AveragerState keeps its hyperparameters (ema's decay) in the same dict layout as HyperparamsState.
    return isinstance(x, (HyperparamsState, PartitionState, AveragerState))


def _nodes(state: OptState) -> list[tuple[str, Any]]:
    """Every hyperparameter node of ``state`` (outermost only) with its path, e.g. ``("state[1]", node)``."""
    found = jax.tree_util.tree_flatten_with_path(state, is_leaf=_is_node)[0]
    return [(f"state{jax.tree_util.keystr(path)}", x) for path, x in found if _is_node(x)]


def _entries(node: Any) -> dict[str, Any]:
    from jaxsched.core._combinators import PartitionState

    if isinstance(node, PartitionState):
        return {label: _collect(inner) for label, inner in node.inner_states.items()}
    return {name: _unwrap(value) for name, value in node.hyperparams.items()}


class Hyperparams(dict):
    """What :func:`get_hyperparams` returns: a dict that explains the names it leaves out.

    A name held by more than one transformation of the state (``weight_decay`` in
    ``chain(add_weight_decay(...), adamw(...))``) is left out; asking for it raises a ``KeyError``
    that says where each one is, while the unambiguous names (the learning rate) read as usual.
    """

    def __init__(self, values: dict[str, Any], ambiguous: dict[str, list[str]]):
        super().__init__(values)
        self.ambiguous = ambiguous

    def __missing__(self, name: str) -> Any:
        if name in self.ambiguous:
            raise KeyError(
                f"hyperparameter {name!r} is held by more than one transformation of this state, at "
                f"{' and '.join(self.ambiguous[name])}; read each with js.get_hyperparams(<that sub-state>)"
            )
        raise KeyError(name)


# A pytree like a dict, so jax.tree functions see the values (not one opaque leaf).
jax.tree_util.register_pytree_with_keys(
    Hyperparams,
    lambda h: (
        [(jax.tree_util.DictKey(k), h[k]) for k in sorted(h)],
        (tuple(sorted(h)), tuple((name, tuple(paths)) for name, paths in h.ambiguous.items())),
    ),
    lambda aux, values: Hyperparams(dict(zip(aux[0], values)), {name: list(paths) for name, paths in aux[1]}),
)


def _collect(state: OptState) -> Hyperparams:
    values: dict[str, Any] = {}
    owners: dict[str, list[str]] = {}
    for path, node in _nodes(state):
        for name, value in _entries(node).items():
            owners.setdefault(name, []).append(path)
            values[name] = value
    ambiguous = {name: paths for name, paths in owners.items() if len(paths) > 1}
    return Hyperparams({name: v for name, v in values.items() if name not in ambiguous}, ambiguous)


def _require_nodes(state: OptState) -> list[tuple[str, Any]]:
    nodes = _nodes(state)
    if not nodes:
        raise ValueError(
            "this state holds no hyperparameters: an optax optimizer keeps none in its state; build it as "
            "js.inject_hyperparams(optax.sgd)(learning_rate=0.1) (any optax factory) to read and set them"
        )
    return nodes


def get_hyperparams(state: OptState) -> Hyperparams:
    """The hyperparameters the next update will use, read from any jaxsched (or mixed optax) state.

    For one optimizer (or a chain) a flat dict keyed by constructor argument names, ``betas`` as a
    pair and schedule-driven values at the current step; for :func:`jaxsched.partition`, a dict
    ``{label: {...}}``. A name that several transformations of a chain hold is left out (asking for
    it raises a ``KeyError`` saying where each one is); raises ``ValueError`` for a state without
    hyperparameters (a bare optax optimizer's).

    Example::

        js.get_hyperparams(state)["learning_rate"]      # current learning rate
    """
    _require_nodes(state)
    return _collect(state)


def _set_value(name: str, old: Any, new: Any) -> Any:
    if old is None:
        if new is None:
            return None
        raise ValueError(
            f"hyperparameter {name!r} was None at construction, so the optimizer derives it (e.g. from the "
            f"parameters' dtype); construct the optimizer with a number for {name} to change it later"
        )
    if isinstance(old, Scheduled):
        raise ValueError(
            f"hyperparameter {name!r} is driven by a schedule and cannot be set; construct the optimizer "
            f"with a float {name} to control it with set_hyperparams"
        )
    if isinstance(old, Fixed):
        raise ValueError(
            f"hyperparameter {name!r} was 0 at construction, so its term is compiled out of the update; "
            f"construct the optimizer with a nonzero {name} (or a schedule) to change it later"
        )
    if type(old) is tuple:
        if not isinstance(new, (tuple, list)) or len(new) != len(old):
            raise ValueError(f"{name} must be a tuple of {len(old)} values, got {new!r}")
        return tuple(_set_value(f"{name}[{i}]", o, n) for i, (o, n) in enumerate(zip(old, new)))
    check_hyperparameter_value(name, new)
    return replaced(old, jnp.asarray(new, dtype=unboxed(old).dtype))


def _set_in_node(node: Any, values: dict[str, Any]) -> Any:
    hyperparams = dict(node.hyperparams)
    for name, value in values.items():
        hyperparams[name] = _set_value(name, hyperparams[name], value)
    return node._replace(hyperparams=hyperparams)


def _set_in_partition(node: Any, values: dict[str, Any]) -> Any:
    labels = node.inner_states.keys()
    per_group: dict[str, dict[str, Any]] = {label: {} for label in labels}
    for key, value in values.items():
        if key in labels:
            if not isinstance(value, Mapping):
                raise TypeError(f"set_hyperparams({key}=...) for partition group {key!r} takes a dict of values")
            per_group[key].update(value)
        elif isinstance(value, Mapping):  # hyperparameter -> {label: value}
            unknown = set(value) - set(labels)
            if unknown:
                raise ValueError(f"unknown partition labels {sorted(unknown)} for {key!r}; labels are {sorted(labels)}")
            for label, v in value.items():
                per_group[label][key] = v
        else:  # one value for every group that has this hyperparameter
            for label in [label for label in labels if key in _names(node.inner_states[label])]:
                per_group[label][key] = value
    inner = {
        label: set_hyperparams(s, **per_group[label]) if per_group[label] else s
        for label, s in node.inner_states.items()
    }
    return node._replace(inner_states=inner)


def _names(state: OptState) -> set[str]:
    """Every hyperparameter name in ``state``, the ambiguous ones and the partition labels included."""
    collected = _collect(state)
    names = set(collected) | set(collected.ambiguous)
    for value in collected.values():
        if isinstance(value, Hyperparams):
            names |= set(value) | set(value.ambiguous)
    return names


def set_hyperparams(state: OptState, **values: Any) -> OptState:
    """Return ``state`` with hyperparameters replaced; jit-friendly and never recompiling.

    Values are cast to the stored dtype, so a Python float and a traced array give the same compiled
    step. For :func:`jaxsched.partition` states, set per group with ``set_hyperparams(state,
    head={"learning_rate": 1e-3})``, per label with ``learning_rate={"head": 1e-3, "base": 1e-2}``,
    or for every group with ``learning_rate=1e-3``.

    Raises ``ValueError`` for unknown names, for a name that several transformations of a chain hold
    (set it in that transformation's own state), for schedule-driven or compiled-out hyperparameters,
    and for concrete values outside torch's range for that name (``learning_rate=-1``,
    ``betas=(1.0, 0.999)``); ``TypeError`` for non-numbers and arrays (``learning_rate`` must be a
    scalar, as in torch).

    Example::

        state = js.set_hyperparams(state, learning_rate=0.01)   # e.g. from ReduceLROnPlateau
    """
    from jaxsched.core._combinators import PartitionState

    nodes = _require_nodes(state)
    owners = {name: [(path, node) for path, node in nodes if name in _names(node)] for name in values}
    unknown = sorted(name for name, found in owners.items() if not found)
    if unknown:
        available = sorted(set().union(*(_names(node) for _, node in nodes)))
        raise ValueError(f"unknown hyperparameter(s) {unknown}; this state has {available}")
    for name, found in owners.items():
        if len(found) > 1:
            raise ValueError(
                f"hyperparameter {name!r} is held by more than one transformation of this state, at "
                f"{' and '.join(path for path, _ in found)}; set it in that transformation's own state, "
                f"e.g. js.set_hyperparams({found[0][0]}, {name}=...)"
            )
    replacements: dict[int, Any] = {}
    for _path, node in nodes:
        mine = {name: value for name, value in values.items() if owners[name][0][1] is node}
        if mine:
            setter = _set_in_partition if isinstance(node, PartitionState) else _set_in_node
            replacements[id(node)] = setter(node, mine)
    return jax.tree.map(lambda x: replacements.get(id(x), x) if _is_node(x) else x, state, is_leaf=_is_node)
