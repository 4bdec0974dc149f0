"""Long runs: no drift over 10 million scanned steps, finite and correct values at the int32 limit."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js
from jaxsched.core._base import increment_step, zero_step
from tests.optim_checks import replace_optimizer_state

S = js.schedules
TEN_MILLION = 10_000_000
INT32_MAX = np.iinfo(np.int32).max


def long_schedule():
    """Warmup, then SGDR restarts with doubling periods, times a slow exponential decay."""
    restarts = S.cosine_annealing_warm_restarts(0.1, 1000, t_mult=2, eta_min=1e-4)
    return S.product(S.warmup(restarts, 5000), S.exponential_decay(1.0, 0.5, decay_steps=3_000_000))


def test_ten_million_scanned_steps_do_not_drift_from_float64():
    schedule = long_schedule()

    def body(step, _):  # the counter an optimizer carries, one increment per update
        return increment_step(step), schedule(step)

    _, values = jax.jit(lambda: jax.lax.scan(body, zero_step(), None, length=TEN_MILLION, unroll=16))()
    values = np.asarray(values)
    assert values.dtype == np.float32
    with jax.enable_x64(True):
        reference = np.asarray(jax.jit(schedule)(jnp.arange(TEN_MILLION, dtype=jnp.int64)))
    assert reference.dtype == np.float64
    assert np.all(np.isfinite(values))
    # float32 rounding only: relative 1e-5, plus 1e-7 of the peak value where a cosine touches its floor
    np.testing.assert_allclose(values, reference, rtol=1e-5, atol=1e-7 * 0.1)
    # no drift: the error late in the run is no larger than early on
    error = np.abs(values - reference)
    assert error[-1_000_000:].max() <= 2 * error[:1_000_000].max()


def test_optimizer_runs_across_the_int32_limit():
    schedule = S.cosine_annealing(0.1, 1000, eta_min=0.01)
    tx = js.adam(schedule)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    near_limit = jnp.asarray(INT32_MAX - 5, jnp.int32)
    state = replace_optimizer_state(state._replace(step=near_limit), step=near_limit)
    step = jax.jit(tx.update)
    for _i in range(10):
        updates, state = step({"w": jnp.full(3, 0.5)}, state, params)
        params = js.apply_updates(params, updates)
        assert np.all(np.isfinite(np.asarray(params["w"])))
    assert int(state.step) == INT32_MAX
    expected = 0.01 + 0.09 * (1 + np.cos(np.pi * (INT32_MAX % 2000) / 1000)) / 2
    np.testing.assert_allclose(float(js.get_hyperparams(state)["learning_rate"]), expected, rtol=1e-5)
