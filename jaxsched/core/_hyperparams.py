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
import math
from typing import Any, Callable, Iterable, Mapping, NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    OptState,
    call_update,
    first_difference,
    hyperparam_dtype,
    increment_step,
    zero_step,
)
from jaxsched.core._validation import is_schedule


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


def _initial(spec: Any, step: jax.Array, fixed: bool) -> Any:
    if spec is None:
        return None
    if type(spec) is tuple:
        return tuple(_initial(member, step, fixed) for member in spec)
    if is_schedule(spec):
        return Scheduled(_as_hyperparam(spec(step)))
    return Fixed(_as_hyperparam(spec)) if fixed else _as_hyperparam(spec)


def _refresh(spec: Any, current: Any, step: jax.Array) -> Any:
    if type(spec) is tuple:
        return tuple(_refresh(s, c, step) for s, c in zip(spec, current))
    if is_schedule(spec):
        return Scheduled(_as_hyperparam(spec(step)))
    return current


def _unwrap(value: Any) -> Any:
    if isinstance(value, (Scheduled, Fixed)):
        return value.value
    if type(value) is tuple:
        return tuple(_unwrap(v) for v in value)
    return value


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

    def init(params):
        step = zero_step()
        values = {name: _initial(spec, step, name in fixed) for name, spec in hyperparams.items()}
        inner = build(**{name: _unwrap(v) for name, v in values.items()})
        return HyperparamsState(step, values, inner.init(params))

    def update(updates, state, params=None, **extra_args):
        inner = build(**{name: _unwrap(v) for name, v in state.hyperparams.items()})
        _check_matches(updates, params, state.inner_state, inner)
        new_updates, inner_state = call_update(inner, updates, state.inner_state, params, extra_args)
        new_updates = jax.tree.map(lambda u, g: jnp.asarray(u).astype(jnp.asarray(g).dtype), new_updates, updates)
        step = increment_step(state.step)
        values = {name: _refresh(spec, state.hyperparams[name], step) for name, spec in hyperparams.items()}
        return new_updates, HyperparamsState(step, values, inner_state)

    return GradientTransformation(init, update)


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
        return injected(lambda **values: factory(**static, **values), numeric)

    return make


# --- reading and writing hyperparameters in any state --------------------------------------------


def _is_node(x: Any) -> bool:
    from jaxsched.core._combinators import PartitionState

    return isinstance(x, (HyperparamsState, PartitionState))


def _nodes(state: OptState) -> list[Any]:
    return [x for x in jax.tree.leaves(state, is_leaf=_is_node) if _is_node(x)]


def get_hyperparams(state: OptState) -> dict[str, Any]:
    """The hyperparameters the next update will use, read from any jaxsched (or mixed optax) state.

    For one optimizer (or a chain) a flat dict keyed by constructor argument names, ``betas`` as a
    pair and schedule-driven values at the current step; for :func:`jaxsched.partition`, a dict
    ``{label: {...}}``.

    Example::

        js.get_hyperparams(state)["learning_rate"]      # current learning rate
    """
    from jaxsched.core._combinators import PartitionState

    result: dict[str, Any] = {}
    for node in _nodes(state):
        if isinstance(node, PartitionState):
            entries = {label: get_hyperparams(inner) for label, inner in node.inner_states.items()}
        else:
            entries = {name: _unwrap(value) for name, value in node.hyperparams.items()}
        for name, value in entries.items():
            if name in result:
                raise ValueError(
                    f"hyperparameter {name!r} appears in more than one transformation of this state; "
                    "read the sub-states separately"
                )
            result[name] = value
    return result


def _check_concrete_finite(name: str, value: Any) -> None:
    for leaf in jax.tree.leaves(value):
        if isinstance(leaf, jax.core.Tracer):
            continue
        if not all(math.isfinite(float(x)) for x in jnp.ravel(jnp.asarray(leaf))):
            raise ValueError(f"{name} must be finite, got {value!r}")


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
    _check_concrete_finite(name, new)
    return jnp.asarray(new, dtype=old.dtype)


def _set_in_node(node: HyperparamsState, values: dict[str, Any]) -> HyperparamsState:
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
            for label in [label for label in labels if key in get_hyperparams(node.inner_states[label])]:
                per_group[label][key] = value
    inner = {label: set_hyperparams(s, **per_group[label]) if per_group[label] else s for label, s in node.inner_states.items()}
    return node._replace(inner_states=inner)


def set_hyperparams(state: OptState, **values: Any) -> OptState:
    """Return ``state`` with hyperparameters replaced; jit-friendly and never recompiling.

    Values are cast to the stored dtype, so a Python float and a traced array give the same compiled
    step. For :func:`jaxsched.partition` states, set per group with ``set_hyperparams(state,
    head={"learning_rate": 1e-3})``, per label with ``learning_rate={"head": 1e-3, "base": 1e-2}``,
    or for every group with ``learning_rate=1e-3``.

    Raises ``ValueError`` for unknown names, schedule-driven or compiled-out hyperparameters, and
    non-finite concrete values.

    Example::

        state = js.set_hyperparams(state, learning_rate=0.01)   # e.g. from ReduceLROnPlateau
    """
    nodes = _nodes(state)
    if not nodes:
        raise ValueError("this state holds no jaxsched hyperparameters")
    remaining = dict(values)
    replacements: dict[int, Any] = {}
    for node in nodes:
        if isinstance(node, HyperparamsState):
            mine = {k: remaining.pop(k) for k in list(remaining) if k in node.hyperparams}
            if mine:
                replacements[id(node)] = _set_in_node(node, mine)
        else:
            groups = get_hyperparams(node)
            owned = set(groups).union(*(g.keys() for g in groups.values()))
            mine = {k: remaining.pop(k) for k in list(remaining) if k in owned}
            if mine:
                replacements[id(node)] = _set_in_partition(node, mine)
    if remaining:
        available = sorted(set().union(*(get_hyperparams(n).keys() for n in nodes)))
        raise ValueError(f"unknown hyperparameter(s) {sorted(remaining)}; this state has {available}")
    return jax.tree.map(lambda x: replacements.get(id(x), x) if _is_node(x) else x, state, is_leaf=_is_node)
