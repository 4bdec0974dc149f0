"""torch.optim.Adam / AdamW: behaviour of their own (contract and parity: tests/test_optimizers.py)."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js
from tests.optim_checks import optimizer_state
from tests.optim_db import rising_beta1


def test_amsgrad_keeps_the_maximum_of_the_raw_second_moment():
    tx = js.adam(0.1, betas=(0.9, 0.5), amsgrad=True)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for g in ([4.0, 1.0], [0.0, 2.0]):
        _, state = tx.update({"w": jnp.asarray(g)}, state, params)
    inner = optimizer_state(state)
    # v = 0.5 v + 0.5 g^2: [8, 0.5] then [4, 2.25]; the max is taken of these raw (uncorrected) values.
    np.testing.assert_allclose(inner.exp_avg_sq["w"], [4.0, 2.25])
    np.testing.assert_allclose(inner.max_exp_avg_sq["w"], [8.0, 2.25])


def test_without_amsgrad_the_state_has_no_max_buffer():
    assert optimizer_state(js.adam().init({"w": jnp.zeros(3)})).max_exp_avg_sq is None


def test_adamw_default_decays_and_adam_default_does_not():
    assert float(js.get_hyperparams(js.adamw().init({"w": jnp.zeros(1)}))["weight_decay"]) == np.float32(1e-2)
    params = {"w": jnp.full(3, 2.0)}
    zero_grads = {"w": jnp.zeros(3)}
    adam_updates, _ = js.adam(0.1).update(zero_grads, js.adam(0.1).init(params), params)
    adamw_updates, _ = js.adamw(0.1).update(zero_grads, js.adamw(0.1).init(params), params)
    np.testing.assert_array_equal(adam_updates["w"], 0.0)
    # p *= 1 - lr * wd, with that factor rounded to float32 as torch rounds it for float32 parameters
    np.testing.assert_allclose(adamw_updates["w"], 2.0 * np.float32(1 - 0.1 * 1e-2) - 2.0, rtol=1e-6)


def test_beta_schedule_under_jit_does_not_recompile():
    tx = js.adam(1e-2, betas=(rising_beta1, 0.999))
    params = {"w": jnp.ones(3)}
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(None)
        updates, state = tx.update(jax.tree.map(jnp.cos, params), state, params)
        return js.apply_updates(params, updates), state

    state = tx.init(params)
    for _ in range(4):
        params, state = step(params, state)
    assert len(traces) == 1
    np.testing.assert_allclose(js.get_hyperparams(state)["betas"][0], rising_beta1(4), rtol=1e-6)
