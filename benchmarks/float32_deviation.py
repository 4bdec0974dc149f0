"""How far float32 jaxsched runs drift from torch's float32 runs: prints a table, one row per configuration.

    python benchmarks/float32_deviation.py [--steps 1000]

Each side computes its float32 gradients of a noisy quadratic (contracting, so differences do not
grow chaotically) with one numpy formula from its own parameters, so the deviation is the
optimizers' own rounding carried along the trajectory: torch computes its step scalars (bias
corrections, RAdam's rho) in float64 on the host from Python-float hyperparameters, jaxsched in
float32 on the device from float32 hyperparameters. The figure is the largest relative deviation
of a parameter tensor at any step, ``max|p_js - p_torch| / max|p_torch|``.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import torch

import jaxsched as js

CONFIGURATIONS = {
    "sgd momentum nesterov": ("sgd", "SGD", dict(lr=1e-2, momentum=0.9, nesterov=True)),
    "sgd wd": ("sgd", "SGD", dict(lr=1e-2, weight_decay=1e-2)),
    "asgd": ("asgd", "ASGD", dict(lr=1e-2, t0=100.0)),
    "rprop": ("rprop", "Rprop", dict(lr=1e-3)),
    "adagrad": ("adagrad", "Adagrad", dict(lr=1e-2, lr_decay=1e-3)),
    "adadelta": ("adadelta", "Adadelta", dict(lr=1.0)),
    "rmsprop": ("rmsprop", "RMSprop", dict(lr=1e-3)),
    "rmsprop centered momentum": ("rmsprop", "RMSprop", dict(lr=1e-3, centered=True, momentum=0.9)),
    "adam": ("adam", "Adam", dict(lr=1e-3)),
    "adam amsgrad wd": ("adam", "Adam", dict(lr=1e-3, amsgrad=True, weight_decay=1e-2)),
    "adamw": ("adamw", "AdamW", dict(lr=1e-3)),
    "adamax": ("adamax", "Adamax", dict(lr=2e-3)),
    "nadam": ("nadam", "NAdam", dict(lr=2e-3)),
    "nadam decoupled": ("nadam", "NAdam", dict(lr=2e-3, weight_decay=1e-2, decoupled_weight_decay=True)),
    "radam": ("radam", "RAdam", dict(lr=1e-3)),
    "radam beta2=0.9985827635": ("radam", "RAdam", dict(lr=1e-3, betas=(0.9, 0.9985827635))),
    "radam decoupled": ("radam", "RAdam", dict(lr=1e-3, weight_decay=1e-2, decoupled_weight_decay=True)),
}

_rng = np.random.RandomState(0)
PARAMS0 = {"matrix": _rng.randn(64, 32).astype(np.float32), "vector": _rng.randn(100).astype(np.float32)}
TARGET = {k: _rng.randn(*v.shape).astype(np.float32) for k, v in PARAMS0.items()}


def gradient(params: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
    noise = np.random.RandomState(step)
    return {k: (0.8 * (p - TARGET[k]) + 0.3 * noise.randn(*p.shape)).astype(np.float32) for k, p in params.items()}


def deviation(name: str, steps: int) -> float:
    optimizer, torch_class, kwargs = CONFIGURATIONS[name]
    js_kwargs = {("learning_rate" if k == "lr" else k): v for k, v in kwargs.items()}
    tx = getattr(js, optimizer)(**js_kwargs)
    params = {k: jnp.asarray(v) for k, v in PARAMS0.items()}
    state = tx.init(params)
    update = jax.jit(tx.update)
    tensors = {k: torch.tensor(v) for k, v in PARAMS0.items()}
    torch_optimizer = getattr(torch.optim, torch_class)(list(tensors.values()), **kwargs)
    worst = 0.0
    for step in range(steps):
        for k, g in gradient({k: t.numpy() for k, t in tensors.items()}, step).items():
            tensors[k].grad = torch.from_numpy(g)
        torch_optimizer.step()
        grads = gradient({k: np.asarray(v) for k, v in params.items()}, step)
        updates, state = update({k: jnp.asarray(v) for k, v in grads.items()}, state, params)
        params = js.apply_updates(params, updates)
        for k, t in tensors.items():
            reference = t.numpy()
            worst = max(worst, float(np.max(np.abs(np.asarray(params[k]) - reference)) / np.max(np.abs(reference))))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, jax {jax.__version__}, float32, {args.steps} steps")
    print(f"{'configuration':32s} max relative deviation")
    for name in CONFIGURATIONS:
        print(f"{name:32s} {deviation(name, args.steps):.2e}")


if __name__ == "__main__":
    main()
