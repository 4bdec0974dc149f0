"""Move a training run between PyTorch and jaxsched mid-flight: optimizer, scheduler and plateau state dicts.

:func:`from_torch_state_dict` turns ``torch.optim.<Optimizer>.state_dict()`` into the state of the
matching jaxsched optimizer, which then continues exactly where torch stopped; :func:`to_torch_state_dict`
is the inverse, a dict that the torch optimizer's ``load_state_dict`` accepts. The field names already
agree (``exp_avg``, ``momentum_buffer``, ...), so the translation is a table of which torch class each
state type is and which of torch's per-parameter values jaxsched keeps once per group (``step``,
ASGD's ``eta`` and ``mu``, NAdam's ``mu_product``). Anything that does not match is refused with both
values named; nothing is guessed. torch is never imported here unless it is already loaded.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched._plateau import Plateau, PlateauState
from jaxsched._training import ParamGroupsState
from jaxsched.core._base import STEP_DTYPE, EmptyState, GradientTransformation, components_of, hyperparam_dtype
from jaxsched.core._combinators import PartitionState, path_text
from jaxsched.core._hyperparams import Fixed, HyperparamsState, Scheduled, scheduled_value
from jaxsched.optimizers._adadelta import AdadeltaState
from jaxsched.optimizers._adafactor import AdafactorState
from jaxsched.optimizers._adagrad import AdagradState
from jaxsched.optimizers._adam import AdamState
from jaxsched.optimizers._adamax import AdamaxState
from jaxsched.optimizers._asgd import AsgdState
from jaxsched.optimizers._lbfgs import LbfgsState
from jaxsched.optimizers._muon import MuonState
from jaxsched.optimizers._nadam import NAdamState
from jaxsched.optimizers._radam import RAdamState
from jaxsched.optimizers._rmsprop import RmspropState
from jaxsched.optimizers._rprop import RpropState
from jaxsched.optimizers._sparse_adam import SparseAdamState
from jaxsched.transforms._momentum import TraceState


class TorchStateDictError(ValueError):
    """A torch state dict that does not match the jaxsched optimizer or parameters it is applied to."""


class _TorchClass(NamedTuple):
    name: str  # the torch.optim class
    flags: tuple[str, ...]  # non-float group keys that change the math: must equal the optimizer's
    bookkeeping: tuple[str, ...]  # group keys that do not change the math (written with torch's defaults)
    step_in_state: bool = True  # torch keeps a per-parameter "step"


_BOOKKEEPING_DEFAULTS = {"foreach": None, "differentiable": False, "capturable": False, "fused": None}
_SGD = _TorchClass("SGD", ("nesterov", "maximize"), ("foreach", "differentiable", "fused"), step_in_state=False)
_TORCH_CLASSES: dict[type, _TorchClass] = {
    TraceState: _SGD,
    AsgdState: _TorchClass("ASGD", ("maximize",), ("foreach", "differentiable", "capturable")),
    RpropState: _TorchClass("Rprop", ("maximize",), ("foreach", "differentiable", "capturable")),
    AdagradState: _TorchClass("Adagrad", ("maximize",), ("foreach", "differentiable", "fused")),
    AdadeltaState: _TorchClass("Adadelta", ("maximize",), ("capturable", "foreach", "differentiable")),
    RmspropState: _TorchClass("RMSprop", ("centered", "maximize"), ("capturable", "foreach", "differentiable")),
    AdamState: _TorchClass(
        "Adam", ("amsgrad", "maximize", "decoupled_weight_decay"), ("foreach", "capturable", "differentiable", "fused")
    ),
    AdamaxState: _TorchClass("Adamax", ("maximize",), ("foreach", "differentiable", "capturable")),
    NAdamState: _TorchClass(
        "NAdam", ("decoupled_weight_decay", "maximize"), ("foreach", "capturable", "differentiable")
    ),
    RAdamState: _TorchClass(
        "RAdam", ("maximize", "decoupled_weight_decay"), ("foreach", "capturable", "differentiable")
    ),
    SparseAdamState: _TorchClass("SparseAdam", ("maximize",), ()),
    AdafactorState: _TorchClass("Adafactor", ("maximize",), ("foreach",)),
    LbfgsState: _TorchClass(
        "LBFGS", ("max_iter", "max_eval", "history_size", "line_search_fn"), (), step_in_state=False
    ),
    MuonState: _TorchClass("Muon", ("nesterov", "ns_steps", "adjust_lr_fn"), (), step_in_state=False),
}
# Per-parameter scalars in torch that jaxsched keeps once per group (all parameters of a group share them).
_GROUP_SCALARS = ("step", "eta", "mu", "mu_product")
# Group keys that torch's schedulers add; they do not change the optimizer's math.
_SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum", "swa_lr")
# L-BFGS: torch's state key for each LbfgsState field; the ring buffers are torch's lists.
_LBFGS_KEYS = {
    "direction": "d",
    "step_length": "t",
    "h_diag": "H_diag",
    "prev_flat_grad": "prev_flat_grad",
    "prev_loss": "prev_loss",
    "n_iter": "n_iter",
    "func_evals": "func_evals",
}


def _torch_key(name: str) -> str:
    return "lr" if name == "learning_rate" else name


def _leaf_name(path: Sequence[Any]) -> str:
    """torch's ``named_parameters`` spelling of a pytree path: keys, attributes and indices joined by dots."""
    return path_text(path, ".")


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor: torch is loaded already
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            return value.float().numpy().astype(jnp.bfloat16)
        return value.resolve_conj().numpy()
    return np.asarray(value)


def _torch_module():
    """torch if it is already imported (the caller has torch tensors), else ``None``: never imported here."""
    return sys.modules.get("torch")


# --- the optimizers inside tx, with the parameters each one owns --------------------------------------


class _Group(NamedTuple):
    label: str | None  # partition label; None for a single optimizer
    tx: GradientTransformation
    state: HyperparamsState
    slots: tuple[str | None, ...]  # per leaf of params: its name if this group owns it, else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name in self.slots if name is not None)


def _groups(tx: GradientTransformation, state: Any, params: Any, where: str = "tx") -> list[_Group]:
    """The optimizers of ``tx`` (one, or one per partition group), each with its state and parameters."""
    components = components_of(tx)
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    if isinstance(state, ParamGroupsState):
        return _groups(components["partition"], state.inner_state, params, where)
    if isinstance(state, PartitionState):
        label_tree = components["labels"](params)
        labels = jax.tree.leaves(
            jax.tree.map(lambda label, sub: jax.tree.map(lambda _: label, sub), label_tree, params)
        )
        groups = []
        for label, sub_tx in components["transforms"].items():
            slots = tuple(
                _leaf_name(path) if leaf_label == label else None for (path, _), leaf_label in zip(leaves, labels)
            )
            sub = _groups(sub_tx, state.inner_states[label], None, f"{where}[{label!r}]")
            groups.append(sub[0]._replace(label=label, slots=slots))
        return groups
    if not isinstance(state, HyperparamsState) or _torch_class(state) is None:
        raise TypeError(
            f"{where} is not a torch.optim optimizer of jaxsched (js.adam, js.sgd, ...) nor a js.partition or "
            f"js.param_groups of them; its state is {_state_name(state)}"
        )
    return [_Group(None, tx, state, tuple(_leaf_name(path) for path, _ in leaves))]


def _state_name(state: Any) -> str:
    if isinstance(state, HyperparamsState):
        return f"HyperparamsState(inner_state={type(state.inner_state).__name__})"
    return type(state).__name__


def _torch_class(state: HyperparamsState) -> _TorchClass | None:
    inner = state.inner_state
    if isinstance(inner, EmptyState) and "dampening" in state.hyperparams:
        return _SGD  # js.sgd without momentum keeps no state
    return _TORCH_CLASSES.get(type(inner))


# --- from torch --------------------------------------------------------------------------------------


def from_torch_state_dict(
    tx: GradientTransformation,
    params: Any,
    optimizer_state_dict: Mapping[str, Any],
    param_order: Sequence[str] | None = None,
    group_labels: Sequence[str] | None = None,
    *,
    step: int | None = None,
    scheduler_state_dict: Mapping[str, Any] | None = None,
) -> Any:
    """The state of ``tx`` that continues exactly where a torch optimizer stopped.

    ``optimizer_state_dict`` is ``torch.optim.<Optimizer>.state_dict()`` (tensors or numpy arrays) of
    the torch optimizer that ``tx`` equals: ``js.adam`` for ``torch.optim.Adam``, ``js.adamw`` for
    ``AdamW``, ... (every ``torch.optim`` optimizer jaxsched has, Muon, Adafactor, SparseAdam and
    L-BFGS included). The result holds torch's per-parameter state (``exp_avg``, ``momentum_buffer``,
    ...), its step count, and each group's hyperparameters (``lr``, ``betas``, ``weight_decay``, ...):
    the values in the state dict replace the ones ``tx`` was built with. A hyperparameter that ``tx``
    schedules is not replaced but checked: the schedule at the resumed step must give torch's value,
    and at step 0 the group's ``initial_lr`` (what a torch scheduler started from).

    Parameters are matched by name: torch records ``param_names`` when the optimizer was built from
    ``model.named_parameters()``; otherwise ``param_order`` lists the parameters' names in torch's order
    (the order of ``model.parameters()``). A parameter's name is its pytree path with keys, attributes
    and indices joined by dots (``{"layer": {"weight": w}}`` -> ``"layer.weight"``), as torch names
    the parameters of nested modules. Torch's param groups are the groups of a :func:`jaxsched.partition`
    (or :func:`jaxsched.param_groups`): ``group_labels`` names the label of each torch group in order;
    by default the partition's labels in the order of its dict.

    A torch scheduler's position is the optimizer's step: with ``scheduler_state_dict`` (torch's
    ``scheduler.state_dict()``), its ``last_epoch`` gives the step (times ``steps_per_epoch`` when
    ``tx``'s learning rate is a :func:`jaxsched.schedules.per_epoch` schedule, stepped once per
    epoch like torch's) and is checked against the optimizer's own step count; its ``base_lrs`` are
    checked against the schedule at step 0, group by group.

    Everything that does not match is refused with a :class:`TorchStateDictError` naming the group or
    parameter and both values: the optimizer kind, the number of groups, a group's parameters, a
    shape, a dtype, a flag (``amsgrad``, ``nesterov``, ``maximize``, ...), a hyperparameter that ``tx``
    compiled out (``weight_decay=0``) or schedules differently.

    Args:
      tx: the jaxsched optimizer, a :func:`~jaxsched.partition` or :func:`~jaxsched.param_groups` of them.
      params: the parameters (their values are not read, only names, shapes and dtypes).
      optimizer_state_dict: torch's ``optimizer.state_dict()``.
      param_order: names of the parameters in torch's order, when the state dict has no ``param_names``.
      group_labels: the partition label of each torch param group, in order.
      step: the number of optimizer steps taken, for optimizers whose torch state records none (SGD,
        L-BFGS, Muon) when a hyperparameter is scheduled; torch's per-parameter ``step`` otherwise.
      scheduler_state_dict: torch's ``scheduler.state_dict()`` of the run's learning-rate scheduler
        (``LRScheduler`` subclasses: ``StepLR``, ``OneCycleLR``, ``LambdaLR``, ...).

    PyTorch: ``optimizer.load_state_dict(state_dict)``.

    Example::

        state_dict = {  # torch.optim.Adam([("w", w)], lr=0.1).state_dict() after 3 steps
            "state": {0: {"step": 3.0, "exp_avg": np.full(3, 0.1, np.float32),
                          "exp_avg_sq": np.full(3, 0.01, np.float32)}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                              "amsgrad": False, "maximize": False, "decoupled_weight_decay": False,
                              "params": [0], "param_names": ["w"]}],
        }
        state = js.from_torch_state_dict(js.adam(), {"w": jnp.ones(3)}, state_dict)
        int(state.step), float(js.get_hyperparams(state)["learning_rate"])   # (3, 0.1)
    """
    if not isinstance(optimizer_state_dict, Mapping) or not {"state", "param_groups"} <= set(optimizer_state_dict):
        raise TorchStateDictError(
            "optimizer_state_dict must be torch's optimizer.state_dict(): a dict with 'state' and 'param_groups'"
        )
    if step is not None and (isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0):
        raise TypeError(f"step must be an int >= 0, got {step!r}")
    template = tx.init(params)
    groups = _groups(tx, template, params)
    torch_groups = list(optimizer_state_dict["param_groups"])
    labels = _check_group_labels(groups, group_labels, len(torch_groups))
    if len(torch_groups) != len(groups):
        raise TorchStateDictError(
            f"the torch state dict has {len(torch_groups)} param groups but tx has {len(groups)}"
            + ("" if len(groups) == 1 else f" (partition labels {[g.label for g in groups]})")
        )
    ids_to_names = _torch_param_names(torch_groups, param_order)
    leaves = {_leaf_name(path): leaf for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]}
    torch_state = optimizer_state_dict["state"]
    position = None if scheduler_state_dict is None else _scheduler_position(scheduler_state_dict, groups, step)
    new_states = {}
    for index, (torch_group, label) in enumerate(zip(torch_groups, labels)):
        group = next(g for g in groups if g.label == label)
        where = f"torch param group {index}" + ("" if label is None else f" (label {label!r})")
        names = [ids_to_names[param_id] for param_id in torch_group["params"]]
        _check_membership(names, group.names, leaves, where)
        per_param = {name: torch_state.get(param_id) for param_id, name in zip(torch_group["params"], names)}
        if position is not None:
            torch_group = _with_base_lr(torch_group, position.base_lrs[index], where)
        new_states[label] = _group_from_torch(group, torch_group, per_param, step, where, position)
    return _rebuild(template, new_states)


class _SchedulerPosition(NamedTuple):
    last_epoch: int  # torch's scheduler.step() calls
    steps_per_epoch: int  # optimizer steps per scheduler step
    base_lrs: list[float]


def _steps_per_epoch(groups: list[_Group]) -> int:
    """Optimizer steps per torch scheduler step: ``steps_per_epoch`` of a per-epoch learning-rate schedule."""
    counts = set()
    for group in groups:
        spec = components_of(group.tx)["hyperparams"].get("learning_rate")
        counts.add(getattr(spec, "steps_per_epoch", 1))
    if len(counts) > 1:
        raise TorchStateDictError(
            f"the groups' learning rates are stepped per epoch of different lengths ({sorted(counts)} optimizer "
            "steps): one torch scheduler steps all groups together"
        )
    return counts.pop()


def _scheduler_position(scheduler_state_dict: Mapping[str, Any], groups: list[_Group], step: int | None):
    if not isinstance(scheduler_state_dict, Mapping) or not {"last_epoch", "base_lrs"} <= set(scheduler_state_dict):
        raise TorchStateDictError(
            "scheduler_state_dict must be a torch LRScheduler's scheduler.state_dict(): a dict with "
            f"'last_epoch' and 'base_lrs', got {type(scheduler_state_dict).__name__}"
        )
    last_epoch = scheduler_state_dict["last_epoch"]
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, (int, np.integer)) or last_epoch < 0:
        raise TorchStateDictError(f"the scheduler's last_epoch must be an int >= 0, got {last_epoch!r}")
    base_lrs = list(scheduler_state_dict["base_lrs"])
    if len(base_lrs) != len(groups):
        raise TorchStateDictError(f"the scheduler has {len(base_lrs)} base_lrs but tx has {len(groups)} groups")
    position = _SchedulerPosition(int(last_epoch), _steps_per_epoch(groups), [float(lr) for lr in base_lrs])
    if step is not None:
        _check_step_at(position, int(step), "step=")
    return position


def _check_step_at(position: _SchedulerPosition, step: int, what: str) -> None:
    """``step`` optimizer steps must put the scheduler at its ``last_epoch``."""
    if step // position.steps_per_epoch != position.last_epoch:
        per_epoch = f" // {position.steps_per_epoch} steps per epoch" if position.steps_per_epoch > 1 else ""
        raise TorchStateDictError(
            f"{what} {step}{per_epoch} is scheduler step {step // position.steps_per_epoch}, but the torch "
            f"scheduler's last_epoch is {position.last_epoch}"
        )


def _with_base_lr(torch_group: Mapping[str, Any], base_lr: float, where: str) -> dict[str, Any]:
    """``torch_group`` with the scheduler's base lr as its ``initial_lr`` (they are the same value in torch)."""
    if "initial_lr" in torch_group and not math.isclose(float(torch_group["initial_lr"]), base_lr, rel_tol=1e-12):
        raise TorchStateDictError(
            f"{where} has initial_lr={torch_group['initial_lr']} but the scheduler's base_lrs give {base_lr}"
        )
    return {**torch_group, "initial_lr": base_lr}


def _check_group_labels(groups: list[_Group], group_labels: Sequence[str] | None, n_torch: int) -> list[str | None]:
    ours = [g.label for g in groups]
    if group_labels is None:
        return ours if ours != [None] else [None] * n_torch
    group_labels = list(group_labels)
    if ours == [None]:
        raise TypeError("group_labels applies to a js.partition or js.param_groups; tx is a single optimizer")
    unknown = [label for label in group_labels if label not in ours]
    if unknown or len(set(group_labels)) != len(group_labels) or len(group_labels) != n_torch:
        raise ValueError(
            f"group_labels must give each of the {n_torch} torch param groups a distinct partition label "
            f"(labels: {ours}), got {group_labels}"
        )
    labels: list[str | None] = list(group_labels)
    return labels


def _torch_param_names(torch_groups: list[Mapping[str, Any]], param_order: Sequence[str] | None) -> dict[int, str]:
    if param_order is not None:
        if isinstance(param_order, str) or not all(isinstance(name, str) for name in param_order):
            raise TypeError(f"param_order must be a list of parameter names (strings), got {param_order!r}")
        param_order = list(param_order)
        ids = [param_id for group in torch_groups for param_id in group["params"]]
        if sorted(ids) != list(range(len(param_order))):
            raise TorchStateDictError(
                f"param_order names {len(param_order)} parameters but the torch state dict has {len(ids)}"
            )
        return dict(enumerate(param_order))
    if not all("param_names" in group for group in torch_groups):
        raise TorchStateDictError(
            "the torch state dict has no 'param_names' (the optimizer was not built from named_parameters()): "
            "pass param_order=, the names of the parameters in torch's order"
        )
    return {i: name for group in torch_groups for i, name in zip(group["params"], group["param_names"])}


def _check_membership(torch_names: list[str], ours: tuple[str, ...], leaves: Mapping[str, Any], where: str) -> None:
    for name in torch_names:
        if name not in leaves:
            raise TorchStateDictError(f"{where} has parameter {name!r}, which params has not (it has {list(leaves)})")
    for name in torch_names:
        if name not in ours:
            raise TorchStateDictError(f"parameter {name!r} is in {where} but tx puts it in another group")
    for name in ours:
        if name not in torch_names:
            raise TorchStateDictError(f"parameter {name!r} belongs to {where} in tx, but torch's group lacks it")


def _group_from_torch(group, torch_group, per_param, step, where, position=None) -> HyperparamsState:
    node = group.state
    torch_class = _torch_class(node)
    assert torch_class is not None
    components = components_of(group.tx)
    _check_group_keys(torch_class, node, torch_group, where)
    flags = components.get("flags", {})
    for flag in torch_class.flags:
        if torch_group[flag] != flags.get(flag, False):
            raise TorchStateDictError(
                f"{flag} differs: {where} has {flag}={torch_group[flag]!r}, tx has {flag}={flags.get(flag, False)!r}"
            )
    present = {name: state for name, state in per_param.items() if state}
    scheduled = any(isinstance(v, Scheduled) for v in jax.tree.leaves(node.hyperparams, is_leaf=_is_value))
    if present and len(present) != len(per_param) and torch_class.name != "LBFGS":  # LBFGS: on its first parameter
        missing = next(name for name in per_param if name not in present)
        raise TorchStateDictError(
            f"parameter {missing!r} of {where} has no optimizer state in torch (it never received a gradient) "
            f"while others have: jaxsched keeps one step count per group"
        )
    group_step = _shared_scalar(present, "step", where) if torch_class.step_in_state else None
    if torch_class.name == "LBFGS":
        inner = _lbfgs_from_torch(node.inner_state, present, group.names, where)
    else:
        inner = _inner_from_torch(node.inner_state, present, group.slots, where)
    if group_step is None and step is None and position is not None:
        step = position.last_epoch * position.steps_per_epoch  # torch records no step: the scheduler's
    if group_step is None:
        if step is None and present and scheduled:
            raise TorchStateDictError(
                f"torch.optim.{torch_class.name} records no step count and tx schedules a hyperparameter of "
                f"{where}: pass step=, the number of optimizer steps torch took"
            )
        group_step = 0 if step is None else int(step)
    elif step is not None and int(step) != group_step:
        raise TorchStateDictError(f"step={step} was given but torch's state in {where} records step {group_step}")
    elif position is not None:
        _check_step_at(position, group_step, f"torch's state in {where} records step")
    inner = _set_inner_step(inner, group_step, bool(present))
    hyperparams = _hyperparams_from_torch(components["hyperparams"], node.hyperparams, torch_group, group_step, where)
    return HyperparamsState(jnp.asarray(group_step, STEP_DTYPE), hyperparams, inner)


def _is_value(x: Any) -> bool:
    return isinstance(x, (Scheduled, Fixed))


def _check_group_keys(torch_class: _TorchClass, node: HyperparamsState, torch_group: Mapping[str, Any], where) -> None:
    expected = {_torch_key(name) for name in node.hyperparams} | set(torch_class.flags)
    missing = sorted(expected - set(torch_group))
    allowed = expected | set(torch_class.bookkeeping) | {"params", "param_names", *_SCHEDULER_KEYS}
    unexpected = sorted(set(torch_group) - allowed)
    if missing or unexpected:
        raise TorchStateDictError(
            f"{where} is not a torch.optim.{torch_class.name} group, which tx is: "
            + (f"it lacks {missing}" if missing else f"it has {unexpected}, which {torch_class.name} has not")
        )


def _shared_scalar(present: Mapping[str, Mapping[str, Any]], key: str, where: str) -> Any:
    """A per-parameter scalar of torch's that jaxsched keeps once per group: equal over the group's parameters."""
    if not present:
        return None
    values = {name: float(_to_numpy(state[key])) for name, state in present.items()}
    first_name, first = next(iter(values.items()))
    for name, value in values.items():
        if value != first and not (math.isnan(value) and math.isnan(first)):
            raise TorchStateDictError(
                f"{key} differs within {where}: {first_name!r} has {first}, {name!r} has {value}; "
                "jaxsched keeps one per group"
            )
    return int(first) if key == "step" else first


def _as_state_array(value: Any, like: jax.Array, name: str, key: str, where: str) -> jax.Array:
    array = _to_numpy(value)
    if array.shape != like.shape:
        raise TorchStateDictError(
            f"{key} of parameter {name!r} ({where}) has shape {array.shape}, expected {like.shape}"
        )
    if array.dtype != like.dtype:
        raise TorchStateDictError(
            f"{key} of parameter {name!r} ({where}) has dtype {array.dtype}, the parameter's state is {like.dtype}"
        )
    return jnp.asarray(array)


def _inner_from_torch(inner: Any, present, slots, where) -> Any:
    if isinstance(inner, EmptyState):
        return inner
    fields = {}
    for field, value in inner._asdict().items():
        if field == "step" or value is None:  # the step is set afterwards; None: a buffer off (amsgrad=False)
            fields[field] = value
        elif field in _GROUP_SCALARS:
            shared = _shared_scalar(present, field, where)
            fields[field] = value if shared is None else jnp.asarray(shared, value.dtype)
        else:
            fields[field] = _buffers_from_torch(field, value, present, slots, where)
    return type(inner)(**fields)


def _is_none(x: Any) -> bool:
    return x is None


def _buffers_from_torch(field: str, like_tree: Any, present, slots, where) -> Any:
    """One state field over the parameters (``None`` where jaxsched keeps nothing for a leaf)."""
    likes, structure = jax.tree.flatten(like_tree, is_leaf=_is_none)
    values = []
    for like, name in zip(likes, slots, strict=True):
        state = None if like is None or name is None else present.get(name)
        if state is None or like is None or name is None:
            values.append(like)
        elif field not in state:
            raise TorchStateDictError(f"parameter {name!r} ({where}) has no {field!r} in torch's state")
        else:
            values.append(_as_state_array(state[field], like, name, field, where))
    return jax.tree.unflatten(structure, values)


def _set_inner_step(inner: Any, step: int, started: bool) -> Any:
    if not hasattr(inner, "_fields") or "step" not in inner._fields:
        return inner
    if isinstance(inner, TraceState):
        # torch's SGD has started its momentum buffers iff it has state; the count only tells that
        step = max(step, 1) if started else 0
    return inner._replace(step=jnp.asarray(step, inner.step.dtype))


def _hyperparams_from_torch(specs, current, torch_group, step, where) -> dict[str, Any]:
    def convert(name, spec, value, theirs):
        if type(spec) is tuple:
            if not isinstance(theirs, (tuple, list)) or len(theirs) != len(spec):
                raise TorchStateDictError(f"{where} has {_torch_key(name)}={theirs!r}, tx has a {len(spec)}-tuple")
            return tuple(convert(f"{name}[{i}]", s, v, t) for i, (s, v, t) in enumerate(zip(spec, value, theirs)))
        if spec is None or value is None:
            if theirs is not None:
                raise TorchStateDictError(f"{where} has {name}={theirs!r}, tx has None")
            return None
        theirs = float(_to_numpy(theirs))
        if isinstance(value, Scheduled):
            ours = scheduled_value(name, spec, jnp.asarray(step, STEP_DTYPE))
            _check_close(f"{name} (scheduled by tx) at step {step}", float(ours.value), theirs, where)
            # torch's value, which the schedule gives up to rounding: a round trip is then exact
            ours = Scheduled(jnp.asarray(theirs, hyperparam_dtype()))
            if _torch_key(name) == "lr" and "initial_lr" in torch_group:
                initial = float(scheduled_value(name, spec, jnp.zeros([], STEP_DTYPE)).value)
                _check_close(f"{name} (scheduled by tx) at step 0", initial, float(torch_group["initial_lr"]), where)
            return ours
        if isinstance(value, Fixed):
            if theirs != float(value.value):
                raise TorchStateDictError(
                    f"{where} has {_torch_key(name)}={theirs}, but tx was built with {name}={float(value.value)}, "
                    f"which compiles its term out: build tx with {name}={theirs}"
                )
            return value
        return jnp.asarray(theirs, hyperparam_dtype())

    return {name: convert(name, specs[name], value, torch_group[_torch_key(name)]) for name, value in current.items()}


def _check_close(what: str, ours: float, theirs: float, where: str) -> None:
    tolerance = 1e-12 if hyperparam_dtype() == jnp.float64 else 1e-6
    if not math.isclose(ours, theirs, rel_tol=tolerance, abs_tol=0.0):
        raise TorchStateDictError(f"{where}: {what} is {ours!r} in tx but {theirs!r} in torch's state dict")


def _lbfgs_from_torch(inner: LbfgsState, present, names, where) -> LbfgsState:
    if not present:
        return inner
    state = present[names[0]]  # torch keeps L-BFGS's state on its first parameter
    fields = {}
    for field, key in _LBFGS_KEYS.items():
        like = getattr(inner, field)
        if like.ndim == 0:
            fields[field] = jnp.asarray(_to_numpy(state[key]), like.dtype)
        else:
            fields[field] = _as_state_array(state[key], like, names[0], key, where)
    history_size = inner.ro.shape[0]
    count = len(state["old_dirs"])
    for key in ("old_dirs", "old_stps", "ro"):
        ring = np.zeros(getattr(inner, key).shape, getattr(inner, key).dtype)
        for row, value in enumerate(state[key]):
            ring[row] = _to_numpy(value)
        fields[key] = jnp.asarray(ring)
    fields["history_count"] = jnp.asarray(count, STEP_DTYPE)
    fields["history_next"] = jnp.asarray(count % history_size, STEP_DTYPE)
    fields["loss"] = jnp.asarray(_to_numpy(state.get("loss", state["prev_loss"])), inner.loss.dtype)
    return LbfgsState(**fields)


def _rebuild(template: Any, new_states: Mapping[str | None, HyperparamsState]) -> Any:
    if isinstance(template, ParamGroupsState):
        return template._replace(inner_state=_rebuild(template.inner_state, new_states))
    if isinstance(template, PartitionState):
        return PartitionState({label: new_states[label] for label in template.inner_states})
    return new_states[None]


# --- to torch ----------------------------------------------------------------------------------------


def to_torch_state_dict(tx: GradientTransformation, state: Any, params: Any) -> dict[str, Any]:
    """The ``state_dict`` that the matching torch optimizer's ``load_state_dict`` accepts.

    The inverse of :func:`from_torch_state_dict`: per-parameter state under torch's keys, each group's
    current hyperparameters (a scheduled one at its current value, plus ``initial_lr``, its value at
    step 0, for a torch scheduler to resume from) and flags, ``param_names`` (pytree paths joined by
    dots), and torch's defaults for the keys that do not change the math (``foreach``, ...). Groups
    follow the partition's labels in the order of its dict; parameters the pytree order within a group.
    Values are torch tensors when torch is already imported, numpy arrays otherwise.

    Args:
      tx: the jaxsched optimizer (or partition of them) that ``state`` belongs to.
      state: its state.
      params: the parameters (names, shapes).

    PyTorch: ``optimizer.state_dict()``.

    Example::

        tx = js.adam(0.1)
        state = tx.init({"w": jnp.ones(3)})
        sd = js.to_torch_state_dict(tx, state, {"w": jnp.ones(3)})
        sd["param_groups"][0]["lr"]   # 0.1
        sd["param_groups"][0]["param_names"] == ["w"]   # True
    """
    groups = _groups(tx, state, params)
    ids: dict[str, int] = {}
    torch_state: dict[int, dict[str, Any]] = {}
    param_groups = []
    for group in groups:
        group_ids = [ids.setdefault(name, len(ids)) for name in group.names]
        node = group.state
        torch_class = _torch_class(node)
        assert torch_class is not None
        components = components_of(group.tx)
        torch_group = _hyperparams_to_torch(node.hyperparams, components["hyperparams"])
        flags = components.get("flags", {})
        torch_group.update({flag: flags.get(flag, False) for flag in torch_class.flags})
        torch_group.update({key: _BOOKKEEPING_DEFAULTS[key] for key in torch_class.bookkeeping})
        torch_group["params"] = group_ids
        torch_group["param_names"] = list(group.names)
        param_groups.append(torch_group)
        step = int(node.step)
        if torch_class.name == "LBFGS":
            if int(node.inner_state.func_evals) > 0:  # torch has L-BFGS state once it evaluated the loss
                torch_state[group_ids[0]] = _lbfgs_to_torch(node.inner_state)
            continue
        per_param = _inner_to_torch(node.inner_state, group.slots, step, torch_class)
        for name, param_id in zip(group.names, group_ids):
            if per_param.get(name):
                torch_state[param_id] = per_param[name]
    return {"state": torch_state, "param_groups": param_groups}


def to_torch_scheduler_state_dict(tx: GradientTransformation, state: Any, params: Any) -> dict[str, Any]:
    """The position of a torch learning-rate scheduler that continues this run: the run-dependent
    entries of ``scheduler.state_dict()``.

    A jaxsched schedule is a function of the step, so the scheduler's position is the optimizer's
    step: ``last_epoch`` (divided by ``steps_per_epoch`` when the learning rate is a
    :func:`jaxsched.schedules.per_epoch` schedule), ``_step_count``, ``base_lrs`` (each group's
    schedule at step 0) and ``_last_lr`` (each group's current learning rate). Build torch's scheduler
    as for a fresh run, then load its own state dict updated with these entries (``LambdaLR`` and a
    few others need the keys they hold themselves)::

        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
        scheduler.load_state_dict({**scheduler.state_dict(), **js.to_torch_scheduler_state_dict(tx, state, params)})

    ``SequentialLR`` and ``ChainedScheduler`` keep positions in their child schedulers as well;
    load those children the same way.

    Args:
      tx: the jaxsched optimizer (or partition of them) that ``state`` belongs to.
      state: its state.
      params: the parameters (names, shapes).

    PyTorch: ``scheduler.state_dict()``.

    Example::

        tx = js.sgd(js.schedules.step_decay(0.1, 30))
        params = {"w": jnp.ones(3)}
        sd = js.to_torch_scheduler_state_dict(tx, tx.init(params), params)
        sd["last_epoch"]   # 0
        sd["base_lrs"]   # [0.1]
    """
    groups = _groups(tx, state, params)
    steps = {int(group.state.step) for group in groups}
    if len(steps) > 1:
        raise TorchStateDictError(
            f"the groups have taken different numbers of steps ({sorted(steps)}; a group was frozen?), but one "
            "torch scheduler steps all groups together"
        )
    last_epoch = steps.pop() // _steps_per_epoch(groups)
    torch_groups = [_hyperparams_to_torch(g.state.hyperparams, components_of(g.tx)["hyperparams"]) for g in groups]
    return {
        "last_epoch": last_epoch,
        "_step_count": last_epoch + 1,
        "base_lrs": [group.get("initial_lr", group["lr"]) for group in torch_groups],
        "_last_lr": [group["lr"] for group in torch_groups],
    }


def _hyperparams_to_torch(values: Mapping[str, Any], specs: Mapping[str, Any]) -> dict[str, Any]:
    def convert(value):
        if type(value) is tuple:
            return tuple(convert(v) for v in value)
        if value is None:
            return None
        if isinstance(value, (Scheduled, Fixed)):
            value = value.value
        value = np.asarray(value)
        if value.dtype == np.float32:
            # the shortest decimal that rounds to this float32: 0.001, not 0.0010000000474974513,
            # which is the value a torch user wrote (and it converts back to the same float32)
            return float(str(value))
        return float(value)

    group = {_torch_key(name): convert(value) for name, value in values.items()}
    if isinstance(values.get("learning_rate"), Scheduled):
        group["initial_lr"] = convert(
            scheduled_value("learning_rate", specs["learning_rate"], jnp.zeros([], STEP_DTYPE))
        )
    return group


def _tensor(array: Any, scalar_dtype: Any = None) -> Any:
    array = np.asarray(array) if scalar_dtype is None else np.asarray(array, scalar_dtype)
    torch = _torch_module()
    if torch is None:
        return array
    if array.dtype == jnp.bfloat16:
        return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(array.copy())


def _inner_to_torch(inner: Any, slots: tuple[str | None, ...], step: int, torch_class: _TorchClass) -> dict[str, dict]:
    names = [name for name in slots if name is not None]
    per_param: dict[str, dict[str, Any]] = {name: {} for name in names}
    if step == 0 and torch_class.name != "Adagrad":  # torch creates state at the first step (Adagrad: at init)
        return {}
    if torch_class.step_in_state:
        for name in names:
            per_param[name]["step"] = step if torch_class.name == "SparseAdam" else _tensor(step, np.float32)
    if isinstance(inner, EmptyState):
        return {}
    for field, value in inner._asdict().items():
        if field == "step" or value is None:
            continue
        if field in _GROUP_SCALARS:
            for name in names:
                per_param[name][field] = _tensor(value)
            continue
        for leaf, name in zip(jax.tree.leaves(value, is_leaf=_is_none), slots, strict=True):
            if leaf is not None and name is not None:  # else outside this group, or no such state (Adafactor)
                per_param[name][field] = _tensor(leaf)
    return per_param


def _lbfgs_to_torch(inner: LbfgsState) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for field, key in _LBFGS_KEYS.items():
        value = np.asarray(getattr(inner, field))
        if value.ndim:
            state[key] = _tensor(value)
        elif np.issubdtype(value.dtype, np.integer):
            state[key] = int(value)
        else:
            state[key] = float(value)
    history_size, count, next_row = inner.ro.shape[0], int(inner.history_count), int(inner.history_next)
    order = list(range(count)) if count < history_size else [(next_row + i) % history_size for i in range(count)]
    for key in ("old_dirs", "old_stps"):
        rows = np.asarray(getattr(inner, key))
        state[key] = [_tensor(rows[i]) for i in order]
    ro = np.asarray(inner.ro)
    state["ro"] = [_tensor(ro[i]) for i in order]
    state["al"] = [None] * history_size
    state["loss"] = float(np.asarray(inner.loss))
    return state


# --- ReduceLROnPlateau -------------------------------------------------------------------------------


def plateau_from_torch_state_dict(
    plateau: Plateau, state_dict: Mapping[str, Any], group_labels: Sequence[str] | None = None
) -> PlateauState:
    """The :class:`~jaxsched.PlateauState` of torch's ``ReduceLROnPlateau.state_dict()``.

    ``plateau`` must have torch's settings (``mode``, ``factor``, ``patience``, ``threshold``,
    ``threshold_mode``, ``cooldown``, ``min_lr``, ``eps``); a difference is refused naming both values.
    The learning rates are torch's ``_last_lr``: one float for a single group, else a dict keyed by
    ``group_labels`` (torch's group order).

    PyTorch: ``scheduler.load_state_dict(state_dict)``.
    """
    settings = components_of(plateau)  # type: ignore[arg-type]
    torch_settings = {
        "mode": state_dict["mode"],
        "factor": state_dict["factor"],
        "patience": state_dict["patience"],
        "threshold": state_dict["threshold"],
        "threshold_mode": state_dict["threshold_mode"],
        "cooldown": state_dict["cooldown"],
        "eps": state_dict["eps"],
    }
    for key, theirs in torch_settings.items():
        if settings[key] != theirs:
            raise TorchStateDictError(f"{key} differs: torch's scheduler has {theirs!r}, the plateau {settings[key]!r}")
    last_lr = [float(lr) for lr in state_dict["_last_lr"]]
    min_lrs = [float(x) for x in state_dict["min_lrs"]]
    if group_labels is None:
        if len(last_lr) != 1:
            raise TorchStateDictError(
                f"torch's scheduler has {len(last_lr)} param groups: pass group_labels (one label per group)"
            )
        lr: Any = last_lr[0]
        min_lr: Any = min_lrs[0]
    else:
        group_labels = list(group_labels)
        if len(group_labels) != len(last_lr):
            raise TorchStateDictError(
                f"torch's scheduler has {len(last_lr)} param groups but group_labels names {len(group_labels)}"
            )
        lr, min_lr = dict(zip(group_labels, last_lr)), dict(zip(group_labels, min_lrs))
    ours_min = settings["min_lr"]
    expected_min = (
        ours_min if isinstance(ours_min, Mapping) or not isinstance(min_lr, dict) else dict.fromkeys(min_lr, ours_min)
    )
    if jax.tree.map(float, expected_min) != min_lr:
        raise TorchStateDictError(f"min_lr differs: torch's scheduler has {min_lrs}, the plateau {ours_min!r}")
    state = plateau.init(lr)
    dtype = state.best.dtype
    return state._replace(
        best=jnp.asarray(state_dict["best"], dtype),
        num_bad_epochs=jnp.asarray(state_dict["num_bad_epochs"], STEP_DTYPE),
        cooldown_counter=jnp.asarray(state_dict["cooldown_counter"], STEP_DTYPE),
        last_epoch=jnp.asarray(state_dict["last_epoch"], STEP_DTYPE),
    )


def plateau_to_torch_state_dict(
    plateau: Plateau, state: PlateauState, group_labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """torch's ``ReduceLROnPlateau.state_dict()`` for ``state``: ``scheduler.load_state_dict`` accepts it.

    Groups are ordered by ``group_labels`` when ``state.lr`` is a dict (default: its sorted keys).
    """
    settings = components_of(plateau)  # type: ignore[arg-type]
    if isinstance(state.lr, Mapping):
        labels = sorted(state.lr) if group_labels is None else list(group_labels)
        last_lr = [float(state.lr[label]) for label in labels]
        min_lr = settings["min_lr"]
        min_lrs = [float(min_lr[label]) if isinstance(min_lr, Mapping) else float(min_lr) for label in labels]
    else:
        last_lr, min_lrs = [float(state.lr)], [float(settings["min_lr"])]
    mode = settings["mode"]
    return {
        "factor": settings["factor"],
        "default_min_lr": None if isinstance(settings["min_lr"], Mapping) else settings["min_lr"],
        "min_lrs": min_lrs,
        "patience": settings["patience"],
        "cooldown": settings["cooldown"],
        "eps": settings["eps"],
        "last_epoch": int(state.last_epoch),
        "_last_lr": last_lr,
        "mode_worse": math.inf if mode == "min" else -math.inf,
        "mode": mode,
        "threshold": settings["threshold"],
        "threshold_mode": settings["threshold_mode"],
        "best": float(state.best),
        "cooldown_counter": int(state.cooldown_counter),
        "num_bad_epochs": int(state.num_bad_epochs),
    }
