"""Regenerate tests/golden/plateau.npz from torch's ReduceLROnPlateau (needs torch==2.13.0).

    python tests/golden/generate_plateau.py

Every case runs a randomized metric sequence (NaN, +-inf, negative, constant and noisy stretches)
through ``torch.optim.lr_scheduler.ReduceLROnPlateau`` on a two-group SGD optimizer and stores, per
step, the metrics fed in and torch's resulting group lrs, ``best``, ``num_bad_epochs`` and
``cooldown_counter``. Values come from torch only, never from jaxsched. ``tests/test_plateau.py``
imports ``CASES``, ``metric_sequence`` and ``run_torch`` from here, so live and golden checks share them.
"""

from __future__ import annotations

import pathlib
import sys
import warnings
from typing import NamedTuple

import numpy as np

GOLDEN = pathlib.Path(__file__).resolve().parent / "plateau.npz"
FIELDS = ("lr", "best", "num_bad_epochs", "cooldown_counter")


class PlateauCase(NamedTuple):
    kwargs: dict  # reduce_on_plateau / ReduceLROnPlateau keyword arguments (min_lr as a per-group list)
    lrs: tuple  # initial lr of each of the two groups
    seed: int
    length: int = 80
    offset: float = 0.0  # added to every metric (negative offsets exercise torch's rel-mode flaw)


CASES = {
    "min_rel_default": PlateauCase({}, (0.1, 1.0), seed=0, length=160),
    "min_rel_patience3": PlateauCase(dict(patience=3, threshold=1e-3), (0.1, 1.0), seed=1),
    "min_abs_cooldown": PlateauCase(
        dict(threshold_mode="abs", threshold=0.05, patience=2, cooldown=3, factor=0.5), (0.1, 1.0), seed=2
    ),
    "max_rel_group_min_lr": PlateauCase(
        dict(mode="max", threshold=0.01, patience=1, factor=0.3, min_lr=[0.01, 0.2]), (0.1, 1.0), seed=3
    ),
    "max_abs_zero_threshold": PlateauCase(
        dict(mode="max", threshold_mode="abs", threshold=0.0, patience=0, cooldown=1, factor=0.5, min_lr=1e-3),
        (0.1, 1.0),
        seed=4,
    ),
    # 0.1 - 0.1 * 0.8 is just below eps = 0.02: the first group must never be reduced.
    "large_eps": PlateauCase(dict(eps=0.02, factor=0.8, patience=1), (0.1, 1.0), seed=5),
    "factor_zero": PlateauCase(dict(factor=0.0, patience=2, min_lr=[0.05, 1e-3]), (0.1, 1.0), seed=6),
    "min_rel_negative": PlateauCase(dict(threshold=0.1, patience=2, factor=0.5), (0.1, 1.0), seed=7, offset=-3.0),
    "max_rel_negative": PlateauCase(
        dict(mode="max", threshold=0.1, patience=2, cooldown=2, factor=0.5), (0.1, 1.0), seed=8, offset=-3.0
    ),
    "threshold_one_rel": PlateauCase(dict(threshold=1.0, patience=2, factor=0.5), (0.1, 1.0), seed=9),
    "abs_negative_cooldown": PlateauCase(
        dict(threshold_mode="abs", threshold=0.01, patience=1, cooldown=2, factor=0.7, min_lr=[1e-3, 0.3]),
        (0.1, 1.0),
        seed=10,
        offset=-1.0,
    ),
}

# lr, factor, eps (and min_lr) where torch's float64 test ``lr - new_lr > eps`` and the same test in
# float32 disagree, in both directions (found by a search over round values). Each runs a constant
# metric with patience 0, so a reduction is due at every step after the first.
EPS_TIES = {
    "tie_float32_would_reduce": (dict(factor=0.9, eps=1e-3), 0.01),
    "tie_float32_would_refuse": (dict(factor=0.1, eps=0.009), 0.01),
    "tie_at_min_lr": (dict(factor=0.1, eps=0.03, min_lr=0.07), 0.1),
}
TIE_METRICS = np.ones(6)

_STRETCHES = ["improving", "noisy", "constant", "nan", "inf", "jump"]


def metric_sequence(seed: int, length: int, offset: float = 0.0) -> np.ndarray:
    """A float64 metric sequence made of random stretches: improving, noisy, constant, NaN, +-inf, jumps."""
    rng = np.random.RandomState(seed)
    values: list[float] = []
    level = float(rng.uniform(0.5, 2.0))
    while len(values) < length:
        kind = rng.choice(_STRETCHES, p=[0.3, 0.25, 0.25, 0.08, 0.04, 0.08])
        n = int(rng.randint(1, 8))
        if kind == "improving":
            for _ in range(n):
                level -= abs(rng.normal(0.0, 0.05))
                values.append(level)
        elif kind == "noisy":
            values.extend(level + rng.normal(0.0, 0.02, size=n))
        elif kind == "constant":
            values.extend([level] * n)
        elif kind == "nan":
            values.extend([np.nan] * min(n, 3))
        elif kind == "inf":
            values.append(float(rng.choice([np.inf, -np.inf])))
        else:
            level += rng.normal(0.0, 0.5)
            values.append(level)
    return np.asarray(values[:length], np.float64) + offset


def run_torch(kwargs: dict, lrs, metrics) -> dict[str, np.ndarray]:
    """Torch's ReduceLROnPlateau state after each ``step(metric)``: lrs (steps, groups) and the counters."""
    import torch

    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    record: dict[str, list] = {field: [] for field in FIELDS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metric in metrics:
            scheduler.step(float(metric))
            record["lr"].append([float(group["lr"]) for group in optimizer.param_groups])
            record["best"].append(scheduler.best)
            record["num_bad_epochs"].append(scheduler.num_bad_epochs)
            record["cooldown_counter"].append(scheduler.cooldown_counter)
    return {field: np.asarray(values) for field, values in record.items()}


def main() -> None:
    import torch

    print(f"torch {torch.__version__}")
    arrays = {"torch_version": np.asarray(torch.__version__)}
    for name, case in CASES.items():
        metrics = metric_sequence(case.seed, case.length, case.offset)
        arrays[f"{name}/metrics"] = metrics
        for field, values in run_torch(case.kwargs, case.lrs, metrics).items():
            arrays[f"{name}/{field}"] = values
    for name, (kwargs, lr) in EPS_TIES.items():
        arrays[f"{name}/lr"] = run_torch(dict(kwargs, patience=0), (lr,), TIE_METRICS)["lr"]
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {len(CASES)} cases to {GOLDEN}")


if __name__ == "__main__":
    sys.exit(main())
