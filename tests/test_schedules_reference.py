"""Schedules vs the reference packages: transformers' schedulers and timm's ``CosineLRScheduler``.

Cases, runners and the timm loader live in ``tests/golden/generate_reference_schedules.py``, which
also stores the references' values in ``tests/golden/reference_schedules.npz``. Every case covers
its whole length, its boundaries and a few steps past the end, in float64 with rtol 1e-10 (atol
1e-15 for values that pass through 0): the references evaluate closed forms in Python floats, so
only float rounding separates them from ours.
"""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.golden.generate_reference_schedules import (
    GOLDEN,
    HF_CASES,
    TIMM_CASES,
    HfCase,
    TimmCase,
    load_timm_cosine,
    run_hf,
    run_timm,
)

S = js.schedules
RTOL, ATOL = 1e-10, 1e-15
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_TRANSFORMERS = HAS_TORCH and importlib.util.find_spec("transformers") is not None
HAS_TIMM = HAS_TORCH and load_timm_cosine() is not None


def hf_jax(case: HfCase):
    return S.hf_schedule(case.name, case.lr, case.num_warmup_steps, case.num_training_steps, **case.kwargs)


def timm_jax(case: TimmCase):
    return S.timm_cosine(case.lr, **case.kwargs)


def assert_schedule_matches(schedule, expected: np.ndarray, name: str) -> None:
    with jax.enable_x64(True):
        ours = np.asarray(jax.jit(schedule())(jnp.arange(len(expected))))
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL, err_msg=name)


def golden(key: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        if key not in data:
            pytest.fail(f"no golden values for {key!r}: run `python tests/golden/generate_reference_schedules.py`")
        return data[key]


@pytest.mark.parametrize("name", sorted(HF_CASES))
def test_transformers_matches_golden(name):
    assert_schedule_matches(lambda: hf_jax(HF_CASES[name]), golden(f"hf.{name}"), name)


@pytest.mark.parametrize("name", sorted(TIMM_CASES))
def test_timm_matches_golden(name):
    assert_schedule_matches(lambda: timm_jax(TIMM_CASES[name]), golden(f"timm.{name}"), name)


@pytest.mark.skipif(not HAS_TRANSFORMERS, reason="transformers not installed (golden values still checked)")
@pytest.mark.parametrize("name", sorted(HF_CASES))
def test_transformers_matches_live(name):
    assert_schedule_matches(lambda: hf_jax(HF_CASES[name]), run_hf(HF_CASES[name]), name)


@pytest.mark.skipif(not HAS_TIMM, reason="timm not installed (golden values still checked)")
@pytest.mark.parametrize("name", sorted(TIMM_CASES))
def test_timm_matches_live(name):
    assert_schedule_matches(lambda: timm_jax(TIMM_CASES[name]), run_timm(TIMM_CASES[name]), name)


# Functions named after transformers' get_* functions without "get_", except where jaxsched had the name already.
RENAMED = {"get_constant_schedule": "constant", "get_wsd_schedule": "warmup_stable_decay"}
STATE_MACHINES = {"reduce_lr_on_plateau", "greedy"}


@pytest.mark.skipif(not HAS_TRANSFORMERS, reason="transformers not installed")
def test_every_transformers_scheduler_name_is_covered():
    import transformers
    from transformers.optimization import TYPE_TO_SCHEDULER_FUNCTION

    for scheduler_type in transformers.SchedulerType:
        if scheduler_type.value in STATE_MACHINES:
            with pytest.raises(ValueError, match=r"reduce_on_plateau|no jaxsched equivalent"):
                S.hf_schedule(scheduler_type, 0.1, 10, 100)
            continue
        reference = TYPE_TO_SCHEDULER_FUNCTION[scheduler_type].__name__
        ours = RENAMED.get(reference, reference.removeprefix("get_"))
        assert ours in S.__all__, f"{scheduler_type.value}: no js.schedules.{ours}"
        covered = {case.name for case in HF_CASES.values()}
        assert scheduler_type.value in covered, f"{scheduler_type.value}: no parity case"


def test_hf_schedule_reduce_on_plateau_points_to_js_reduce_on_plateau():
    with pytest.raises(ValueError, match=r"js\.reduce_on_plateau"):
        S.hf_schedule("reduce_lr_on_plateau", 0.1)


def test_hf_schedule_dispatches_to_the_direct_functions(x64):
    steps = jnp.arange(120)
    pairs = [
        (S.hf_schedule("cosine", 0.1, 10, 100, num_cycles=1.5), S.cosine_schedule_with_warmup(0.1, 10, 100, 1.5)),
        (
            S.hf_schedule("warmup_stable_decay", 0.1, 10, num_stable_steps=50, num_decay_steps=30),
            S.warmup_stable_decay(0.1, 10, 30, num_stable_steps=50),
        ),
        (S.hf_schedule("constant", 0.1), S.constant(0.1)),
    ]
    for dispatched, direct in pairs:
        np.testing.assert_array_equal(dispatched(steps), direct(steps))


ALL_SCHEDULES_OF_LR = {
    "linear": lambda lr: S.linear_schedule_with_warmup(lr, 10, 100),
    "cosine": lambda lr: S.cosine_schedule_with_warmup(lr, 10, 100),
    "hard_restarts": lambda lr: S.cosine_with_hard_restarts_schedule_with_warmup(lr, 10, 100, 3),
    "polynomial": lambda lr: S.polynomial_decay_schedule_with_warmup(lr, 10, 100, power=2.0),
    "constant_with_warmup": lambda lr: S.constant_schedule_with_warmup(lr, 10),
    "inverse_sqrt": lambda lr: S.inverse_sqrt_schedule(lr, 10),
    "cosine_with_min_lr": lambda lr: S.cosine_with_min_lr_schedule_with_warmup(lr, 10, 100, min_lr=1e-3),
    "cosine_warmup_with_min_lr": lambda lr: S.cosine_with_min_lr_schedule_with_warmup_lr_rate(
        lr, 10, 100, min_lr_rate=0.1
    ),
    "wsd": lambda lr: S.warmup_stable_decay(lr, 10, 30, 100, decay_type="1-sqrt", min_lr_ratio=0.1),
    "timm": lambda lr: S.timm_cosine(lr, 20, cycle_mul=1.5, cycle_limit=3, warmup_t=5, warmup_prefix=True),
}


@pytest.mark.parametrize("name", sorted(ALL_SCHEDULES_OF_LR))
def test_jit_vmap_and_no_recompilation(name):
    schedule = ALL_SCHEDULES_OF_LR[name](0.1)
    traces = []

    def traced(step):
        traces.append(step)
        return schedule(step)

    jitted = jax.jit(traced)
    values = [float(jitted(jnp.int32(k))) for k in range(0, 130, 7)]
    assert len(traces) == 1, "recompiled across steps"
    batch = jax.vmap(schedule)(jnp.arange(130))
    assert batch.shape == (130,)
    np.testing.assert_allclose(np.asarray(batch)[::7], values, rtol=1e-6)
    np.testing.assert_allclose(schedule(jnp.arange(130)), batch, rtol=1e-6)
    assert np.all(np.isfinite(batch))


def test_gradient_with_respect_to_the_base_learning_rate_is_the_multiplier(x64):
    """transformers' schedules are ``lr * multiplier(step)``: d/dlr is the multiplier (min_lr kept absolute)."""
    steps = jnp.arange(130)
    for name, make in [("linear", S.linear_schedule_with_warmup), ("cosine", S.cosine_schedule_with_warmup)]:
        gradient = jax.vmap(lambda k, make=make: jax.grad(lambda lr: make(lr, 10, 100)(k))(0.1))(steps)
        np.testing.assert_allclose(gradient, make(1.0, 10, 100)(steps), rtol=1e-12, atol=1e-15, err_msg=name)
    for name, make in ALL_SCHEDULES_OF_LR.items():
        gradient = jax.vmap(lambda k, make=make: jax.grad(lambda lr: make(lr)(k))(0.1))(steps)
        assert np.all(np.isfinite(gradient)), name


def test_timm_t_in_epochs_names_the_unit_of_t_only():
    """timm's _get_lr(t) is one function whichever t_in_epochs says; a timm call ports with the flag as it is."""
    steps = jnp.arange(60)
    kwargs = dict(cycle_mul=1.5, cycle_limit=3, warmup_t=5, warmup_prefix=True)
    np.testing.assert_array_equal(
        S.timm_cosine(0.1, 20, t_in_epochs=False, **kwargs)(steps), S.timm_cosine(0.1, 20, **kwargs)(steps)
    )


def test_integral_float_step_counts_are_accepted(x64):
    steps = jnp.arange(40)
    np.testing.assert_array_equal(
        S.linear_schedule_with_warmup(0.1, 10.0, 22.0)(steps), S.linear_schedule_with_warmup(0.1, 10, 22)(steps)
    )
    np.testing.assert_array_equal(
        S.timm_cosine(0.1, 22.0, warmup_t=3.0)(steps), S.timm_cosine(0.1, 22, warmup_t=3)(steps)
    )


@pytest.mark.parametrize(
    "make, argument, error",
    [
        (lambda: S.linear_schedule_with_warmup(0.1, 10, 22.5), "num_training_steps", TypeError),
        (lambda: S.linear_schedule_with_warmup(0.1, -1, 22), "num_warmup_steps", ValueError),
        (lambda: S.cosine_schedule_with_warmup(0.1, 10, 100, num_cycles=float("nan")), "num_cycles", ValueError),
        (lambda: S.cosine_with_hard_restarts_schedule_with_warmup(0.1, 10, 100, 0), "num_cycles", ValueError),
        (lambda: S.polynomial_decay_schedule_with_warmup(0.1, 10, 100, lr_end=0.2), "lr_end", ValueError),
        (lambda: S.polynomial_decay_schedule_with_warmup(0.1, 10, 10), "num_training_steps", ValueError),
        (lambda: S.polynomial_decay_schedule_with_warmup(0.1, 10, 100, power=-1.0), "power", ValueError),
        (lambda: S.inverse_sqrt_schedule(0.1, 10, timescale=0), "timescale", ValueError),
        (lambda: S.cosine_with_min_lr_schedule_with_warmup(0.1, 10, 100), "min_lr", ValueError),
        (
            lambda: S.cosine_with_min_lr_schedule_with_warmup(0.1, 10, 100, min_lr=0.0, min_lr_rate=0.0),
            "min_lr",
            ValueError,
        ),
        (
            lambda: S.cosine_with_min_lr_schedule_with_warmup_lr_rate(0.1, 10, 100, min_lr_rate="x"),
            "min_lr_rate",
            TypeError,
        ),
        (lambda: S.warmup_stable_decay(0.1, 10, 30), "num_stable_steps", ValueError),
        (lambda: S.warmup_stable_decay(0.1, 10, 30, 20), "num_training_steps", ValueError),
        (lambda: S.warmup_stable_decay(0.1, 10, 30, 100, decay_type="sqrt"), "decay_type", ValueError),
        (lambda: S.warmup_stable_decay(0.1, 10, 30, 100, warmup_type="exp"), "warmup_type", ValueError),
        (lambda: S.warmup_stable_decay(0.1, 10, 30, 100, min_lr_ratio=1.5), "min_lr_ratio", ValueError),
        (lambda: S.hf_schedule("cosine_annealing", 0.1, 10, 100), "name", ValueError),
        (lambda: S.hf_schedule("linear", 0.1, None, 100), "num_warmup_steps", ValueError),
        (lambda: S.hf_schedule("cosine", 0.1, 10), "num_training_steps", ValueError),
        (lambda: S.hf_schedule("linear", 0.1, 10, 100, power=2.0), "power", TypeError),
        (lambda: S.timm_cosine(0.1, 0), "t_initial", ValueError),
        (lambda: S.timm_cosine(0.1, 10.5), "t_initial", TypeError),
        (lambda: S.timm_cosine(0.1, 10, lr_min=-1.0), "lr_min", ValueError),
        (lambda: S.timm_cosine(0.1, 10, cycle_mul=0.0), "cycle_mul", ValueError),
        (lambda: S.timm_cosine(0.1, 10, cycle_limit=-1), "cycle_limit", ValueError),
        (lambda: S.timm_cosine(0.1, 10, warmup_t=2.5), "warmup_t", TypeError),
        (lambda: S.timm_cosine(0.1, 10, warmup_prefix=1), "warmup_prefix", TypeError),
        (lambda: S.timm_cosine(0.1, 10, k_decay=0.0), "k_decay", ValueError),
        (lambda: S.timm_cosine(0.1, 10, t_in_epochs="no"), "t_in_epochs", TypeError),
        (lambda: S.timm_cosine(0.1, 10, cycle_decay=-0.5), "cycle_decay", ValueError),
        (lambda: S.timm_cosine(0.1, 10, warmup_lr_init=float("nan")), "warmup_lr_init", ValueError),
        (lambda: S.timm_cosine(0.1, 10, noise_range_t=5), "noise_range_t", TypeError),
    ],
)
def test_bad_arguments_raise_at_construction_naming_them(make, argument, error):
    with pytest.raises(error, match=argument):
        make()


@pytest.mark.skipif(not HAS_TRANSFORMERS, reason="transformers not installed")
def test_hard_restarts_switch_at_the_same_steps_as_transformers(x64):
    """Restarts are decided by a float phase ``(num_cycles * p) % 1``: ours must round ``p`` as Python does."""
    from transformers.optimization import _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda as reference

    for training_steps in (7, 28, 55, 70, 196, 214, 220):
        for num_cycles in range(1, 9):
            steps = np.arange(training_steps + 2)
            expected = [
                reference(k, num_warmup_steps=0, num_training_steps=training_steps, num_cycles=num_cycles)
                for k in steps
            ]
            ours = jax.jit(S.cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, training_steps, num_cycles))(steps)
            np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL, err_msg=f"{training_steps}, {num_cycles}")


@pytest.mark.skipif(not HAS_TIMM, reason="timm not installed")
def test_timm_cycles_switch_at_the_same_t_as_timm(x64):
    """With ``cycle_mul != 1`` timm finds the cycle by ``floor(log(x, cycle_mul))`` on floats."""
    import torch

    for t_initial, cycle_mul in [(3, 1.5), (10, 2.0), (16, 0.5), (100, 0.25), (5, 3.0), (20, 1.25), (32, 1.1)]:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=1.0)
        scheduler = load_timm_cosine()(optimizer, t_initial, cycle_mul=cycle_mul, cycle_limit=100)
        steps = [t for t in range(2000) if 1 - t / t_initial * (1 - cycle_mul) > 0]  # timm fails past the end
        expected = [scheduler._get_lr(t)[0] for t in steps]
        ours = jax.jit(S.timm_cosine(1.0, t_initial, cycle_mul=cycle_mul, cycle_limit=100))(jnp.asarray(steps))
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL, err_msg=f"{t_initial}, {cycle_mul}")
