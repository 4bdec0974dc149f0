"""Property-test your own schedule with jaxsched.testing (copy this file next to your tests).

    pip install hypothesis && python -m pytest examples/property_tests.py   # or: python examples/property_tests.py

The schedule under test is a typical warmup + cosine: linear warmup to `peak`, cosine decay to 0.
"""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxsched as js
from jaxsched.testing import (
    assert_continuous_at,
    assert_no_recompile,
    assert_schedule_bounded,
    assert_schedule_monotone,
)


def warmup_cosine(peak: float, warmup_steps: int, total_steps: int):
    """The schedule under test."""
    return js.schedules.warmup(js.schedules.cosine_decay(peak, total_steps - warmup_steps), warmup_steps)


@settings(max_examples=40, deadline=None)
@given(peak=st.floats(1e-5, 1.0), warmup=st.integers(1, 300), decay=st.integers(1, 3000))
def test_warmup_cosine_properties(peak, warmup, decay):
    total = warmup + decay
    schedule = warmup_cosine(peak, warmup, total)
    tolerance = 1e-6 * peak
    assert_schedule_bounded(schedule, 0.0, peak, total + 50, atol=tolerance)  # never above peak
    assert_schedule_monotone(schedule, np.arange(0, warmup + 1), increasing=True, atol=tolerance)  # warmup rises
    assert_schedule_monotone(schedule, np.arange(warmup, total + 50), atol=tolerance)  # then only decays
    assert_continuous_at(schedule, [warmup], atol=tolerance)  # no jump where the cosine starts
    np.testing.assert_allclose(float(schedule(warmup)), peak, rtol=1e-6)  # peak right after warmup


def test_changing_the_peak_does_not_recompile_a_train_step():
    tx = js.adamw(1e-3)
    params = jnp.ones(4)

    def train_step(state):
        return tx.update(jax.grad(lambda p: jnp.sum(p**2))(params), state, params)

    states = [js.set_hyperparams(tx.init(params), learning_rate=lr) for lr in (1e-3, 3e-4, 1e-4)]
    assert_no_recompile(train_step, *[(s,) for s in states])


if __name__ == "__main__":
    test_warmup_cosine_properties()
    test_changing_the_peak_does_not_recompile_a_train_step()
    print("all properties hold")
