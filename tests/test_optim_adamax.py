"""torch.optim.Adamax: behaviour of its own (contract and parity: tests/test_optimizers.py)."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js
from tests.optim_checks import optimizer_state


def test_infinity_norm_adds_eps_inside_the_max():
    tx = js.adamax(1.0, betas=(0.0, 0.5), eps=0.25)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for g in ([4.0, 1.0], [1.0, 3.0]):
        updates, state = tx.update({"w": jnp.asarray(g)}, state, params)
    # u = max(0.5 u, |g| + eps): [4.25, 1.25] then [max(2.125, 1.25), max(0.625, 3.25)].
    np.testing.assert_allclose(optimizer_state(state).exp_inf["w"], [2.125, 3.25])
    np.testing.assert_allclose(updates["w"], [-1.0 / 2.125, -3.0 / 3.25])  # beta1 = 0: m = g, no correction
