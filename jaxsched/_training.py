"""Training-loop idioms of PyTorch: the list of parameter-group dicts, frozen groups, no-decay groups and
gradient accumulation, as pure transformations whose switches live in the state.

    SGD([{"params": a}, {"params": b, "lr": 1e-3}])    ->  param_groups(js.sgd, {"a": {}, "b": {"learning_rate": 1e-3}})
    for p in b: p.requires_grad_(False)                 ->  state = set_frozen(state, b=True)
    transformers' no_decay parameter groups             ->  label_decay(("bias", "norm"))
    (loss / k).backward() per micro-batch, step every k ->  accumulate(tx, every_k=k)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer

from jaxsched.core._base import (
    GradientTransformation,
    OptState,
    Params,
    PyTree,
    call_update,
    record_components,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._combinators import Labels, PartitionState, _resolve, partition, path_text
from jaxsched.core._hyperparams import HyperparamsState, replaced
from jaxsched.core._validation import check_bool, check_int, check_transformation, is_schedule

# --- parameter groups -------------------------------------------------------------------------------


class ParamGroupsState(NamedTuple):
    """State of :func:`param_groups`.

    Attributes:
      frozen: label -> boolean scalar array; a frozen group gets zero updates and keeps its optimizer
        state (torch's ``requires_grad_(False)``). Data, not structure: switching never recompiles.
      inner_state: the :class:`~jaxsched.PartitionState` of the per-group optimizers.
    """

    frozen: dict[str, jax.Array]
    inner_state: PartitionState


def _group_arguments(optimizer: Callable[..., Any], groups: Any, defaults: dict[str, Any]) -> dict[str, dict]:
    """Each group's constructor arguments, ``defaults`` overridden by the group's own, checked by name."""
    if not isinstance(groups, Mapping) or not groups:
        raise TypeError(f"groups must be a non-empty dict label -> dict of constructor arguments, got {groups!r}")
    parameters = inspect.signature(optimizer).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    arguments = {}
    for label, overrides in groups.items():
        if not isinstance(label, str) or not isinstance(overrides, Mapping):
            raise TypeError(
                f"groups must map label strings to dicts of constructor arguments; got {label!r}: {overrides!r}"
            )
        merged = {**defaults, **overrides}
        unknown = sorted(set(merged) - set(parameters)) if not takes_any else []
        if unknown:
            where = f"group {label!r}" if set(unknown) & set(overrides) else "the defaults"
            raise TypeError(
                f"{where} names {unknown}, which {optimizer.__name__} does not take; it takes {list(parameters)}"
            )
        arguments[label] = merged
    return arguments


def _scheduled_learning_rate(
    label: str, arguments: dict[str, Any], optimizer: Callable[..., Any], schedule: Callable[[Any], Any]
) -> Any:
    parameter = inspect.signature(optimizer).parameters.get("learning_rate")
    if "learning_rate" not in arguments and (parameter is None or parameter.default is inspect.Parameter.empty):
        raise TypeError(f"schedule= needs a learning rate: {optimizer.__name__} has no default learning_rate")
    base = arguments.get("learning_rate", parameter.default if parameter is not None else None)
    if is_schedule(base):
        raise TypeError(
            f"group {label!r} has a schedule for learning_rate and schedule= is given too; give a base learning rate"
        )
    built = schedule(base)
    if not is_schedule(built):
        raise TypeError(
            f"schedule must map a base learning rate to a schedule step -> value; for {base!r} it gave {built!r}"
        )
    return built


def param_groups(
    optimizer: Callable[..., GradientTransformation],
    groups: Mapping[str, Mapping[str, Any]],
    labels: Labels,
    schedule: Callable[[Any], Callable[[Any], Any]] | None = None,
    **defaults: Any,
) -> GradientTransformation:
    """torch's list of parameter-group dicts in one call: one ``optimizer`` per group, any argument per group.

    Group ``g`` is optimized by ``optimizer(**{**defaults, **groups[g]})``, as a torch param-group dict
    overrides the optimizer's defaults. With ``schedule``, group ``g``'s learning rate is
    ``schedule(base_lr_g)`` of its own base learning rate, as a torch scheduler scales each group's
    ``initial_lr`` (layer-wise lr decay, a backbone at ``lr / 10``). Every group can be frozen and
    unfrozen during training with :func:`set_frozen` (torch's ``requires_grad_(False)``): its
    parameters get zero updates and its optimizer state (moments, step count) stays as it was, while a
    schedule keeps counting optimizer steps, as a torch scheduler does.

    PyTorch::

        opt = torch.optim.SGD([{"params": base}, {"params": head, "lr": 1e-3}], lr=1e-2, momentum=0.9)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)

    jaxsched::

        tx = js.param_groups(js.sgd, {"base": {}, "head": {"learning_rate": 1e-3}}, labels,
                             schedule=lambda lr: js.schedules.cosine_annealing(lr, t_max=100),
                             learning_rate=1e-2, momentum=0.9)

    Args:
      optimizer: an optimizer factory (``js.sgd``, ``js.adamw``, ...).
      groups: label -> the constructor arguments in which that group differs (``{}`` for none).
      labels: a pytree of labels matching the params, or a function ``params -> labels``
        (:func:`label_by_path`, :func:`label_decay`).
      schedule: ``None`` or a function ``base_learning_rate -> schedule``, applied to each group's own
        base learning rate.
      **defaults: constructor arguments shared by every group.

    Returns:
      A transformation with :class:`ParamGroupsState`: ``state.inner_state`` is a
      :func:`partition` state, so ``get_hyperparams(state)["head"]["learning_rate"]`` and
      ``set_hyperparams(state, head={"learning_rate": ...})`` work, and never recompile.

    Example::

        labels = js.label_by_path({"b": "head"}, default="base")
        tx = js.param_groups(js.sgd, {"base": {}, "head": {"learning_rate": 1e-3}}, labels,
                             learning_rate=1e-2, momentum=0.9)
        state = tx.init(params)
        float(js.get_hyperparams(state)["head"]["learning_rate"])   # 0.001
    """
    if not callable(optimizer):
        raise TypeError(f"optimizer must be an optimizer factory such as js.sgd, got {optimizer!r}")
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a function base_learning_rate -> schedule, got {schedule!r}")
    arguments = _group_arguments(optimizer, groups, defaults)
    if schedule is not None:
        for label, group in arguments.items():
            group["learning_rate"] = _scheduled_learning_rate(label, group, optimizer, schedule)
    return _freezable(partition({label: optimizer(**group) for label, group in arguments.items()}, labels), labels)


def _hold_optimizer_state(frozen: jax.Array, old: OptState, new: OptState) -> OptState:
    """``new``, except that while ``frozen`` each optimizer's own state (momenta, step counts) stays ``old``.

    Hyperparameter nodes keep advancing (their step and scheduled values), as torch's scheduler keeps
    stepping a frozen group's learning rate.
    """

    def hold(old_node, new_node):
        if isinstance(new_node, HyperparamsState):
            return new_node._replace(
                inner_state=_hold_optimizer_state(frozen, old_node.inner_state, new_node.inner_state)
            )
        return jnp.where(frozen, old_node, new_node)

    return jax.tree.map(hold, old, new, is_leaf=lambda x: isinstance(x, HyperparamsState))


def _freezable(grouped: GradientTransformation, labels: Labels) -> GradientTransformation:
    """``grouped`` (a :func:`partition` over ``labels``) with a frozen flag per group held in the state."""

    def init(params):
        inner_state = grouped.init(params)
        return ParamGroupsState({label: jnp.zeros([], bool) for label in inner_state.inner_states}, inner_state)

    def update(updates, state, params=None, **extra_args):
        new_updates, inner_state = call_update(grouped, updates, state.inner_state, params, extra_args)
        label_tree = _resolve(labels, updates if params is None else params, "labels")
        new_updates = jax.tree.map(  # labels may be a prefix of the updates' tree
            lambda label, sub: jax.tree.map(lambda u: jnp.where(state.frozen[label], jnp.zeros_like(u), u), sub),
            label_tree,
            new_updates,
        )
        held = {
            label: _hold_optimizer_state(state.frozen[label], state.inner_state.inner_states[label], new)
            for label, new in inner_state.inner_states.items()
        }
        return new_updates, ParamGroupsState(state.frozen, PartitionState(held))

    return record_components(GradientTransformation(init, update), partition=grouped)


def _frozen_flag(label: str, value: Any) -> jax.Array:
    if isinstance(value, Tracer):
        if jnp.shape(value) != ():
            raise TypeError(f"set_frozen({label}=...) takes a scalar, got a traced array of shape {jnp.shape(value)}")
        return jnp.asarray(value, bool)
    if not isinstance(value, (bool, np.bool_)) and not (isinstance(value, jax.Array) and value.dtype == bool):
        raise TypeError(f"set_frozen({label}=...) takes True or False, got {value!r}")
    return jnp.asarray(value, bool)


def set_frozen(state: OptState, **frozen: Any) -> OptState:
    """Freeze (``True``) or unfreeze (``False``) parameter groups of a :func:`param_groups` state.

    torch's ``for p in group: p.requires_grad_(False)``: a frozen group's parameters get zero updates
    (no weight decay either) and its optimizer state is left untouched, so unfreezing resumes where
    it stopped; its learning-rate schedule keeps counting optimizer steps. The flags are data in the
    state, so a jitted train step does not recompile when they change; values may be traced bools.

    Raises ``ValueError`` for a label no :func:`param_groups` in the state has, or one that several
    have; ``TypeError`` for a value that is not a bool.

    Example::

        tx = js.param_groups(js.adam, {"base": {}, "head": {}}, js.label_by_path({"b": "head"}, default="base"))
        state = js.set_frozen(tx.init(params), base=True)
        updates, state = tx.update(grads, state, params)
        float(jnp.abs(updates["w"]).max())   # 0.0
    """
    is_groups = lambda x: isinstance(x, ParamGroupsState)  # noqa: E731
    nodes = [x for x in jax.tree.leaves(state, is_leaf=is_groups) if is_groups(x)]
    for label in frozen:
        owners = [node for node in nodes if label in node.frozen]
        if len(owners) != 1:
            known = sorted({name for node in nodes for name in node.frozen})
            problem = "is not a parameter group" if not owners else "names a group of several param_groups"
            raise ValueError(f"{label!r} {problem} in this state; its param_groups labels are {known}")
    flags = {label: _frozen_flag(label, value) for label, value in frozen.items()}

    def switch(node):
        if not is_groups(node):
            return node
        return node._replace(
            frozen={
                label: replaced(flag, flags[label]) if label in flags else flag for label, flag in node.frozen.items()
            }
        )

    return jax.tree.map(switch, state, is_leaf=is_groups)


def label_decay(no_decay: Sequence[str] = ("bias", "norm", "Norm")) -> Callable[[Params], PyTree]:
    """Label each parameter ``"no_decay"`` if its path contains one of ``no_decay``, else ``"decay"``.

    The transformers recipe (``any(nd in name for nd in no_decay)``: no weight decay on biases and
    normalization parameters) for :func:`param_groups`, with ``weight_decay=0.0`` on the
    ``"no_decay"`` group. A path is the keys joined with ``/`` (``"encoder/LayerNorm_0/scale"``);
    matching is by substring and case-sensitive, so the default catches ``bias``, ``layer_norm``,
    ``norm1`` and ``LayerNorm``/``BatchNorm``/``RMSNorm``.

    PyTorch (transformers)::

        groups = [{"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)]},
                  {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
                   "weight_decay": 0.0}]
        torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.05)

    Example::

        tx = js.param_groups(js.adamw, {"decay": {}, "no_decay": {"weight_decay": 0.0}}, js.label_decay(("b",)),
                             learning_rate=1e-3, weight_decay=0.05)
        labels = js.label_decay(("b",))(params)   # {"b": "no_decay", "w": "decay"}
    """
    if isinstance(no_decay, str) or not all(isinstance(part, str) for part in no_decay):
        raise TypeError(
            f"no_decay must be a sequence of name fragments (strings), e.g. ('bias', 'norm'); got {no_decay!r}"
        )
    fragments = tuple(no_decay)

    def label_of(path, _leaf):
        text = path_text(path)
        return "no_decay" if any(fragment in text for fragment in fragments) else "decay"

    return lambda params: jax.tree_util.tree_map_with_path(label_of, params)


# --- gradient accumulation ---------------------------------------------------------------------------


class AccumulateState(NamedTuple):
    """State of :func:`accumulate`.

    Attributes:
      micro_step: micro-batches accumulated since the last optimizer step, ``0 .. every_k - 1``
        (int32); after an ``update`` it is 0 exactly when that update was an optimizer step.
      grad_sum: torch's ``.grad`` between steps: the sum of the micro-batch gradients (each divided by
        ``every_k`` when ``average``), one array per parameter, at least float32.
      inner_state: the state of the accumulated transformation; it changes only on optimizer steps.
    """

    micro_step: jax.Array
    grad_sum: PyTree
    inner_state: OptState


def accumulate(tx: GradientTransformation, every_k: int, average: bool = True) -> GradientTransformation:
    """One step of ``tx`` per ``every_k`` micro-batches: torch's gradient-accumulation loop.

    Each ``update(grads_i, ...)`` adds the micro-batch gradient to a running sum, as ``backward()``
    adds into ``.grad``; the ``every_k``-th call steps ``tx`` with the sum and clears it::

        grad_sum = grad_sum + g_i / every_k          (g_i without the division if not average)
        on micro-steps 1 .. every_k - 1:  updates = 0, tx's state unchanged
        on micro-step every_k:            updates, state = tx.update(grad_sum, ...); grad_sum = 0

    PyTorch: ``(loss / k).backward()`` for each micro-batch, ``optimizer.step(); optimizer.zero_grad()``
    every ``k`` (``average=True``); ``loss.backward()`` undivided is ``average=False``. Schedules and
    step counts inside ``tx`` count optimizer steps, not micro-batches, and ``get_hyperparams`` /
    ``set_hyperparams`` reach ``tx``'s hyperparameters through this state. The switch is a
    ``lax.cond`` on the micro-step, so one compiled step serves every micro-batch. optax:
    ``optax.MultiSteps``, which keeps a running mean instead of torch's sum (float64 trajectories
    then differ from torch's by about 1e-8).

    Args:
      tx: the transformation to step every ``every_k`` micro-batches.
      every_k: micro-batches per optimizer step, an integer >= 1.
      average: divide each micro-batch gradient by ``every_k`` (a mean over the micro-batches).

    Example::

        tx = js.accumulate(js.adam(1e-3), every_k=4)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)   # micro-batch 1 of 4: zero updates
        int(state.micro_step)   # 1
    """
    check_transformation("accumulate's tx", tx)
    every_k = check_int("every_k", every_k, low=1)
    check_bool("average", average)

    def init(params):
        return AccumulateState(zero_step(), tree_zeros_state(params), tx.init(params))

    def update(updates, state, params=None, **extra_args):
        grad_sum = jax.tree.map(
            lambda total, g: total + (g / every_k if average else g).astype(total.dtype), state.grad_sum, updates
        )
        last = state.micro_step == every_k - 1

        def step():
            summed = jax.tree.map(lambda total, g: total.astype(jnp.result_type(g)), grad_sum, updates)
            return call_update(tx, summed, state.inner_state, params, extra_args)

        def wait():
            zeros = jax.tree.map(lambda u: jnp.zeros(u.shape, u.dtype), jax.eval_shape(step)[0])
            return zeros, state.inner_state

        new_updates, inner_state = jax.lax.cond(last, step, wait)
        grad_sum = jax.tree.map(lambda total: jnp.where(last, jnp.zeros_like(total), total), grad_sum)
        micro_step = jnp.where(last, 0, state.micro_step + 1).astype(state.micro_step.dtype)
        return new_updates, AccumulateState(micro_step, grad_sum, inner_state)

    return GradientTransformation(init, update)
