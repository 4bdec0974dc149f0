"""How far the closest optax optimizer is from each reference-package optimizer: one line per pair.

    python benchmarks/optax_optimizer_gap.py

The problem is the tests' multi-leaf parity problem (``tests/optim_parity.py``: four leaves, 28
parameters, a non-convex polynomial loss with per-step noise), float64, 30 steps from the same
start. Each jaxsched optimizer runs with the reference's defaults (the learning rate given where the
reference has none) and equals the reference there to rtol 1e-10 (``tests/test_optimizers.py``, and
the reference itself when it is installed: the last column); optax runs with the same learning rate and
hyperparameters and its own defaults otherwise. The figure is the largest ``|optax - reference|``
over the parameters after 30 steps (they are of order 1). The numbers are in README.md's "From
transformers, timm and the reference packages" table.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # the tests' parity problem

import jaxsched as js
from tests.optim_parity import PARAMS0, flatten, grads_at

STEPS = 30


def trajectory_end(tx) -> np.ndarray:
    """The parameters after STEPS updates of the parity problem, flattened."""
    params = {k: jnp.asarray(v, jnp.float64) for k, v in PARAMS0.items()}
    state = tx.init(params)
    update = jax.jit(tx.update)
    for t in range(STEPS):
        grads = {k: jnp.asarray(v) for k, v in grads_at(params, t).items()}
        updates, state = update(grads, state, params)
        params = optax.apply_updates(params, updates)
    return flatten(params)


def reference_end(make) -> np.ndarray | None:
    """The reference package's parameters after STEPS steps (``None`` if it is not installed)."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in PARAMS0.items()}
        try:
            optimizer = make(list(tensors.values()))
        except ImportError:
            return None
        if hasattr(optimizer, "train"):  # schedule-free: train mode, whose parameters are y
            optimizer.train()
        for t in range(STEPS):
            grads = grads_at({k: x.detach().numpy() for k, x in tensors.items()}, t)
            for k, x in tensors.items():
                x.grad = torch.from_numpy(np.array(grads[k]))
            optimizer.step()
        return flatten({k: x.detach().numpy() for k, x in tensors.items()})
    finally:
        torch.set_default_dtype(previous)


def _reference(module: str, name: str, **kwargs):
    def make(params):
        return getattr(importlib.import_module(module), name)(params, **kwargs)

    return make


def cases() -> dict:
    """``{name: (jaxsched optimizer, closest optax optimizer, reference constructor)}``."""
    contrib = optax.contrib
    return {
        "lion, defaults": (js.lion(), optax.lion(1e-4), _reference("lion_pytorch", "Lion")),
        "lion, weight_decay=0 in optax": (
            js.lion(),
            optax.lion(1e-4, weight_decay=0.0),
            _reference("lion_pytorch", "Lion"),
        ),
        "lamb, defaults": (js.lamb(), optax.lamb(1e-3), _reference("pytorch_optimizer", "Lamb")),
        "lars, defaults": (js.lars(), optax.lars(1e-3), _reference("pytorch_optimizer", "LARS")),
        "schedule_free_sgd, no warmup": (
            js.schedule_free_sgd(),
            contrib.schedule_free_sgd(1.0),
            _reference("schedulefree", "SGDScheduleFree"),
        ),
        "schedule_free_sgd, warmup_steps=5": (
            js.schedule_free_sgd(warmup_steps=5),
            contrib.schedule_free_sgd(1.0, warmup_steps=5),
            _reference("schedulefree", "SGDScheduleFree", warmup_steps=5),
        ),
        "schedule_free_adamw, no warmup": (
            js.schedule_free_adamw(),
            contrib.schedule_free_adamw(0.0025),
            _reference("schedulefree", "AdamWScheduleFree"),
        ),
        "schedule_free_adamw, warmup_steps=5": (
            js.schedule_free_adamw(warmup_steps=5),
            contrib.schedule_free_adamw(0.0025, warmup_steps=5),
            _reference("schedulefree", "AdamWScheduleFree", warmup_steps=5),
        ),
        "prodigy, defaults": (js.prodigy(), contrib.prodigy(), _reference("prodigyopt", "Prodigy")),
    }


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    print(f"optax {optax.__version__}, float64, {STEPS} steps of tests/optim_parity.py's problem")
    print(f"{'pair':38s} {'max |optax - reference|':>24s} {'max |reference|':>16s} {'jaxsched vs live reference':>27s}")
    for name, (ours, theirs, reference) in cases().items():
        expected = trajectory_end(ours)
        gap = np.max(np.abs(trajectory_end(theirs) - expected))
        live = reference_end(reference)
        check = "not installed" if live is None else f"{np.max(np.abs(live - expected)):.1e}"
        print(f"{name:38s} {gap:24.2g} {np.max(np.abs(expected)):16.2f} {check:>27s}")


if __name__ == "__main__":
    main()
