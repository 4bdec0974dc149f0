"""Schedules vs torch.optim.lr_scheduler: live torch, stored golden values, torch's own expectations.

torch side: SGD on one dummy parameter; ``param_groups[0]['lr']`` (and ``['momentum']``) is recorded
before each ``scheduler.step()``, so row k is the value torch's k-th ``optimizer.step()`` uses and
must equal ``schedule(k)``. ``tests/golden/generate_schedules.py`` stores these rows from torch in
``tests/golden/schedules.npz``.

Tolerance: torch computes most schedulers recursively (lr_k from lr_{k-1}); e.g. its recursive
CosineAnnealingLR equals the closed form only approximately. All comparisons against recorded torch
values use rtol 1e-9 (plus atol 1e-12 for values that pass through 0), in float64.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import pathlib
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js

S = js.schedules
GOLDEN = pathlib.Path(__file__).parent / "golden" / "schedules.npz"
HAS_TORCH = importlib.util.find_spec("torch") is not None
STEPS = 300
RTOL, ATOL = 1e-9, 1e-12


@dataclasses.dataclass
class TorchCase:
    """``jax()`` -> lr schedule, or (lr schedule, momentum schedule); ``torch(optimizer)`` -> scheduler."""

    jax: Callable[[], Any]
    torch: Callable[[Any], Any]
    lr: float = 0.1
    steps: int = STEPS
    momentum: bool = False


def _sched(name, *args, **kwargs):
    def make(optimizer):
        import torch

        return getattr(torch.optim.lr_scheduler, name)(optimizer, *args, **kwargs)

    return make


def _sequential(parts, milestones):
    def make(optimizer):
        import torch

        return torch.optim.lr_scheduler.SequentialLR(optimizer, [p(optimizer) for p in parts], milestones)

    return make


def _chained(parts):
    def make(optimizer):
        import torch

        return torch.optim.lr_scheduler.ChainedScheduler([p(optimizer) for p in parts])

    return make


def _torch_multiplier(epoch):
    return 0.99 if epoch % 3 else 1.02


CASES = {
    "step_lr": TorchCase(lambda: S.step_decay(0.1, 30, 0.5), _sched("StepLR", step_size=30, gamma=0.5)),
    "multistep_lr_unsorted": TorchCase(
        lambda: S.multistep_decay(0.1, [120, 10, 50, 10], 0.3), _sched("MultiStepLR", [120, 10, 50, 10], gamma=0.3)
    ),
    "multistep_lr_repeated": TorchCase(
        lambda: S.multistep_decay(0.1, [10, 50, 50, 120], 0.3), _sched("MultiStepLR", [10, 50, 50, 120], gamma=0.3)
    ),
    "constant_lr": TorchCase(
        lambda: S.piecewise_constant([40 - 1], [0.1 * 0.25, 0.1]), _sched("ConstantLR", factor=0.25, total_iters=40)
    ),
    "linear_lr": TorchCase(
        lambda: S.linear(0.1 * 0.2, 0.1 * 0.9, 100),
        _sched("LinearLR", start_factor=0.2, end_factor=0.9, total_iters=100),
    ),
    "exponential_lr": TorchCase(lambda: S.exponential_decay(0.1, 0.98), _sched("ExponentialLR", gamma=0.98)),
    "polynomial_lr": TorchCase(
        lambda: S.polynomial_decay(0.1, 200, power=2.0), _sched("PolynomialLR", total_iters=200, power=2.0)
    ),
    "cosine_annealing_lr": TorchCase(
        lambda: S.cosine_annealing(0.1, 70, 0.001), _sched("CosineAnnealingLR", T_max=70, eta_min=0.001)
    ),
    **{
        f"warm_restarts_mult{m}": TorchCase(
            lambda m=m: S.cosine_annealing_warm_restarts(0.1, 13, m, 0.002),
            _sched("CosineAnnealingWarmRestarts", T_0=13, T_mult=m, eta_min=0.002),
        )
        for m in (1, 2, 3)
    },
    "cyclic_triangular": TorchCase(
        lambda: (S.cyclic(0.01, 0.1, 20), S.cyclic_momentum(0.8, 0.9, 20)),
        _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=20),
        momentum=True,
    ),
    "cyclic_triangular2_up_down": TorchCase(
        lambda: (
            S.cyclic(0.01, 0.1, 15, 35, mode="triangular2"),
            S.cyclic_momentum(0.7, 0.95, 15, 35, mode="triangular2"),
        ),
        _sched(
            "CyclicLR",
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=15,
            step_size_down=35,
            mode="triangular2",
            base_momentum=0.7,
            max_momentum=0.95,
        ),
        momentum=True,
    ),
    "cyclic_exp_range": TorchCase(
        lambda: (
            S.cyclic(0.01, 0.1, 10, 25, mode="exp_range", gamma=0.995),
            S.cyclic_momentum(0.8, 0.9, 10, 25, mode="exp_range", gamma=0.995),
        ),
        _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=10, step_size_down=25, mode="exp_range", gamma=0.995),
        momentum=True,
    ),
    "cyclic_scale_fn_cycle": TorchCase(
        lambda: (
            S.cyclic(0.01, 0.1, 12, scale_fn=lambda c: 1.0 / (1.0 + c)),
            S.cyclic_momentum(0.8, 0.9, 12, scale_fn=lambda c: 1.0 / (1.0 + c)),
        ),
        _sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=12, scale_fn=lambda c: 1.0 / (1.0 + c)),
        momentum=True,
    ),
    "cyclic_scale_fn_iterations": TorchCase(
        lambda: S.cyclic(0.01, 0.1, 7, 9, scale_fn=lambda i: 0.997**i, scale_mode="iterations"),
        _sched(
            "CyclicLR",
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=7,
            step_size_down=9,
            scale_fn=lambda i: 0.997**i,
            scale_mode="iterations",
        ),
    ),
    "one_cycle_cos": TorchCase(
        lambda: (S.one_cycle(0.1, STEPS), S.one_cycle_momentum(STEPS)),
        _sched("OneCycleLR", 0.1, total_steps=STEPS),
        momentum=True,
    ),
    "one_cycle_linear": TorchCase(
        lambda: (
            S.one_cycle(0.1, STEPS, pct_start=0.25, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0),
            S.one_cycle_momentum(STEPS, 0.8, 0.97, pct_start=0.25, anneal_strategy="linear"),
        ),
        _sched(
            "OneCycleLR",
            0.1,
            total_steps=STEPS,
            pct_start=0.25,
            anneal_strategy="linear",
            div_factor=10.0,
            final_div_factor=100.0,
            base_momentum=0.8,
            max_momentum=0.97,
        ),
        momentum=True,
    ),
    "one_cycle_three_phase": TorchCase(
        lambda: (
            S.one_cycle(0.1, STEPS, pct_start=0.35, three_phase=True),
            S.one_cycle_momentum(STEPS, pct_start=0.35, three_phase=True),
        ),
        _sched("OneCycleLR", 0.1, total_steps=STEPS, pct_start=0.35, three_phase=True),
        momentum=True,
    ),
    "lambda_lr": TorchCase(
        lambda: S.lambda_lr(0.1, lambda e: 1 / (1 + 0.05 * e)), _sched("LambdaLR", lambda e: 1 / (1 + 0.05 * e))
    ),
    "multiplicative_lr": TorchCase(
        lambda: S.multiplicative(0.1, lambda e: jnp.where(e % 3 == 0, 1.02, 0.99)),
        _sched("MultiplicativeLR", _torch_multiplier),
    ),
    "sequential_lr": TorchCase(
        lambda: S.join(
            [S.linear(0.01, 0.1, 20), S.cosine_annealing(0.1, 100, 0.001), S.exponential_decay(0.1, 0.99)], [20, 150]
        ),
        _sequential(
            [
                _sched("LinearLR", start_factor=0.1, total_iters=20),
                _sched("CosineAnnealingLR", T_max=100, eta_min=0.001),
                _sched("ExponentialLR", gamma=0.99),
            ],
            [20, 150],
        ),
    ),
    "chained_scheduler": TorchCase(
        lambda: S.product(
            S.linear(0.04, 0.1, 30), S.multistep_decay(1.0, [40, 80, 200], 0.5), S.exponential_decay(1.0, 0.999)
        ),
        _chained(
            [
                _sched("LinearLR", start_factor=0.4, total_iters=30),
                _sched("MultiStepLR", [40, 80, 200], gamma=0.5),
                _sched("ExponentialLR", gamma=0.999),
            ]
        ),
    ),
    "warmup_cosine_sequential": TorchCase(
        lambda: S.warmup(S.cosine_annealing(0.1, 250), 50, start_value=0.1 * 0.01),
        _sequential(
            [_sched("LinearLR", start_factor=0.01, total_iters=50), _sched("CosineAnnealingLR", T_max=250)], [50]
        ),
    ),
}


def run_torch(case: TorchCase) -> np.ndarray:
    """Rows ``[lr, momentum]`` torch uses at steps 0..steps-1 (float64)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        param = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([param], lr=case.lr, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SequentialLR's deprecation notices
            scheduler = case.torch(optimizer)
            rows = []
            for _ in range(case.steps):
                group = optimizer.param_groups[0]
                rows.append([float(group["lr"]), float(group["momentum"])])
                optimizer.step()
                scheduler.step()
    finally:
        torch.set_default_dtype(previous)
    return np.array(rows, np.float64)


def run_jax(case: TorchCase) -> dict[str, np.ndarray]:
    with jax.enable_x64(True):
        made = case.jax()
        lr_schedule, momentum_schedule = made if isinstance(made, tuple) else (made, None)
        steps = jnp.arange(case.steps)
        result = {"lr": np.asarray(jax.jit(lr_schedule)(steps))}
        if momentum_schedule is not None:
            result["momentum"] = np.asarray(jax.jit(momentum_schedule)(steps))
    return result


def assert_matches(case: TorchCase, rows: np.ndarray, name: str) -> None:
    ours = run_jax(case)
    assert rows.shape == (case.steps, 2)
    np.testing.assert_allclose(ours["lr"], rows[:, 0], rtol=RTOL, atol=ATOL, err_msg=f"{name}: lr")
    assert case.momentum == ("momentum" in ours)
    if case.momentum:
        np.testing.assert_allclose(ours["momentum"], rows[:, 1], rtol=RTOL, atol=ATOL, err_msg=f"{name}: momentum")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden_torch_values(name):
    with np.load(GOLDEN) as data:
        if name not in data:
            pytest.fail(f"no golden values for {name!r}: run `python tests/golden/generate_schedules.py`")
        rows = data[name]
    assert_matches(CASES[name], rows, name)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_live_torch(name):
    assert_matches(CASES[name], run_torch(CASES[name]), name)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("t_max", [1, 7, 70])
def test_cosine_annealing_equals_torch_closed_form(t_max):
    """Our closed form vs torch's own ``_get_closed_form_lr`` (exact formula, so rtol 1e-13)."""
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD([param], lr=0.1), T_max=t_max, eta_min=0.001)
    expected = []
    for epoch in range(STEPS):
        scheduler.last_epoch = epoch
        expected.append(scheduler._get_closed_form_lr()[0])
    with jax.enable_x64(True):
        ours = np.asarray(S.cosine_annealing(0.1, t_max, 0.001)(jnp.arange(STEPS)))
    np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-15)


# --- torch's own expectations (pytorch/pytorch test/optim/test_lrscheduler.py, first param group,
# base lr 0.05), copied as numbers/formulas; lists longer than the epochs torch checks are cut there.


def _annealing_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _warm_restart_targets(t_mult, iters=100, eta_min=1e-10, t_i=10):
    targets, t_cur = [0.05], 0
    for _ in range(1, iters):
        t_cur += 1
        if t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_mult * t_i
        targets.append(eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
    return targets


_XS = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1]
_XS_UP_DOWN = [0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6]
_TRI2 = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.50, 1.75, 2.00, 1.75]
_TRI2_MOMENTUM = [
    5.0,
    4.0,
    3.0,
    2.0,
    1.0,
    2.0,
    3.0,
    4.0,
    5.0,
    4.5,
    4.0,
    3.5,
    3.0,
    3.5,
    4.0,
    4.5,
    5.0,
    4.75,
    4.5,
    4.25,
    4.0,
    4.25,
]
_TRI2_UP_DOWN = [
    1.0,
    3.0,
    5.0,
    13.0 / 3,
    11.0 / 3,
    9.0 / 3,
    7.0 / 3,
    5.0 / 3,
    1.0,
    2.0,
    3.0,
    8.0 / 3,
    7.0 / 3,
    6.0 / 3,
    5.0 / 3,
    4.0 / 3,
    1.0,
    3.0 / 2,
    2.0,
    11.0 / 6,
    10.0 / 6,
    9.0 / 6,
    8.0 / 6,
    7.0 / 6,
]
_TRI2_UP_DOWN_MOMENTUM = [
    5.0,
    3.0,
    1.0,
    5.0 / 3,
    7.0 / 3,
    3.0,
    11.0 / 3,
    13.0 / 3,
    5.0,
    4.0,
    3.0,
    10.0 / 3,
    11.0 / 3,
    4.0,
    13.0 / 3,
    14.0 / 3,
    5.0,
    4.5,
    4.0,
    25.0 / 6,
    13.0 / 3,
    4.5,
    14.0 / 3,
    29.0 / 6,
]
_ONE_CYCLE_COS = [1, 13, 25] + [_annealing_cos(25, 0.5, k / 7.0) for k in range(1, 7)] + [0.5]
_ONE_CYCLE_COS_MOMENTUM = [22, 11.5, 1] + [_annealing_cos(1, 22, k / 7.0) for k in range(1, 7)] + [22]
_POLY = [(1.0 - x / 5) ** 0.9 * 0.05 for x in range(5)] + [0.0] * 5
_COS_10 = [1e-10 + (0.05 - 1e-10) * (1 + math.cos(math.pi * x / 10)) / 2 for x in range(10)]

PUBLISHED = {
    "test_step_lr": (
        lambda: S.step_decay(0.05, 3, 0.1),
        ([0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005] * 3)[:10],
    ),
    "test_multi_step_lr": (
        lambda: S.multistep_decay(0.05, [2, 5, 9], 0.1),
        ([0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005] * 3)[:10],
    ),
    "test_constantlr": (lambda: S.piecewise_constant([4], [0.025, 0.05]), [0.025] * 5 + [0.05] * 5),
    "test_linearlr": (
        lambda: S.linear(0.05 * 0.5, 0.05, 4),
        [x * 0.05 for x in (0.5, 0.625, 0.75, 0.875)] + [0.05] * 6,
    ),
    "test_get_last_lr_linearlr": (
        lambda: S.linear(0.05 * 0.25, 0.05 * 0.6, 4),
        [0.05 * (0.25 + i * (0.6 - 0.25) / 4) for i in range(4)] + [0.05 * 0.6] * 6,
    ),
    "test_exp_lr": (lambda: S.exponential_decay(0.05, 0.9), [0.05 * 0.9**x for x in range(10)]),
    "test_poly_lr": (lambda: S.polynomial_decay(0.05, 5, power=0.9), _POLY),
    "test_cos_anneal_lr": (lambda: S.cosine_annealing(0.05, 10, 1e-10), _COS_10),
    **{
        f"test_CosineAnnealingWarmRestarts_lr1[T_mult={m}]": (
            lambda m=m: S.cosine_annealing_warm_restarts(0.05, 10, m, 1e-10),
            _warm_restart_targets(m),
        )
        for m in (1, 2, 4)
    },
    "test_cycle_lr_triangular_mode_one_lr": (lambda: S.cyclic(1.0, 5.0, 4), [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3]),
    "test_cycle_lr_triangular_mode_one_lr (momentum)": (
        lambda: S.cyclic_momentum(1.0, 5.0, 4),
        [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3],
    ),
    "test_cycle_lr_triangular2_mode_one_lr": (lambda: S.cyclic(1.0, 5.0, 4, mode="triangular2"), _TRI2),
    "test_cycle_lr_triangular2_mode_one_lr (momentum)": (
        lambda: S.cyclic_momentum(1.0, 5.0, 4, mode="triangular2"),
        _TRI2_MOMENTUM,
    ),
    "test_cycle_lr_exp_range_mode_one_lr": (
        lambda: S.cyclic(1.0, 5.0, 4, mode="exp_range", gamma=0.9),
        [1 + x * 4 * 0.9**i for i, x in enumerate(_XS)],
    ),
    "test_cycle_lr_exp_range_mode_one_lr (momentum)": (
        lambda: S.cyclic_momentum(1.0, 5.0, 4, mode="exp_range", gamma=0.9),
        [5 - x * 4 * 0.9**i for i, x in enumerate(_XS)],
    ),
    "test_cycle_lr_triangular_mode_step_size_up_down": (
        lambda: S.cyclic(1.0, 5.0, 4, 6),
        [1.0, 2.0, 3.0, 4.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0],
    ),
    "test_cycle_lr_triangular_mode_step_size_up_down (momentum)": (
        lambda: S.cyclic_momentum(1.0, 5.0, 4, 6),
        [5.0, 4.0, 3.0, 2.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0],
    ),
    "test_cycle_lr_triangular2_mode_step_size_up_down": (
        lambda: S.cyclic(1.0, 5.0, 2, 6, mode="triangular2"),
        _TRI2_UP_DOWN,
    ),
    "test_cycle_lr_triangular2_mode_step_size_up_down (momentum)": (
        lambda: S.cyclic_momentum(1.0, 5.0, 2, 6, mode="triangular2"),
        _TRI2_UP_DOWN_MOMENTUM,
    ),
    "test_cycle_lr_exp_range_mode_step_size_up_down": (
        lambda: S.cyclic(1.0, 5.0, 2, 6, mode="exp_range", gamma=0.9),
        [1 + x * 4 * 0.9**i for i, x in enumerate(_XS_UP_DOWN)],
    ),
    "test_onecycle_lr_linear_annealing": (
        lambda: S.one_cycle(25.0, 10, anneal_strategy="linear", final_div_factor=2),
        [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5],
    ),
    "test_onecycle_lr_linear_annealing (momentum)": (
        lambda: S.one_cycle_momentum(10, 1.0, 22.0, anneal_strategy="linear"),
        [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22],
    ),
    "test_onecycle_lr_linear_annealing_three_phases": (
        lambda: S.one_cycle(25.0, 10, 0.4, "linear", 25.0, 4.0, three_phase=True),
        [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25],
    ),
    "test_onecycle_lr_linear_annealing_three_phases (momentum)": (
        lambda: S.one_cycle_momentum(10, 1.0, 22.0, 0.4, "linear", three_phase=True),
        [22, 15, 8, 1, 8, 15, 22, 22, 22, 22],
    ),
    "test_onecycle_lr_cosine_annealing": (lambda: S.one_cycle(25.0, 10, final_div_factor=2), _ONE_CYCLE_COS),
    "test_onecycle_lr_cosine_annealing (momentum)": (
        lambda: S.one_cycle_momentum(10, 1.0, 22.0),
        _ONE_CYCLE_COS_MOMENTUM,
    ),
    "test_lambda_lr": (lambda: S.lambda_lr(0.05, lambda x: 0.9**x), [0.05 * 0.9**x for x in range(10)]),
    "test_multiplicative_lr": (lambda: S.multiplicative(0.4, lambda x: 0.8), [0.4 * 0.8**x for x in range(10)]),
    "test_sequentiallr1": (
        lambda: S.join([S.exponential_decay(0.05, 0.8), S.step_decay(0.05, 4, 0.1)], [3]),
        [0.05, 0.04, 0.032] + [0.05] * 4 + [0.005] * 4 + [0.0005] * 4 + [0.00005] * 4,
    ),
    "test_sequentiallr2": (
        lambda: S.join([S.piecewise_constant([2], [0.005, 0.05]), S.exponential_decay(0.05, 0.9)], [3]),
        [0.005] * 3 + [0.05 * 0.9**x for x in range(10)],
    ),
    "test_sequentiallr3": (
        lambda: S.join(
            [S.piecewise_constant([2], [0.005, 0.05]), S.exponential_decay(0.05, 0.8), S.step_decay(0.05, 2, 0.1)],
            [3, 6],
        ),
        [0.005] * 3 + [0.05, 0.04, 0.032] + [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005],
    ),
    "test_sequentiallr5": (
        lambda: S.join(
            [
                S.product(S.linear(0.05 * 0.1, 0.05, 5), S.piecewise_constant([4], [0.1, 1.0])),
                S.piecewise_constant([4], [0.025, 0.05]),
            ],
            [5],
        ),
        [0.0005, 0.0014, 0.0023, 0.0032, 0.0041] + [0.025] * 5,
    ),
    "test_chained_lr3": (
        lambda: S.product(S.linear(0.02, 0.05, 3), S.multistep_decay(1.0, [4, 8, 10], 0.1)),
        ([0.02, 0.03, 0.04, 0.05] + [0.005] * 4 + [0.0005] * 3 + [0.00005] * 3)[:10],
    ),
    "test_chained_lr4": (
        lambda: S.product(
            S.exponential_decay(0.05, 0.9), S.piecewise_constant([3], [0.2, 1.0]), S.step_decay(1.0, 3, 0.1)
        ),
        [0.05 * 0.2 * 0.9**x for x in range(3)]
        + [0.05 * 0.2 * 0.9**3 * 0.1]
        + [0.05 * 0.9**x * 0.1 for x in range(4, 6)]
        + [0.05 * 0.9**x * 0.01 for x in range(6, 9)],
    ),
    "test_chained_lr5": (
        lambda: S.product(S.polynomial_decay(0.05, 5, power=0.9), S.piecewise_constant([4], [0.1, 1.0])),
        [x * 0.1 for x in _POLY],
    ),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_torch_published_expectations(name):
    make, expected = PUBLISHED[name]
    with jax.enable_x64(True):
        # One step shape for every case lets jax reuse its compiled primitives across cases.
        ours = np.asarray(make()(jnp.arange(STEPS)))[: len(expected)]
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14, err_msg=name)
