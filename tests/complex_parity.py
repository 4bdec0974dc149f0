"""Parity with torch on complex parameters: one real loss, differentiated by each framework's own autodiff.

jaxsched's rule (README, "Complex parameters"): pass ``jax.grad``'s gradient as it is; optimizers
conjugate it into torch's ``.grad`` convention and treat each complex value as a pair of reals, as
torch does. So the jaxsched side below uses ``jax.grad`` of the loss and the torch side
``loss.backward()``; equal trajectories check the convention and the math together.
``python tests/golden/generate_complex.py`` stores torch's trajectories in ``tests/golden/complex.npz``.
"""

from __future__ import annotations

import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

GOLDEN = pathlib.Path(__file__).parent / "golden" / "complex.npz"
STEPS = 30

_rng = np.random.RandomState(7)
# Complex leaves mixed with real ones, in sorted-name order (torch's parameter order).
PARAMS0 = {
    "a_complex_matrix": _rng.randn(3, 2) + 1j * _rng.randn(3, 2),
    "b_real_vector": _rng.randn(4),
    "c_complex_scalar": np.array(0.3 - 0.8j),
}
_TARGET = {
    k: (v.real + 0.5) * 0.7 + 1j * (v.imag - 0.25) if np.iscomplexobj(v) else v * 0.5 - 0.2 for k, v in PARAMS0.items()
}
_NOISE = {k: _rng.randn(STEPS, *np.shape(v)) for k, v in PARAMS0.items()}

# name -> (jaxsched optimizer, its kwargs); torch's kwargs are the same with ``lr`` for ``learning_rate``.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd_momentum_nesterov_wd": ("sgd", dict(learning_rate=0.02, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_dampening_maximize": ("sgd", dict(learning_rate=0.002, momentum=0.8, dampening=0.3, maximize=True)),
    "asgd_wd": ("asgd", dict(learning_rate=0.02, t0=5.0, weight_decay=0.01)),
    "rprop": ("rprop", dict(learning_rate=0.01)),
    "rprop_maximize": ("rprop", dict(learning_rate=0.01, maximize=True)),
    "adagrad_decay_accumulator_wd": (
        "adagrad",
        dict(learning_rate=0.1, lr_decay=0.01, initial_accumulator_value=0.2, weight_decay=0.01),
    ),
    "adadelta_wd_maximize": ("adadelta", dict(learning_rate=1.0, weight_decay=0.01, maximize=True)),
    "rmsprop": ("rmsprop", dict(learning_rate=0.01)),
    "rmsprop_centered_momentum_wd": (
        "rmsprop",
        dict(learning_rate=0.01, centered=True, momentum=0.9, weight_decay=0.01),
    ),
    "adam_amsgrad_wd": ("adam", dict(learning_rate=0.02, amsgrad=True, weight_decay=0.05)),
    "adam_maximize": ("adam", dict(learning_rate=0.02, betas=(0.8, 0.9), maximize=True)),
    "adam_decoupled_weight_decay": ("adam", dict(learning_rate=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    "adamw_amsgrad": ("adamw", dict(learning_rate=0.02, amsgrad=True)),
    "adamax_wd": ("adamax", dict(learning_rate=0.02, weight_decay=0.05)),
    "nadam": ("nadam", dict(learning_rate=0.02)),
    "nadam_decoupled_wd": ("nadam", dict(learning_rate=0.02, weight_decay=0.05, decoupled_weight_decay=True)),
    "radam_decoupled_wd": ("radam", dict(learning_rate=0.02, weight_decay=0.05, decoupled_weight_decay=True)),
    "radam_wd": ("radam", dict(learning_rate=0.02, weight_decay=0.05)),
}
TORCH_CLASSES = {
    "sgd": "SGD",
    "asgd": "ASGD",
    "rprop": "Rprop",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
}


def loss(params: dict[str, Any], step: Any, xp: Any) -> Any:
    """A real, non-convex loss of complex and real leaves, with per-step noise (``xp``: jnp or torch)."""
    total = 0.0
    for k, p in params.items():
        target, noise = (
            (jnp.asarray(_TARGET[k]), jnp.asarray(_NOISE[k])[step]) if xp is jnp else _torch_constants(k, step)
        )
        real_part = p.real if np.iscomplexobj(PARAMS0[k]) else p
        total = total + (xp.abs(p - target) ** 2 + 0.1 * xp.abs(p) ** 4 + 0.3 * noise * real_part).sum()
    return total


def _torch_constants(key: str, step: int) -> tuple[Any, Any]:
    import torch

    return torch.as_tensor(_TARGET[key]), torch.as_tensor(_NOISE[key][step])


def flatten(params: dict[str, Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(params[k], np.complex128)) for k in sorted(params)])


def run_jax(name: str, wrap=lambda tx: tx) -> np.ndarray:
    import jaxsched as js

    optimizer, kwargs = CASES[name]
    with jax.enable_x64(True):
        tx = wrap(getattr(js, optimizer)(**kwargs))
        params = {k: jnp.asarray(v) for k, v in PARAMS0.items()}
        state = tx.init(params)

        @jax.jit
        def step_fn(params, state, step):
            grads = jax.grad(loss)(params, step, jnp)
            updates, state = tx.update(grads, state, params)
            return js.apply_updates(params, updates), state

        rows = [flatten(params)]
        for step in range(STEPS):
            params, state = step_fn(params, state, step)
            rows.append(flatten(params))
    return np.stack(rows)


def run_torch(name: str) -> np.ndarray:
    import torch

    optimizer, kwargs = CASES[name]
    torch_kwargs = {("lr" if k == "learning_rate" else k): v for k, v in kwargs.items()}
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # ASGD/NAdam keep internal scalars in the default dtype
    try:
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in PARAMS0.items()}
        opt = getattr(torch.optim, TORCH_CLASSES[optimizer])([tensors[k] for k in sorted(tensors)], **torch_kwargs)
        rows = [flatten({k: t.detach().numpy() for k, t in tensors.items()})]
        for step in range(STEPS):
            opt.zero_grad()
            loss(tensors, step, torch).backward()
            opt.step()
            rows.append(flatten({k: t.detach().numpy() for k, t in tensors.items()}))
    finally:
        torch.set_default_dtype(previous)
    return np.stack(rows)


def golden(name: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        return data[name]
