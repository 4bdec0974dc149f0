"""TensorFlow and d2l schedules vs their formulas, re-implemented here in plain numpy float64.

TensorFlow is not installed: each reference below transcribes the TF source
(tf.keras.optimizers.schedules / tf.compat.v1.train.*_decay) or the d2l book's scheduler classes.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js

S = js.schedules
T = np.arange(0, 400, dtype=np.float64)


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def ours(schedule, steps=T):
    return np.asarray(schedule(jnp.asarray(steps, jnp.int64)))


def close(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15)


# --- TensorFlow references --------------------------------------------------------------------------


def tf_exponential(lr, ds, rate, staircase, t=T):
    p = np.floor(t / ds) if staircase else t / ds
    return lr * rate**p


def tf_polynomial(lr, ds, end, power, cycle, t=T):
    if cycle:
        multiplier = np.where(t == 0, 1.0, np.ceil(t / ds))
        ds = ds * multiplier
    else:
        t = np.minimum(t, ds)
    return (lr - end) * (1 - t / ds) ** power + end


def tf_inverse_time(lr, ds, rate, staircase, t=T):
    p = np.floor(t / ds) if staircase else t / ds
    return lr / (1 + rate * p)


def tf_natural_exp(lr, ds, rate, staircase, t=T):
    p = np.floor(t / ds) if staircase else t / ds
    return lr * np.exp(-rate * p)


def tf_cosine(lr, ds, alpha, t=T):
    t = np.minimum(t, ds)
    return lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * t / ds)) + alpha)


def tf_cosine_restarts(lr, fds, t_mul, m_mul, alpha, t=T):
    cf = t / fds
    if t_mul == 1.0:
        i = np.floor(cf)
        cf = cf - i
    else:
        i = np.floor(np.log(1 - cf * (1 - t_mul)) / np.log(t_mul))
        sum_r = (1 - t_mul**i) / (1 - t_mul)
        cf = (cf - sum_r) / t_mul**i
    return lr * ((1 - alpha) * 0.5 * m_mul**i * (1 + np.cos(np.pi * cf)) + alpha)


def tf_linear_cosine(lr, ds, num_periods, alpha, beta, t=T, noise=0.0):
    t = np.minimum(t, ds)
    linear = (ds - t) / ds + noise
    cosine = 0.5 * (1 + np.cos(np.pi * 2 * num_periods * t / ds))
    return lr * ((alpha + linear) * cosine + beta)


def tf_piecewise_constant(boundaries, values, t=T):
    out = np.full(t.shape, values[-1], np.float64)
    for b, v in reversed(list(zip(boundaries, values))):
        out = np.where(t <= b, v, out)
    return out


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("ds, rate", [(1, 0.98), (7, 0.5), (50, 1.3)])
def test_exponential_decay(ds, rate, staircase):
    close(ours(S.exponential_decay(0.1, rate, ds, staircase)), tf_exponential(0.1, ds, rate, staircase))


def test_exponential_decay_end_value_clips():
    close(ours(S.exponential_decay(0.1, 0.9, 3, end_value=0.01)), np.maximum(tf_exponential(0.1, 3, 0.9, False), 0.01))
    close(ours(S.exponential_decay(0.1, 1.1, 3, end_value=0.5)), np.minimum(tf_exponential(0.1, 3, 1.1, False), 0.5))


@pytest.mark.parametrize("cycle", [False, True])
@pytest.mark.parametrize("ds, end, power", [(100, 0.0, 1.0), (33, 1e-4, 0.5), (64, 0.01, 2.0)])
def test_polynomial_decay(ds, end, power, cycle):
    close(ours(S.polynomial_decay(0.1, ds, end, power, cycle)), tf_polynomial(0.1, ds, end, power, cycle))


def test_polynomial_decay_cycle_step_zero_and_boundaries():
    sched = S.polynomial_decay(1.0, 10, 0.0, 1.0, cycle=True)
    # t = 0 uses multiplier 1 (not ceil(0) = 0); t = 10 ends the first horizon; t = 11 uses 20.
    close(ours(sched, np.array([0, 10, 11, 20, 21])), [1.0, 0.0, 1 - 11 / 20, 0.0, 1 - 21 / 30])


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_and_natural_exp_decay(staircase):
    close(ours(S.inverse_time_decay(0.1, 0.5, 9, staircase)), tf_inverse_time(0.1, 9, 0.5, staircase))
    close(ours(S.natural_exp_decay(0.1, 0.3, 9, staircase)), tf_natural_exp(0.1, 9, 0.3, staircase))


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_cosine_decay(alpha):
    close(ours(S.cosine_decay(0.1, 150, alpha)), tf_cosine(0.1, 150, alpha))


@pytest.mark.parametrize(
    "t_mul, m_mul, alpha", [(1.0, 1.0, 0.0), (2.0, 1.0, 0.0), (2.0, 0.5, 0.1), (1.5, 0.8, 0.05), (3.0, 0.9, 0.0)]
)
def test_cosine_decay_restarts(t_mul, m_mul, alpha):
    close(
        ours(S.cosine_decay_restarts(0.1, 10, t_mul, m_mul, alpha)),
        tf_cosine_restarts(0.1, 10, t_mul, m_mul, alpha),
        rtol=1e-9,
    )


def test_cosine_decay_restarts_restart_steps():
    sched = S.cosine_decay_restarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    # cycles [0, 10), [10, 30), [30, 70): each starts at its peak m_mul**i.
    close(ours(sched, np.array([0, 10, 30, 70])), [1.0, 0.5, 0.25, 0.125])


@pytest.mark.parametrize("num_periods, alpha, beta", [(0.5, 0.0, 0.001), (2.0, 0.1, 0.01)])
def test_linear_cosine_decay(num_periods, alpha, beta):
    close(
        ours(S.linear_cosine_decay(0.1, 300, num_periods, alpha, beta)),
        tf_linear_cosine(0.1, 300, num_periods, alpha, beta),
    )


def test_noisy_linear_cosine_decay_is_pure_and_has_tf_noise():
    steps = np.arange(3000)
    key = jax.random.key(42)
    sched = S.noisy_linear_cosine_decay(0.1, 3000, key, 1.0, 0.55, 0.5, 0.0, 0.001)
    values = ours(sched, steps)
    np.testing.assert_array_equal(values, ours(sched, steps))  # same step -> same value
    np.testing.assert_array_equal(values[[5, 17]], [float(sched(5)), float(sched(17))])
    assert not np.allclose(values, ours(S.noisy_linear_cosine_decay(0.1, 3000, jax.random.key(7)), steps))
    # Without variance it is linear_cosine_decay exactly.
    close(
        ours(S.noisy_linear_cosine_decay(0.1, 3000, key, 0.0), steps),
        tf_linear_cosine(0.1, 3000, 0.5, 0.0, 0.001, steps),
    )
    # The noise, recovered from the TF formula, is N(0, 1 / (1 + t)**0.55).
    t = steps.astype(np.float64)
    cosine = 0.5 * (1 + np.cos(np.pi * t / 3000))
    keep = cosine > 0.05
    noise = (values / 0.1 - 0.001) / cosine - (3000 - t) / 3000
    standardized = (noise * np.sqrt((1 + t) ** 0.55))[keep]
    assert abs(standardized.mean()) < 0.1 and abs(standardized.std() - 1) < 0.1


def test_piecewise_constant_tf_boundary_semantics():
    boundaries, values = [10, 20, 35], [1.0, 0.5, 0.1, 0.01]
    close(ours(S.piecewise_constant(boundaries, values)), tf_piecewise_constant(boundaries, values))
    # The boundary step itself keeps the earlier value.
    close(
        ours(S.piecewise_constant(boundaries, values), np.array([10, 11, 20, 21, 35, 36])),
        [1.0, 0.5, 0.5, 0.1, 0.1, 0.01],
    )


# --- d2l references (chapter "Learning Rate Scheduling"); their lr at epoch e is what training uses ---


class D2LFactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor, self.stop_factor_lr, self.base_lr = factor, stop_factor_lr, base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class D2LCosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig, self.max_update, self.final_lr = base_lr, max_update, final_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = (
                self.final_lr
                + (self.base_lr_orig - self.final_lr)
                * (1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps))
                / 2
            )
        return self.base_lr


def test_d2l_square_root():
    close(ours(S.inverse_sqrt_decay(0.1)), 0.1 * (T + 1.0) ** -0.5)


def test_d2l_factor_with_floor():
    d2l = D2LFactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
    # d2l's training loop sets lr = scheduler(epoch) after epoch `epoch`, so epoch e uses call e - 1.
    expected = [2.0] + [d2l(e) for e in range(len(T) - 1)]
    close(ours(S.exponential_decay(2.0, 0.9, end_value=1e-2)), expected, rtol=1e-10)


def test_d2l_multi_factor():
    steps, factor, base = [15, 30], 0.5, 0.5
    expected = [base * factor ** sum(t > s for s in steps) for t in T]
    close(ours(S.piecewise_constant(steps, [base * factor**i for i in range(len(steps) + 1)])), expected)


@pytest.mark.parametrize("warmup_steps", [0, 5])
def test_d2l_cosine_with_warmup(warmup_steps):
    d2l = D2LCosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01, warmup_steps=warmup_steps, warmup_begin_lr=0.02)
    expected = [d2l(e) for e in range(40)]
    sched = S.warmup(S.cosine_decay(0.3, 20 - warmup_steps, 0.01 / 0.3), warmup_steps, start_value=0.02)
    close(ours(sched, np.arange(40)), expected, rtol=1e-12)
