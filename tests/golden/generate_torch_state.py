"""Regenerate tests/golden/torch_state.npz: torch runs interrupted mid-flight (needs torch==2.13.0).

    python tests/golden/generate_torch_state.py

Every case of :data:`CASES` runs the torch optimizer (and its scheduler) for :data:`SPLIT` steps on
the multi-leaf problem of ``tests/optim_parity.py``, stores its ``optimizer.state_dict()`` and
parameters there, then lets torch continue for :data:`CONTINUE` more steps and stores the parameters
after each. ``tests/test_torch_state.py`` loads the state dict into jaxsched with
``js.from_torch_state_dict`` and continues from it; the values come from torch only, never from
jaxsched. The cases are derived from ``tests/optim_db.py``: for every first-order torch optimizer
its example configuration in one group (torch's ``param_names`` recorded), the same in two groups
(a ``js.partition``, matched through ``param_order``) and its StepLR case; plus OneCycleLR with beta1
cycling (Adam) and CyclicLR with momentum cycling (SGD).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
from typing import Any

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.optim_db import FIRST_ORDER  # noqa: E402
from tests.optim_parity import PARAMS0, ParityCase, optimizer_class_of, torch_kwargs, torch_step  # noqa: E402

GOLDEN = pathlib.Path(__file__).resolve().parent / "torch_state.npz"
SPLIT = 10
CONTINUE = 20


@dataclasses.dataclass(frozen=True)
class StateCase:
    parity: ParityCase
    named: bool  # torch's optimizer built from named parameters (param_names), else matched by param_order


def _with_grad_conversion(info) -> ParityCase:
    """A parity case of ``info`` that carries its gradient conversion (SparseAdam needs sparse gradients)."""
    return next((c for c in info.parity.values() if c.jax_grads is not None), next(iter(info.parity.values())))


def _cases() -> dict[str, StateCase]:
    cases = {}
    for info in FIRST_ORDER:
        if "." in info.torch_optimizer:  # a reference package's optimizer: torch.optim state dicts only
            continue
        base = dataclasses.replace(_with_grad_conversion(info), torch_scheduler=None, grad_mask=None)
        kwargs = {**info.hyperparams, **info.options}
        half_lr = {"learning_rate": kwargs.get("learning_rate", 1e-3) / 2}
        cases[f"{info.name}_single"] = StateCase(dataclasses.replace(base, kwargs=kwargs), named=True)
        cases[f"{info.name}_groups"] = StateCase(
            dataclasses.replace(base, kwargs=kwargs, second_group=half_lr), named=False
        )
        steplr = info.parity[f"{info.name}_steplr"]
        cases[f"{info.name}_steplr"] = StateCase(
            dataclasses.replace(steplr, jax_grads=base.jax_grads, torch_grads=base.torch_grads), named=True
        )
    by_name = {info.name: info for info in FIRST_ORDER}
    cases["adam_one_cycle_beta1"] = StateCase(by_name["adam"].parity["adam_one_cycle_lr_and_beta1"], named=True)
    cases["sgd_cyclic_momentum"] = StateCase(by_name["sgd"].parity["sgd_cyclic_lr_and_momentum"], named=True)
    return cases


CASES = _cases()


def torch_names(case: ParityCase) -> list[str]:
    """The parameter names in torch's order: the order of the param groups' lists."""
    groups = case.torch_param_groups({name: name for name in PARAMS0})
    if isinstance(groups[0], dict):
        return [name for group in groups for name in group["params"]]
    return list(groups)


def make_torch_optimizer(case: StateCase, tensors: dict[str, Any]):
    """The torch optimizer of ``case`` over ``tensors``, built from (name, tensor) pairs when ``case.named``."""
    if case.named:
        tensors = {name: (name, tensor) for name, tensor in tensors.items()}
    return optimizer_class_of(case.parity.torch_optimizer)(
        case.parity.torch_param_groups(tensors), **torch_kwargs(case.parity.kwargs)
    )


def continue_torch(case: StateCase, optimizer, tensors: dict[str, Any], scheduler) -> list[dict[str, np.ndarray]]:
    """torch's params after each of the CONTINUE steps that follow step SPLIT."""
    rows = []
    for step in range(SPLIT, SPLIT + CONTINUE):
        torch_step(case.parity, optimizer, tensors, scheduler, step)
        rows.append(snapshot(tensors))
    return rows


def snapshot(tensors: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: t.detach().numpy().copy() for k, t in tensors.items()}


# The entries of a torch scheduler's state_dict() that depend on the run's position.
SCHEDULER_POSITION = ("last_epoch", "_step_count", "base_lrs", "_last_lr")


def run_torch(case: StateCase) -> dict[str, Any]:
    """torch's state dict and params after SPLIT steps, and its params after each of CONTINUE more."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # ASGD/NAdam keep internal scalars in the default dtype
    try:
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in PARAMS0.items()}
        optimizer = make_torch_optimizer(case, tensors)
        scheduler = case.parity.make_torch_scheduler(optimizer)
        for step in range(SPLIT):
            torch_step(case.parity, optimizer, tensors, scheduler, step)
        state_dict = to_numpy(optimizer.state_dict())
        position = None
        if isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
            position = {key: scheduler.state_dict()[key] for key in SCHEDULER_POSITION}
        params = snapshot(tensors)
        rows = continue_torch(case, optimizer, tensors, scheduler)
    finally:
        torch.set_default_dtype(previous)
    return {"state_dict": state_dict, "scheduler_state_dict": position, "params": params, "rows": rows}


def to_numpy(value: Any) -> Any:
    """A state dict with every tensor as a numpy array (what the golden file can hold)."""
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_numpy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_numpy(v) for v in value)
    return value


def encode(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON skeleton of a state dict, its arrays moved to ``arrays`` (tuples and int keys marked)."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, dict):
        if all(isinstance(k, int) for k in value) and value:
            return {"__int_keys__": {str(k): encode(v, f"{key}/{k}", arrays) for k, v in value.items()}}
        return {str(k): encode(v, f"{key}/{k}", arrays) for k, v in value.items()}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, f"{key}/{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode(v, f"{key}/{i}", arrays) for i, v in enumerate(value)]
    return value


def decode(skeleton: Any, arrays: Any) -> Any:
    if isinstance(skeleton, dict):
        if "__array__" in skeleton:
            return np.asarray(arrays[skeleton["__array__"]])
        if "__int_keys__" in skeleton:
            return {int(k): decode(v, arrays) for k, v in skeleton["__int_keys__"].items()}
        if "__tuple__" in skeleton:
            return tuple(decode(v, arrays) for v in skeleton["__tuple__"])
        return {k: decode(v, arrays) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [decode(v, arrays) for v in skeleton]
    return skeleton


def golden(name: str) -> dict[str, Any]:
    """What :func:`run_torch` returned for case ``name``, from the golden file."""
    with np.load(GOLDEN) as data:
        skeleton = json.loads(str(data[f"{name}/state_dict_json"]))
        position = json.loads(str(data[f"{name}/scheduler_json"]))
        params = {k: data[f"{name}/params/{k}"] for k in PARAMS0}
        rows = [{k: data[f"{name}/rows/{k}"][i] for k in PARAMS0} for i in range(CONTINUE)]
        return {"state_dict": decode(skeleton, data), "scheduler_state_dict": position, "params": params, "rows": rows}


def main() -> None:
    import torch

    print(f"torch {torch.__version__}")
    arrays: dict[str, Any] = {"torch_version": np.asarray(torch.__version__)}
    for name, case in CASES.items():
        result = run_torch(case)
        arrays[f"{name}/state_dict_json"] = np.asarray(json.dumps(encode(result["state_dict"], f"{name}/sd", arrays)))
        arrays[f"{name}/scheduler_json"] = np.asarray(json.dumps(result["scheduler_state_dict"]))
        for k in PARAMS0:
            arrays[f"{name}/params/{k}"] = result["params"][k]
            arrays[f"{name}/rows/{k}"] = np.stack([row[k] for row in result["rows"]])
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {len(CASES)} cases to {GOLDEN}")


if __name__ == "__main__":
    sys.exit(main())
