"""A readable summary of an optimizer state, like torch's ``optimizer.state_dict()`` at a glance."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.core import Tracer

from jaxsched._training import AccumulateState, ParamGroupsState
from jaxsched.core._base import OptState
from jaxsched.core._combinators import PartitionState, path_text
from jaxsched.core._hyperparams import Fixed, HyperparamsState, Scheduled, unboxed

_INDENT = "  "


def _number(value: Any) -> str:
    if isinstance(value, Tracer):
        return f"<traced {jax.numpy.result_type(value)}>"
    return f"{np.asarray(value).item():.4g}"


def _hyperparameter(value: Any) -> str:
    if type(value) is tuple:
        return "(" + ", ".join(_hyperparameter(v) for v in value) + ")"
    if isinstance(value, Scheduled):
        return f"{_hyperparameter(value.value)} (scheduled)"
    if isinstance(value, Fixed):
        return f"{_hyperparameter(value.value)} (off)"
    return _number(unboxed(value))  # flax NNX wraps each array in a variable


def _leaf(value: Any) -> str:
    value = unboxed(value)
    if isinstance(value, Tracer):
        return f"{value.shape} {value.dtype} <traced>"
    array = np.asarray(value)
    if array.ndim == 0:
        return f"= {_number(array)}"
    return f"{array.shape} {array.dtype}  norm {np.linalg.norm(array.ravel()):.4g}"


def _buffers(tree: Any, indent: str) -> list[str]:
    """One line per array of ``tree``: its path, and its value (scalars) or shape, dtype and norm."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    if not leaves:
        return [f"{indent}(no buffers)"]
    names = [path_text(path) or "value" for path, _ in leaves]
    width = max(map(len, names))
    return [f"{indent}{name:<{width}}  {_leaf(leaf)}" for name, (_, leaf) in zip(names, leaves, strict=True)]


def _describe(node: Any, where: str, indent: str) -> list[str]:
    if isinstance(node, HyperparamsState):
        values = "  ".join(f"{name}={_hyperparameter(value)}" for name, value in node.hyperparams.items())
        return [
            f"{indent}{where}: {type(node.inner_state).__name__}, step {_number(unboxed(node.step))}",
            f"{indent}{_INDENT}{values}",
            *_buffers(node.inner_state, indent + _INDENT),
        ]
    if isinstance(node, ParamGroupsState):
        lines = [f"{indent}{where}: param_groups"]
        for label, inner in node.inner_state.inner_states.items():
            frozen = bool(np.asarray(unboxed(node.frozen[label])))
            lines += _describe(inner, f"group {label!r}" + (" (frozen)" if frozen else ""), indent + _INDENT)
        return lines
    if isinstance(node, PartitionState):
        lines = [f"{indent}{where}: partition"]
        for label, inner in node.inner_states.items():
            lines += _describe(inner, f"group {label!r}", indent + _INDENT)
        return lines
    if isinstance(node, AccumulateState):
        return [
            f"{indent}{where}: accumulate, micro-step {_number(unboxed(node.micro_step))}",
            *_buffers({"grad_sum": node.grad_sum}, indent + _INDENT),
            *_describe(node.inner_state, "inner", indent + _INDENT),
        ]
    if type(node) is tuple:  # js.chain
        lines = [f"{indent}{where}: chain of {len(node)}"]
        for i, inner in enumerate(node):
            lines += _describe(inner, f"[{i}]", indent + _INDENT)
        return lines
    return [f"{indent}{where}: {type(node).__name__}", *_buffers(node, indent + _INDENT)]


def describe(state: OptState) -> str:
    """A readable summary of an optimizer state: hyperparameters, then one line per buffer.

    Each optimizer shows its state type and step, its hyperparameters (``(scheduled)`` for a
    schedule's current value, ``(off)`` for a term compiled out at construction) and, for each buffer
    and parameter path, the value of a scalar or the shape, dtype and norm of an array. Groups of
    :func:`partition` and :func:`param_groups` (with their frozen flags), chains and
    :func:`accumulate` are shown nested. PyTorch: ``optimizer.state_dict()``, at a glance.

    Example::

        print(js.describe(state))
        # state: AdamState, step 0
        #   learning_rate=0.001  betas=(0.9, 0.999)  eps=1e-08  weight_decay=0 (off)
        #   step            = 0
        #   exp_avg/b       (2,) float32  norm 0
        #   ...
    """
    return "\n".join(_describe(state, "state", ""))
