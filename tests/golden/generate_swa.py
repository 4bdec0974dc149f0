"""Regenerate tests/golden/swa.npz from torch.optim.swa_utils (needs torch==2.13.0).

    python tests/golden/generate_swa.py

Averaging cases: a float64 torch module with four parameters (a Linear's weight and bias, a 0-d and
a 3-d parameter) is set to a seeded random walk before each ``AveragedModel.update_parameters``
(EMA through ``get_ema_multi_avg_fn(decay)``, SWA through the default average); stored per case are
the inputs and the averaged parameters after every update, each row flattened in
``named_parameters`` order. Learning-rate cases: torch's SWA recipe (``CosineAnnealingLR`` until
``swa_start``, then ``SWALR``, both stepped per epoch, as in ``AveragedModel``'s docstring) or SWALR
alone on a fresh SGD, recording ``param_groups[0]['lr']`` for every epoch. Values come from torch
only, never from jaxsched. ``tests/test_averaging.py`` imports the cases and runners from here, so
live and golden checks share them.
"""

from __future__ import annotations

import pathlib
import warnings
from typing import NamedTuple

import numpy as np

GOLDEN = pathlib.Path(__file__).resolve().parent / "swa.npz"
UPDATES = 50
EPOCHS = 30
# named_parameters order of the torch module below, with shapes.
PARAM_SHAPES = {"scale": (), "kernel": (2, 2, 2), "linear.weight": (4, 3), "linear.bias": (4,)}


class AveragingCase(NamedTuple):
    decay: float | None  # None: SWA (AveragedModel's default average)
    seed: int


class LrCase(NamedTuple):
    swa_lr: float
    anneal_epochs: int
    anneal_strategy: str
    lr: float = 0.1
    t_max: int | None = None  # with swa_start: the recipe's CosineAnnealingLR; None: SWALR alone
    swa_start: int | None = None


AVERAGING_CASES = {
    "swa": AveragingCase(None, seed=0),
    "ema_0.999": AveragingCase(0.999, seed=1),  # lerp weight < 0.5
    "ema_0.5": AveragingCase(0.5, seed=2),  # lerp weight exactly 0.5: torch's second formula
    "ema_0.2": AveragingCase(0.2, seed=3),  # lerp weight > 0.5
}

LR_CASES = {
    "recipe_cos": LrCase(0.05, 5, "cos", t_max=EPOCHS, swa_start=15),
    "recipe_linear": LrCase(0.01, 10, "linear", t_max=20, swa_start=10),
    "recipe_start_0": LrCase(0.05, 3, "cos", t_max=100, swa_start=0),
    "recipe_rising": LrCase(0.2, 7, "cos", lr=0.05, t_max=12, swa_start=20),
    "swalr_cos": LrCase(0.05, 10, "cos"),
    "swalr_linear_rising": LrCase(0.3, 4, "linear"),
    "swalr_no_anneal": LrCase(0.05, 0, "cos"),
    "swalr_one_epoch": LrCase(0.05, 1, "linear"),
}


def parameter_walk(seed: int) -> np.ndarray:
    """``UPDATES`` rows of all parameters flattened: a random walk with leaves of different scales."""
    rng = np.random.RandomState(seed)
    size = sum(int(np.prod(shape)) for shape in PARAM_SHAPES.values())
    scales = np.concatenate([np.full(int(np.prod(s)), 10.0**i) for i, s in enumerate(PARAM_SHAPES.values())])
    steps = rng.standard_normal((UPDATES, size)) * 0.1
    return (rng.standard_normal(size) + np.cumsum(steps, axis=0)) * scales


def run_averaging(case: AveragingCase, inputs: np.ndarray) -> np.ndarray:
    """The averaged parameters after each ``update_parameters``, one flattened row per update (float64)."""
    import torch
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 4, dtype=torch.float64)
            self.scale = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
            self.kernel = torch.nn.Parameter(torch.zeros(2, 2, 2, dtype=torch.float64))

    model = Model()
    assert [(n, tuple(p.shape)) for n, p in model.named_parameters()] == list(PARAM_SHAPES.items())
    multi_avg_fn = None if case.decay is None else get_ema_multi_avg_fn(case.decay)
    averaged = AveragedModel(model, multi_avg_fn=multi_avg_fn)
    rows = []
    for row in inputs:
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.tensor(row), model.parameters())
        averaged.update_parameters(model)
        rows.append(torch.nn.utils.parameters_to_vector(averaged.module.parameters()).detach().numpy().copy())
    return np.array(rows, np.float64)


def run_lr(case: LrCase) -> np.ndarray:
    """``param_groups[0]['lr']`` in each of ``EPOCHS`` epochs (float64)."""
    import torch
    from torch.optim.swa_utils import SWALR

    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=case.lr)
    cosine = None if case.t_max is None else torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=case.t_max)
    swalr = SWALR(optimizer, swa_lr=case.swa_lr, anneal_epochs=case.anneal_epochs, anneal_strategy=case.anneal_strategy)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()" style notices
        for epoch in range(EPOCHS):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            if cosine is not None and epoch <= case.swa_start:
                cosine.step()
            else:
                swalr.step()
    return np.array(lrs, np.float64)


def main() -> None:
    import torch

    print(f"torch {torch.__version__}")
    values = {}
    for name, case in sorted(AVERAGING_CASES.items()):
        inputs = parameter_walk(case.seed)
        values[f"{name}.inputs"] = inputs
        values[f"{name}.averages"] = run_averaging(case, inputs)
    for name, case in sorted(LR_CASES.items()):
        values[f"{name}.lr"] = run_lr(case)
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(values)} arrays to {GOLDEN}")


if __name__ == "__main__":
    main()
