"""Shared harness for optimizer parity with torch: one problem, two runners, stored golden values.

Each test module defines ``CASES = {name: Case(...)}``. ``python tests/golden/generate.py`` runs the
torch side of every case and stores the trajectories in ``tests/golden/optimizers.npz``; tests
compare jaxsched against that file always, and against live torch too when torch is installed.
Gradients come from one numpy formula on both sides, so they are bit-identical for equal params.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

GOLDEN = pathlib.Path(__file__).parent / "golden" / "optimizers.npz"
HAS_TORCH = importlib.util.find_spec("torch") is not None
STEPS = 30
RTOL = 1e-10
ATOL = 1e-12

_rng = np.random.RandomState(0)
# A multi-leaf "model": matrix, vector, scalar and a nested leaf (order = sorted names).
PARAMS0 = {
    "a_matrix": _rng.randn(4, 3),
    "b_vector": _rng.randn(5),
    "c_scalar": np.array(0.7),
    "d_nested": _rng.randn(2, 2, 2),
}
_TARGET = {k: _rng.randn(*v.shape) for k, v in PARAMS0.items()}
_NOISE = {k: _rng.randn(64, *v.shape) for k, v in PARAMS0.items()}


def grads_at(params: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
    """Gradient of a non-convex polynomial loss plus per-step noise (numpy float64)."""
    return {
        k: 0.8 * (p - _TARGET[k]) + 0.1 * p * p * p + 0.3 * _NOISE[k][step % 64]
        for k, p in ((k, np.asarray(v, np.float64)) for k, v in params.items())
    }


def flatten(params: dict[str, Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(params[k], np.float64)) for k in sorted(params)])


@dataclasses.dataclass
class Case:
    """One parity case: a jaxsched optimizer and the torch optimizer (and scheduler) it must equal.

    ``torch_groups`` (optional) maps params to torch param groups; ``grad_mask(step)`` zeroes
    gradient entries; ``jax_grads``/``torch_grads`` (optional) convert each gradient leaf into what
    the optimizer receives (e.g. a BCOO for jaxsched or ``tensor.to_sparse()`` for SparseAdam).
    """

    make_jax: Callable[[], Any]
    torch_optimizer: str
    torch_kwargs: dict
    torch_scheduler: Callable[[Any], Any] | None = None
    torch_groups: Callable[[dict], list] | None = None
    grad_mask: Callable[[int], dict] | None = None
    jax_grads: Callable[[Any], Any] | None = None
    torch_grads: Callable[[Any], Any] | None = None
    steps: int = STEPS


def masked_grads(case: Case, params, step):
    grads = grads_at(params, step)
    if case.grad_mask is not None:
        grads = {k: g * case.grad_mask(step)[k] for k, g in grads.items()}
    return grads


def run_jax(case: Case) -> np.ndarray:
    """Trajectory of flattened params (steps + 1 rows) under jaxsched, in float64."""
    import jaxsched as js

    with jax.enable_x64(True):
        tx = case.make_jax()
        params = {k: jnp.asarray(v, jnp.float64) for k, v in PARAMS0.items()}
        state = tx.init(params)

        @jax.jit
        def step_fn(params, state, grads):
            updates, state = tx.update(grads, state, params)
            return js.apply_updates(params, updates), state

        rows = [flatten(params)]
        for step in range(case.steps):
            grads = {k: (case.jax_grads or jnp.asarray)(g) for k, g in masked_grads(case, params, step).items()}
            params, state = step_fn(params, state, grads)
            rows.append(flatten(params))
    return np.stack(rows)


def run_torch(case: Case) -> np.ndarray:
    """Trajectory of flattened params under the matching torch optimizer, in float64."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # ASGD/NAdam keep internal scalars in the default dtype
    try:
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in PARAMS0.items()}
        groups = case.torch_groups(tensors) if case.torch_groups else [tensors[k] for k in sorted(tensors)]
        optimizer = getattr(torch.optim, case.torch_optimizer)(groups, **case.torch_kwargs)
        scheduler = case.torch_scheduler(optimizer) if case.torch_scheduler else None
        rows = [flatten({k: t.detach().numpy() for k, t in tensors.items()})]
        for step in range(case.steps):
            grads = masked_grads(case, {k: t.detach().numpy() for k, t in tensors.items()}, step)
            for k, t in tensors.items():
                t.grad = (case.torch_grads or (lambda x: x))(torch.from_numpy(np.array(grads[k], np.float64)))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            rows.append(flatten({k: t.detach().numpy() for k, t in tensors.items()}))
    finally:
        torch.set_default_dtype(previous)
    return np.stack(rows)


def golden(name: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        if name not in data:
            raise KeyError(f"no golden trajectory {name!r}: run `python tests/golden/generate.py`")
        return data[name]


def assert_trajectories_close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert actual.shape == expected.shape, f"{what}: shapes {actual.shape} vs {expected.shape}"
    for step, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, err_msg=f"{what}: differs at step {step}")


def torch_scheduler(name: str, *args, **kwargs) -> Callable[[Any], Any]:
    """``optimizer -> torch.optim.lr_scheduler.<name>(optimizer, *args, **kwargs)``, importing torch lazily."""

    def make(optimizer):
        import torch

        return getattr(torch.optim.lr_scheduler, name)(optimizer, *args, **kwargs)

    return make


def parity_tests(cases: dict[str, Case]):
    """The two parity tests of a module's ``CASES``: against stored golden values and live torch."""
    import pytest

    names = sorted(cases)

    @pytest.mark.parametrize("name", names)
    def test_matches_golden_torch_trajectory(name):
        assert_trajectories_close(run_jax(cases[name]), golden(name), name)

    @pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
    @pytest.mark.parametrize("name", names)
    def test_matches_live_torch(name):
        assert_trajectories_close(run_jax(cases[name]), run_torch(cases[name]), name)

    return test_matches_golden_torch_trajectory, test_matches_live_torch


def rising_beta1(step: int):
    """A beta1 schedule for parity cases (0.45, 0.675, ... -> 0.9), written for both jax and Python ints."""
    return 0.9 * (1 - 0.5 ** (step + 1))


def falling_beta2(step: int):
    """A beta2 schedule for parity cases (0.899, 0.919, ... -> 0.999)."""
    return 0.999 - 0.1 * 0.8**step


def torch_group_schedule(key: str, value_at: Callable[[int], Any]) -> Callable[[Any], Any]:
    """``optimizer -> scheduler`` setting every group's ``key`` to ``value_at(epoch)`` (epoch 0 at once).

    torch has no built-in scheduler for hyperparameters such as ``betas``; users assign
    ``param_groups[i][key]`` between steps, which is what this does on each ``step()``.
    """

    class GroupSchedule:
        def __init__(self, optimizer):
            self.optimizer, self.epoch = optimizer, 0
            self.apply()

        def step(self):
            self.epoch += 1
            self.apply()

        def apply(self):
            for group in self.optimizer.param_groups:
                group[key] = value_at(self.epoch)

    return GroupSchedule


def steplr(lr: float) -> Callable[[Any], Any]:
    """The learning rate that :data:`TORCH_STEPLR` (``StepLR(step_size=7, gamma=0.5)``) gives from ``lr``."""
    return lambda step: lr * 0.5 ** (step // 7)


TORCH_STEPLR = torch_scheduler("StepLR", step_size=7, gamma=0.5)


def torch_betas(beta1: Callable[[int], Any], beta2: Callable[[int], Any]) -> Callable[[Any], Any]:
    """The torch side of a ``betas=(beta1, beta2)`` schedule pair: every group's betas set each epoch."""
    return torch_group_schedule("betas", lambda epoch: (beta1(epoch), beta2(epoch)))
