"""Combinators: run transformations in sequence, on a subset of leaves, or per parameter group."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxsched.core._base import GradientTransformation, OptState, Params, PyTree, call_update, record_components
from jaxsched.core._packing import Packed
from jaxsched.core._validation import check_transformation

Mask = PyTree | Callable[[Params], PyTree]
Labels = PyTree | Callable[[Params], PyTree]


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` in order; the state is the tuple of their states (as ``optax.chain``).

    Optax transformations may be mixed in: ``extra_args`` reach only those that accept them.

    Example::

        tx = js.chain(js.clip_by_global_norm(1.0), js.adam(1e-3))
    """
    for i, tx in enumerate(transforms):
        check_transformation(f"chain argument {i}", tx)

    def init(params):
        return tuple(tx.init(params) for tx in transforms)

    def update(updates, state, params=None, **extra_args):
        if len(state) != len(transforms):
            raise ValueError(f"chain state has {len(state)} entries but the chain has {len(transforms)} transforms")
        new_state = []
        for tx, s in zip(transforms, state):
            updates, s = call_update(tx, updates, s, params, extra_args)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def _check_tree_or_function(tree_or_fn: Any, what: str) -> None:
    if tree_or_fn is None:
        raise TypeError(f"{what} must be a pytree matching the params or a function params -> {what}, got None")


def _resolve(tree_or_fn: Any, params: Params, what: str) -> PyTree:
    """The labels or mask for ``params``, checked to be a prefix of their structure."""
    is_packed = lambda x: isinstance(x, Packed)  # noqa: E731
    if any(is_packed(x) for x in jax.tree.leaves(params, is_leaf=is_packed)):
        # inside js.flatten the leaves are packed vectors: their paths and shapes are gone
        raise ValueError(
            f"{what} cannot see through js.flatten (its leaves are packed vectors): put flatten inside "
            "partition or masked, e.g. js.partition({label: js.flatten(tx), ...}, labels)"
        )
    tree = tree_or_fn(params) if callable(tree_or_fn) else tree_or_fn
    try:
        jax.tree.map(lambda *_: None, tree, params)
    except ValueError as error:
        raise ValueError(f"{what} do not match the params' structure: {error}") from None
    return tree


def _select(tree: PyTree, keep: PyTree) -> PyTree:
    """``tree`` with every leaf where ``keep`` (a prefix tree of bools) is False replaced by ``None``."""
    if tree is None:
        return None
    return jax.tree.map(lambda k, sub: sub if k else jax.tree.map(lambda _: None, sub), keep, tree)


def _merge(base: PyTree, replacement: PyTree, keep: PyTree) -> PyTree:
    """Leaves of ``replacement`` where ``keep`` is True, of ``base`` elsewhere."""
    return jax.tree.map(lambda k, b, r: r if k else b, keep, base, replacement, is_leaf=lambda x: x is None)


def _check_mask(mask: PyTree, what: str) -> PyTree:
    for path, leaf in jax.tree.leaves_with_path(mask):
        if not isinstance(leaf, (bool, np.bool_)):
            raise TypeError(f"{what} leaf at {jax.tree_util.keystr(path)} must be a Python bool, got {leaf!r}")
    return mask


class MaskedState(NamedTuple):
    """State of :func:`masked`: the inner state, built over the selected leaves only."""

    inner_state: OptState


def masked(transform: GradientTransformation, mask: Mask) -> GradientTransformation:
    """Apply ``transform`` only where ``mask`` is True; other leaves' updates pass through unchanged.

    Args:
      transform: the transformation to apply to the selected leaves.
      mask: a pytree of Python bools matching the params (or a prefix of them), or a function
        ``params -> mask``. Same semantics as ``optax.masked``.

    Example::

        no_decay_on_bias = js.masked(js.transforms.add_weight_decay(1e-4), lambda p: {k: k != "b" for k in p})
    """

    check_transformation("masked's transform", transform)
    _check_tree_or_function(mask, "mask")

    def init(params):
        keep = _check_mask(_resolve(mask, params, "mask"), "mask")
        return MaskedState(transform.init(_select(params, keep)))

    def update(updates, state, params=None, **extra_args):
        keep = _check_mask(_resolve(mask, updates if params is None else params, "mask"), "mask")
        inner_updates, inner_state = call_update(
            transform, _select(updates, keep), state.inner_state, _select(params, keep), extra_args
        )
        return _merge(updates, inner_updates, keep), MaskedState(inner_state)

    return GradientTransformation(init, update)


class PartitionState(NamedTuple):
    """State of :func:`partition`: one inner state per group label."""

    inner_states: dict[str, OptState]


def partition(transforms: Mapping[str, GradientTransformation], labels: Labels) -> GradientTransformation:
    """Torch-style parameter groups: each group of leaves gets its own transformation and state.

    The PyTorch ``[{'params': base}, {'params': head, 'lr': 1e-3}]`` becomes::

        tx = js.partition({"base": js.sgd(1e-2, momentum=0.9), "head": js.sgd(1e-3, momentum=0.9)},
                          js.label_by_path({"classifier": "head"}, default="base"))

    Args:
      transforms: label -> transformation (each may have its own learning rate or schedule).
      labels: a pytree of label strings matching the params, or a function ``params -> labels``.

    Per-group hyperparameters are read as ``get_hyperparams(state)[label]`` and written with
    ``set_hyperparams(state, head={"learning_rate": ...})``.
    """
    if not isinstance(transforms, Mapping):
        raise TypeError(f"partition's transforms must be a dict label -> transformation, got {transforms!r}")
    for label, tx in transforms.items():
        check_transformation(f"partition's transform for label {label!r}", tx)
    transforms = dict(transforms)
    _check_tree_or_function(labels, "labels")

    def label_tree(params):
        tree = _resolve(labels, params, "labels")
        for path, label in jax.tree.leaves_with_path(tree):
            if label not in transforms:
                raise ValueError(
                    f"label {label!r} at {jax.tree_util.keystr(path)} has no transformation; "
                    f"partition labels are {sorted(transforms)}"
                )
        return tree

    def group_mask(tree, label):
        return jax.tree.map(lambda leaf_label: leaf_label == label, tree)

    def init(params):
        tree = label_tree(params)
        return PartitionState({g: tx.init(_select(params, group_mask(tree, g))) for g, tx in transforms.items()})

    def update(updates, state, params=None, **extra_args):
        tree = label_tree(updates if params is None else params)
        new_updates, new_states = updates, {}
        for g, tx in transforms.items():
            keep = group_mask(tree, g)
            group_updates, new_states[g] = call_update(
                tx, _select(updates, keep), state.inner_states[g], _select(params, keep), extra_args
            )
            new_updates = _merge(new_updates, group_updates, keep)
        return new_updates, PartitionState(new_states)

    return record_components(GradientTransformation(init, update), transforms=transforms, labels=label_tree)


def path_text(path: Sequence[Any], separator: str = "/") -> str:
    """A pytree path as text: its keys, attribute names and indices joined by ``separator``."""
    parts = []
    for key in path:
        for attr in ("key", "name", "idx"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
        else:
            parts.append(str(key))
    return separator.join(parts)


def label_by_path(rules: Mapping[str, str], default: str | None = None) -> Callable[[Params], PyTree]:
    """Label parameters by their path in the pytree, for :func:`partition` and :func:`masked`.

    A leaf's path is its keys joined with ``/`` (``"classifier/kernel"``, ``"layers/0/bias"``).
    A rule ``pattern -> label`` matches the path itself, any path under it (``"classifier"``
    matches ``"classifier/kernel"``) or a glob (``"*/bias"``). The first matching rule wins.

    Args:
      rules: ordered mapping pattern -> label.
      default: label for unmatched leaves; if ``None`` an unmatched leaf raises ``ValueError``.

    Example::

        labels = js.label_by_path({"classifier": "head"}, default="base")
        labels({"backbone": {"w": w}, "classifier": {"w": w2}})
        # {"backbone": {"w": "base"}, "classifier": {"w": "head"}}
    """
    if not isinstance(rules, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in rules.items()):
        raise TypeError(f"label_by_path's rules must be a dict of path pattern -> label (strings), got {rules!r}")
    rules = dict(rules)

    def label_of(path, _leaf):
        text = path_text(path)
        for pattern, label in rules.items():
            if text == pattern or text.startswith(pattern.rstrip("/") + "/") or fnmatch.fnmatchcase(text, pattern):
                return label
        if default is None:
            raise ValueError(f"parameter {text!r} matches no rule in {list(rules)} and no default label was given")
        return default

    return lambda params: jax.tree_util.tree_map_with_path(label_of, params)
