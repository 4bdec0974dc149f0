"""Regenerate tests/golden/reference_schedules.npz from transformers and timm (torch==2.13.0,
transformers 5.24, timm 1.0.31).

    python tests/golden/generate_reference_schedules.py

transformers cases: ``transformers.get_scheduler(name, SGD(lr), num_warmup_steps, num_training_steps,
scheduler_specific_kwargs=kwargs)`` on one float64 parameter, recording ``param_groups[0]['lr']``
before each ``scheduler.step()``: row k is the learning rate of the (k+1)-th optimizer step. timm
cases: ``CosineLRScheduler(SGD(lr), **kwargs)``, recording the learning rate after ``step(t)``
(``t_in_epochs=True``) or ``step_update(t)`` (``t_in_epochs=False``) for t = 0, 1, ... Every case
runs a few steps past its end. Values come from the references only, never from jaxsched.
``tests/test_schedules_reference.py`` imports the cases and runners from here, so live and golden
checks share them.

``import timm`` needs torchvision; its schedulers are plain Python, so ``load_timm_cosine`` execs
``timm/scheduler/scheduler.py`` and ``cosine_lr.py`` from the installed package under a private
package name, without running ``timm/__init__.py``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import types
import warnings
from typing import Any, NamedTuple

import numpy as np

GOLDEN = pathlib.Path(__file__).resolve().parent / "reference_schedules.npz"
PAST_END = 5
TIMM_PACKAGE = "_timm_scheduler_without_timm_init"


class HfCase(NamedTuple):
    name: str  # transformers.SchedulerType value
    num_warmup_steps: int | None
    num_training_steps: int | None
    kwargs: dict[str, Any]
    steps: int  # rows recorded
    lr: float = 0.1


class TimmCase(NamedTuple):
    kwargs: dict[str, Any]  # CosineLRScheduler arguments other than the optimizer and t_in_epochs
    steps: int
    t_in_epochs: bool = True
    lr: float = 0.1


def _hf(name, warmup, training, steps=None, lr=0.1, **kwargs):
    return HfCase(name, warmup, training, kwargs, (steps or training) + PAST_END, lr)


HF_CASES = {
    "linear": _hf("linear", 10, 100),
    "linear_no_warmup": _hf("linear", 0, 37),
    "linear_warmup_past_training": _hf("linear", 20, 15, steps=25),
    "cosine": _hf("cosine", 10, 100),
    "cosine_no_warmup_rising_past_end": _hf("cosine", 0, 50, steps=80),
    "cosine_cycles_1.5": _hf("cosine", 7, 90, num_cycles=1.5),
    "cosine_with_restarts": _hf("cosine_with_restarts", 10, 100),
    "cosine_with_restarts_3_cycles": _hf("cosine_with_restarts", 5, 95, num_cycles=3),
    "cosine_with_restarts_7_cycles_no_warmup": _hf("cosine_with_restarts", 0, 100, num_cycles=7),
    "polynomial": _hf("polynomial", 10, 100),
    "polynomial_power_2_lr_end": _hf("polynomial", 0, 60, lr_end=1e-3, power=2.0),
    "polynomial_power_0.5": _hf("polynomial", 12, 70, lr_end=0.0, power=0.5),
    "constant": _hf("constant", None, None, steps=20),
    "constant_with_warmup": _hf("constant_with_warmup", 10, None, steps=30),
    "constant_with_warmup_0": _hf("constant_with_warmup", 0, None, steps=10),
    "inverse_sqrt": _hf("inverse_sqrt", 10, None, steps=200),
    "inverse_sqrt_no_warmup": _hf("inverse_sqrt", 0, None, steps=100),
    "inverse_sqrt_timescale": _hf("inverse_sqrt", 8, None, steps=100, timescale=3),
    "cosine_with_min_lr": _hf("cosine_with_min_lr", 10, 100, min_lr=1e-3),
    "cosine_with_min_lr_rate_cycles": _hf("cosine_with_min_lr", 0, 64, min_lr_rate=0.2, num_cycles=1.0),
    "cosine_warmup_with_min_lr": _hf("cosine_warmup_with_min_lr", 10, 100, min_lr_rate=0.05),
    "cosine_warmup_with_min_lr_warmup_rate": _hf(
        "cosine_warmup_with_min_lr", 6, 50, min_lr=2e-3, warmup_lr_rate=0.1, num_cycles=0.75
    ),
    "cosine_warmup_with_min_lr_no_warmup": _hf("cosine_warmup_with_min_lr", 0, 40, min_lr_rate=0.0),
    **{
        f"wsd_{warmup}_{decay}": _hf(
            "warmup_stable_decay", 10, 100, warmup_type=warmup, decay_type=decay, num_decay_steps=30, min_lr_ratio=0.1
        )
        for warmup, decay in (("linear", "cosine"), ("cosine", "linear"), ("1-sqrt", "1-sqrt"))
    },
    "wsd_stable_steps_no_min": _hf(
        "warmup_stable_decay", 0, None, steps=60, num_stable_steps=20, num_decay_steps=40, decay_type="1-sqrt"
    ),
    "wsd_cosine_cycles": _hf("warmup_stable_decay", 5, 70, num_decay_steps=45, num_cycles=1.0, min_lr_ratio=0.3),
}

TIMM_CASES = {
    "default": TimmCase(dict(t_initial=50), 55),
    "lr_min_warmup": TimmCase(dict(t_initial=40, lr_min=1e-4, warmup_t=5, warmup_lr_init=1e-5), 50),
    "warmup_prefix": TimmCase(dict(t_initial=40, lr_min=1e-4, warmup_t=5, warmup_lr_init=1e-5, warmup_prefix=True), 50),
    "cycles_decay": TimmCase(dict(t_initial=20, lr_min=1e-3, cycle_decay=0.5, cycle_limit=3), 66),
    "cycle_mul_2": TimmCase(dict(t_initial=10, cycle_mul=2.0, cycle_decay=0.8, cycle_limit=4), 155),
    "cycle_mul_1.5_warmup": TimmCase(
        dict(t_initial=8, cycle_mul=1.5, cycle_limit=4, warmup_t=3, warmup_lr_init=0.01, warmup_prefix=True), 70
    ),
    "cycle_mul_0.5": TimmCase(dict(t_initial=16, cycle_mul=0.5, cycle_limit=4), 32),  # timm fails from t = 32 on
    "k_decay": TimmCase(dict(t_initial=30, lr_min=1e-3, k_decay=2.0, cycle_limit=2), 65),
    "k_decay_0.5_updates": TimmCase(dict(t_initial=300, k_decay=0.5, warmup_t=20), 330, t_in_epochs=False),
}


def load_timm_cosine():
    """timm's ``CosineLRScheduler`` without ``import timm``; None when timm is not installed."""
    if TIMM_PACKAGE in sys.modules:
        return sys.modules[f"{TIMM_PACKAGE}.cosine_lr"].CosineLRScheduler
    spec = importlib.util.find_spec("timm")  # finds the package directory without executing its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = pathlib.Path(spec.submodule_search_locations[0]) / "scheduler"
    package = types.ModuleType(TIMM_PACKAGE)
    package.__path__ = [str(directory)]  # lets cosine_lr's `from .scheduler import Scheduler` resolve
    sys.modules[TIMM_PACKAGE] = package
    for name in ("scheduler", "cosine_lr"):
        module_spec = importlib.util.spec_from_file_location(f"{TIMM_PACKAGE}.{name}", directory / f"{name}.py")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module
        module_spec.loader.exec_module(module)
    return sys.modules[f"{TIMM_PACKAGE}.cosine_lr"].CosineLRScheduler


def _sgd(lr: float):
    import torch

    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=lr)


def run_hf(case: HfCase) -> np.ndarray:
    """The learning rate of each of the first ``case.steps`` optimizer steps (float64)."""
    import transformers

    optimizer = _sgd(case.lr)
    scheduler = transformers.get_scheduler(
        case.name, optimizer, case.num_warmup_steps, case.num_training_steps, scheduler_specific_kwargs=case.kwargs
    )
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(case.steps):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            scheduler.step()
    return np.array(lrs, np.float64)


def run_timm(case: TimmCase) -> np.ndarray:
    """The learning rate set by ``step(t)`` / ``step_update(t)`` for t = 0 .. steps - 1 (float64)."""
    cosine = load_timm_cosine()
    optimizer = _sgd(case.lr)
    scheduler = cosine(optimizer, t_in_epochs=case.t_in_epochs, **case.kwargs)
    lrs = []
    for t in range(case.steps):
        (scheduler.step if case.t_in_epochs else scheduler.step_update)(t)
        lrs.append(float(optimizer.param_groups[0]["lr"]))
    return np.array(lrs, np.float64)


def main() -> None:
    import importlib.metadata

    import torch
    import transformers

    assert load_timm_cosine() is not None, "timm is not installed"
    timm_version = importlib.metadata.version("timm")  # not timm.__version__: `import timm` needs torchvision
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, timm {timm_version}")
    values = {f"hf.{name}": run_hf(case) for name, case in sorted(HF_CASES.items())}
    values.update({f"timm.{name}": run_timm(case) for name, case in sorted(TIMM_CASES.items())})
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(values)} arrays to {GOLDEN}")


if __name__ == "__main__":
    main()
