"""Schedule properties (hypothesis), transformations (jit/vmap/grad), dtypes, long runs, validation."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxsched as js

S = js.schedules
FEW = settings(max_examples=25, deadline=None)
STEPS = jnp.arange(400)

# One instance of every schedule (float parameters exactly representable in float32).
ALL = {
    "constant": lambda: S.constant(0.5),
    "linear": lambda: S.linear(0.25, 1.0, 100),
    "step_decay": lambda: S.step_decay(1.0, 30, 0.5),
    "multistep_decay": lambda: S.multistep_decay(1.0, [10, 50, 50], 0.5),
    "exponential_decay": lambda: S.exponential_decay(1.0, 0.5, 2**28, end_value=0.0625),
    "polynomial_decay": lambda: S.polynomial_decay(1.0, 2**30, 0.125, 2.0, cycle=True),
    "inverse_time_decay": lambda: S.inverse_time_decay(1.0, 0.5, 2**20, staircase=True),
    "natural_exp_decay": lambda: S.natural_exp_decay(1.0, 0.5, 2**28),
    "inverse_sqrt_decay": lambda: S.inverse_sqrt_decay(1.0),
    "cosine_annealing": lambda: S.cosine_annealing(1.0, 997, 0.125),
    "cosine_decay": lambda: S.cosine_decay(1.0, 2**31 - 5, 0.125),
    "cosine_annealing_warm_restarts": lambda: S.cosine_annealing_warm_restarts(1.0, 13, 2, 0.125),
    "cosine_annealing_warm_restarts_mult1": lambda: S.cosine_annealing_warm_restarts(1.0, 1001, 1),
    "cosine_decay_restarts": lambda: S.cosine_decay_restarts(1.0, 10, 1.5, 0.75, 0.125),
    "cosine_decay_restarts_mul2": lambda: S.cosine_decay_restarts(1.0, 7, 2.0, 1.0, 0.125),
    "linear_cosine_decay": lambda: S.linear_cosine_decay(1.0, 2**31 - 1, 3.0, 0.125),
    "noisy_linear_cosine_decay": lambda: S.noisy_linear_cosine_decay(1.0, 1000, jax.random.key(0), 0.25),
    "cyclic": lambda: S.cyclic(0.125, 1.0, 1999, 3001),
    "cyclic_exp_range": lambda: S.cyclic(0.125, 1.0, 1000, mode="exp_range", gamma=1.0),
    "cyclic_momentum": lambda: S.cyclic_momentum(0.75, 1.0, 777, mode="triangular2"),
    "one_cycle": lambda: S.one_cycle(1.0, 2**31 - 1),
    "one_cycle_momentum": lambda: S.one_cycle_momentum(2**31 - 1, three_phase=True, anneal_strategy="linear"),
    "lambda_lr": lambda: S.lambda_lr(1.0, lambda s: 1.0 / (1.0 + (s % 1000))),
    "piecewise_constant": lambda: S.piecewise_constant([100, 2**31 - 2], [1.0, 0.5, 0.25]),
    "piecewise_linear": lambda: S.piecewise_linear([0, 2**30, 2**31 - 1], [1.0, 0.5, 0.25]),
    "join": lambda: S.join([S.constant(1.0), S.cosine_annealing(1.0, 1000)], [2**30 + 3]),
    "warmup": lambda: S.warmup(S.cosine_decay(1.0, 2**30), 2**20, 0.125),
    "product": lambda: S.product(S.cyclic(0.5, 1.0, 500), S.step_decay(1.0, 2**29, 0.5)),
    "per_epoch": lambda: S.per_epoch(S.cosine_annealing(1.0, 1000), 7),
}
LONG_STEPS = np.array([0, 1, 2**24 + 1, 2**30 + 12345, 2**31 - 1001, 2**31 - 2, 2**31 - 1], np.int64)


@pytest.mark.parametrize("name", sorted(ALL))
def test_jit_vmap_scalar_vector_agree_and_dtype(name):
    sched = ALL[name]()
    steps = jnp.arange(0, 4000, 37)
    values = sched(steps)
    assert values.dtype == jnp.float32 and values.shape == steps.shape
    # XLA may fuse jitted float32 math differently: equal to float32 rounding of the scale (1.0).
    np.testing.assert_allclose(jax.jit(sched)(steps), values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jax.vmap(sched)(steps), values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose([sched(int(s)) for s in steps[:3]], values[:3], rtol=1e-6, atol=1e-7)
    assert sched(jnp.int32(5)).shape == ()


@pytest.mark.parametrize("name", sorted(set(ALL) - {"noisy_linear_cosine_decay"}))  # noise depends on the dtype
def test_long_runs_float32_equal_float64(name):
    """float32 at steps up to 2**31 - 1 equals the float64 evaluation to 1e-6 relative.

    atol 1e-7 (of the schedules' scale 1.0) only matters next to a cosine minimum of 0, where
    1 + cos(x) cancels in float32 whatever the step.
    """
    float32 = np.asarray(jax.jit(ALL[name]())(jnp.asarray(LONG_STEPS, jnp.int32)), np.float64)
    with jax.enable_x64(True):
        float64 = np.asarray(ALL[name]()(jnp.asarray(LONG_STEPS)))
        assert float64.dtype == np.float64
    np.testing.assert_allclose(float32, float64, rtol=1e-6, atol=1e-7)


def test_long_runs_periodic_schedules_vs_python_reference():
    """Independent float64 references (phases on Python ints) near 2**31 - 1."""
    big = [int(s) for s in LONG_STEPS]
    cos = S.cosine_annealing(1.0, 997, 0.125)
    expected = [0.125 + 0.875 * (1 + math.cos(math.pi * (s % 1994) / 997)) / 2 for s in big]
    np.testing.assert_allclose(cos(jnp.asarray(LONG_STEPS, jnp.int32)), expected, rtol=1e-6)
    cyc = S.cyclic(0.125, 1.0, 1999, 3001)
    rise = [(s % 5000) / 1999 if s % 5000 <= 1999 else (5000 - s % 5000) / 3001 for s in big]
    np.testing.assert_allclose(cyc(jnp.asarray(LONG_STEPS, jnp.int32)), [0.125 + 0.875 * r for r in rise], rtol=1e-6)
    sgdr = S.cosine_annealing_warm_restarts(1.0, 13, 2, 0.125)
    expected = []
    for s in big:
        start, length = 0, 13
        while s >= start + length:
            start, length = start + length, 2 * length
        expected.append(0.125 + 0.875 * (1 + math.cos(math.pi * (s - start) / length)) / 2)
    np.testing.assert_allclose(sgdr(jnp.asarray(LONG_STEPS, jnp.int32)), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda lr: S.cosine_decay(lr, 100)(5),
        lambda lr: S.one_cycle(lr, 100)(40),
        lambda lr: S.cyclic(0.1 * lr, lr, 10)(25),
        lambda lr: S.warmup(S.exponential_decay(lr, 0.9), 10)(15),
        lambda lr: S.multiplicative(lr, lambda i: 0.9)(4),
        lambda lr: S.piecewise_linear([0, 10], [lr, 0.0])(5),
    ],
)
def test_grad_with_respect_to_float_parameters(make):
    grad = jax.grad(make)(0.1)
    eps = 1e-3
    numeric = (make(0.1 + eps) - make(0.1 - eps)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-2)
    assert jax.jit(jax.grad(make))(0.1) == pytest.approx(float(grad), rel=1e-6)


def test_the_api_example_gradient():
    assert float(jax.grad(lambda lr: S.cosine_decay(lr, 100)(5))(0.1)) == pytest.approx(
        0.5 * (1 + math.cos(math.pi * 0.05)), rel=1e-6
    )


def test_int64_steps_under_x64_and_python_ints():
    with jax.enable_x64(True):
        sched = S.cosine_annealing_warm_restarts(1.0, 3, 2)
        assert sched(jnp.arange(10, dtype=jnp.int64)).dtype == jnp.float64
        assert float(sched(2**40)) == pytest.approx(float(sched(jnp.int64(2**40))))
    with pytest.raises(TypeError, match="step"):
        S.constant(1.0)(1.5)


def test_multiplicative_vectorised_and_cost_independent_of_python():
    sched = S.multiplicative(1.0, lambda i: jnp.where(i % 2 == 0, 0.5, 2.0))
    np.testing.assert_allclose(sched(jnp.arange(6)), [1, 2, 1, 2, 1, 2])
    assert float(jax.jit(sched)(jnp.int32(1000))) == 1.0


def test_per_epoch_steps_once_per_epoch():
    sched = S.per_epoch(S.step_decay(0.1, 30), 100)
    np.testing.assert_allclose(sched(jnp.array([0, 2999, 3000, 6000])), [0.1, 0.1, 0.01, 0.001], rtol=1e-6)


# --- hypothesis properties ------------------------------------------------------------------------

values = st.floats(0.01, 10.0)
# A fixed length keeps every example the same shape, so jax compiles each operation once.
steps = st.lists(st.integers(0, 10**6), min_size=16, max_size=16)


@FEW
@given(init=values, eta_min=st.floats(0.0, 0.01), t_max=st.integers(1, 500), step=steps)
def test_cosine_schedules_stay_between_eta_min_and_init(init, eta_min, t_max, step):
    s = jnp.asarray(step)
    for sched in (S.cosine_annealing(init, t_max, eta_min), S.cosine_annealing_warm_restarts(init, t_max, 2, eta_min)):
        v = np.asarray(sched(s))
        assert np.all(v >= eta_min * (1 - 1e-6) - 1e-7) and np.all(v <= init * (1 + 1e-6))


@FEW
@given(base=values, span=values, up=st.integers(1, 300), down=st.integers(1, 300), step=steps)
def test_cyclic_bounded_and_periodic(base, span, up, down, step):
    sched = S.cyclic(base, base + span, up, down)
    s = jnp.asarray(step)
    v = np.asarray(sched(s))
    assert np.all(v >= base * (1 - 1e-6)) and np.all(v <= (base + span) * (1 + 1e-6))
    np.testing.assert_allclose(sched(s + up + down), v, rtol=1e-5)


@FEW
@given(t_0=st.integers(1, 100), step=steps)
def test_restarts_periodic_with_unit_multiplier(t_0, step):
    s = jnp.asarray(step)
    for sched in (S.cosine_annealing_warm_restarts(1.0, t_0), S.cosine_decay_restarts(1.0, t_0, 1.0, 1.0, 0.1)):
        np.testing.assert_allclose(sched(s + t_0), sched(s), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(S.cosine_annealing(1.0, t_0)(s + 2 * t_0), S.cosine_annealing(1.0, t_0)(s), atol=1e-6)


@FEW
@given(init=values, period=st.integers(1, 200), power=st.floats(0.0, 3.0), gamma=st.floats(0.0, 1.0))
def test_decays_are_non_increasing(init, period, power, gamma):
    for sched in (
        S.step_decay(init, period, gamma),
        S.multistep_decay(init, [period, period, 2 * period], gamma),
        S.exponential_decay(init, gamma, period),
        S.polynomial_decay(init, period, 0.0, power),
        S.cosine_decay(init, period),
        S.inverse_time_decay(init, gamma, period),
        S.natural_exp_decay(init, gamma, period),
        S.inverse_sqrt_decay(init),
        S.linear(init, 0.0, period),
    ):
        v = np.asarray(sched(STEPS))
        assert np.all(np.diff(v) <= 1e-6 * init)


@FEW
@given(w=st.integers(1, 300), start=st.floats(0.0, 1.0), init=values)
def test_warmup_is_continuous_and_reaches_the_schedule(w, start, init):
    target = S.cosine_decay(init, 1000)
    sched = S.warmup(target, w, start)
    v = np.asarray(sched(jnp.arange(304)))[: w + 3]
    assert v[0] == pytest.approx(start, rel=1e-6, abs=1e-7)
    np.testing.assert_allclose(v[w:], target(jnp.arange(3)), rtol=1e-6)
    assert np.all(np.abs(np.diff(v[: w + 1])) <= abs(init - start) / w * (1 + 1e-5) + 1e-6)


@FEW
@given(boundary=st.integers(1, 10**6), step=steps)
def test_join_restarts_later_schedules_at_their_boundary(boundary, step):
    first, second = S.cosine_annealing(1.0, 77), S.exponential_decay(0.5, 0.99)
    joined = S.join([first, second], [boundary])
    s = np.asarray(step)
    expected = np.where(s < boundary, first(jnp.asarray(s)), second(jnp.asarray(np.maximum(s - boundary, 0))))
    np.testing.assert_allclose(joined(jnp.asarray(s)), expected, rtol=1e-6)
    assert float(joined(boundary)) == pytest.approx(float(second(0)))


@FEW
@given(step=steps, name=st.sampled_from(sorted(ALL)))
def test_vectorised_equals_scalar(step, name):
    sched = ALL[name]()
    v = np.asarray(sched(jnp.asarray(step)))
    np.testing.assert_allclose(v, [float(sched(s)) for s in step], rtol=1e-6, atol=1e-7)


# --- validation -----------------------------------------------------------------------------------

BAD = [
    (lambda: S.step_decay(0.1, 0), "step_size"),
    (lambda: S.step_decay(0.1, 2.5), "step_size"),
    (lambda: S.step_decay(float("nan"), 3), "init_value"),
    (lambda: S.multistep_decay(0.1, [5, 2.5]), "milestones"),
    (lambda: S.multistep_decay(0.1, [-1]), "milestones"),
    (lambda: S.multistep_decay(0.1, 5), "milestones"),
    (lambda: S.exponential_decay(0.1, -0.5), "decay_rate"),
    (lambda: S.exponential_decay(0.1, 0.5, 0), "decay_steps"),
    (lambda: S.exponential_decay(0.1, 0.5, staircase="yes"), "staircase"),
    (lambda: S.polynomial_decay(0.1, 10, power=-1.0), "power"),
    (lambda: S.linear(0.0, 1.0, 0), "total_steps"),
    (lambda: S.cosine_annealing(0.1, 0), "t_max"),
    (lambda: S.cosine_decay(0.1, -3), "decay_steps"),
    (lambda: S.cosine_annealing_warm_restarts(0.1, 0), "t_0"),
    (lambda: S.cosine_annealing_warm_restarts(0.1, 10, 0), "t_mult"),
    (lambda: S.cosine_annealing_warm_restarts(0.1, 10, 1.5), "t_mult"),
    (lambda: S.cosine_decay_restarts(0.1, 10, t_mul=0.5), "t_mul"),
    (lambda: S.cosine_decay_restarts(0.1, 10, t_mul=1.0000001), "t_mul"),
    (lambda: S.noisy_linear_cosine_decay(0.1, 10, key=3), "key"),
    (lambda: S.noisy_linear_cosine_decay(0.1, 10, jax.random.key(0), initial_variance=-1.0), "initial_variance"),
    (lambda: S.cyclic(0.1, 1.0, 0), "step_size_up"),
    (lambda: S.cyclic(0.1, 1.0, 5, 0), "step_size_down"),
    (lambda: S.cyclic(0.1, 1.0, mode="CATS"), "mode"),
    (lambda: S.cyclic(0.1, 1.0, scale_fn=lambda c: 1.0, scale_mode="epochs"), "scale_mode"),
    (lambda: S.cyclic(0.1, 1.0, scale_fn=3.0), "scale_fn"),
    (lambda: S.cyclic_momentum(float("inf")), "base_momentum"),
    (lambda: S.one_cycle(0.1, 0), "total_steps"),
    (lambda: S.one_cycle(0.1, 10, pct_start=1.1), "pct_start"),
    (lambda: S.one_cycle(0.1, 10, anneal_strategy="CATS"), "anneal_strategy"),
    (lambda: S.one_cycle(0.1, 10, div_factor=0.0), "div_factor"),
    (lambda: S.one_cycle_momentum(10, three_phase=1), "three_phase"),
    (lambda: S.lambda_lr(0.1, 0.95), "lr_lambda"),
    (lambda: S.multiplicative(0.1, 0.95), "lr_lambda"),
    (lambda: S.piecewise_constant([1, 1], [1.0, 2.0, 3.0]), "boundaries"),
    (lambda: S.piecewise_constant([1, 2], [1.0, 2.0]), "values"),
    (lambda: S.piecewise_linear([], []), "boundaries"),
    (lambda: S.piecewise_linear([0, 5], [1.0]), "values"),
    (lambda: S.join([S.constant(1.0), S.constant(2.0)], []), "boundaries"),
    (lambda: S.join([S.constant(1.0), 2.0], [3]), "schedules"),
    (lambda: S.warmup(S.constant(1.0), -1), "warmup_steps"),
    (lambda: S.warmup(1.0, 3), "schedule"),
    (lambda: S.per_epoch(S.constant(1.0), 0), "steps_per_epoch"),
    (lambda: S.product(S.constant(1.0), "x"), "schedules"),
]


@pytest.mark.parametrize("make, argument", BAD, ids=[f"{i}-{a}" for i, (_, a) in enumerate(BAD)])
def test_bad_arguments_raise_naming_the_argument(make, argument):
    with pytest.raises((ValueError, TypeError), match=argument):
        make()
