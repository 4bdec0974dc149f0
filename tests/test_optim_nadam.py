"""torch.optim.NAdam: behaviour of its own (contract and parity: tests/test_optimizers.py)."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js
from tests.optim_checks import optimizer_state


def test_mu_product_is_the_product_of_the_momentum_schedule(x64):
    beta1, momentum_decay = 0.9, 0.1
    tx = js.nadam(1e-2, betas=(beta1, 0.999), momentum_decay=momentum_decay)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    for _ in range(5):
        _, state = tx.update({"w": jnp.ones(3)}, state, params)
    inner = optimizer_state(state)
    expected = np.prod([beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)) for t in range(1, 6)])
    assert inner.mu_product.dtype == jnp.float64
    np.testing.assert_allclose(inner.mu_product, expected, rtol=1e-14)


def test_mu_product_is_float32_without_x64():
    inner = optimizer_state(js.nadam().init({"w": jnp.ones(2, jnp.bfloat16)}))
    assert inner.mu_product.dtype == jnp.float32 and jax.tree.leaves(inner.exp_avg)[0].dtype == jnp.float32
