"""torch.optim.RAdam: the rectification switch (contract and parity: tests/test_optimizers.py)."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js


def test_rectification_switches_on_after_rho_t_exceeds_5(x64):
    # beta1 = 0 and eps = 0 with a constant gradient g: m_hat = g and v_hat = g^2, so an update is
    # -lr * g unrectified and -lr * rect * sign(g) rectified.
    lr, beta2, g = 0.1, 0.999, 2.0
    tx = js.radam(lr, betas=(0.0, beta2), eps=0.0)
    params = {"w": jnp.zeros(1)}
    state = tx.init(params)
    rho_inf = 2 / (1 - beta2) - 1
    for t in range(1, 9):
        updates, state = tx.update({"w": jnp.full(1, g)}, state, params)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        assert (rho_t > 5) == (t >= 6)
        if t >= 6:
            rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            expected = -lr * rect
        else:
            expected = -lr * g
        np.testing.assert_allclose(updates["w"], [expected], rtol=1e-12, err_msg=f"update {t}")


def test_unrectified_steps_are_bias_corrected_momentum():
    tx = js.radam(0.5, betas=(0.5, 0.999), eps=1e-8)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    updates, state = tx.update({"w": jnp.asarray([2.0, -1.0])}, state, params)
    np.testing.assert_allclose(updates["w"], [-1.0, 0.5])  # lr * m / (1 - beta1) = lr * g
    updates, _ = tx.update({"w": jnp.asarray([4.0, 1.0])}, state, params)
    np.testing.assert_allclose(updates["w"], [-0.5 * 2.5 / 0.75, -0.5 * 0.25 / 0.75])  # m = [2.5, 0.25]


def test_no_nan_when_rho_inf_makes_rect_undefined():
    # beta2 = 1/3 gives rho_inf = 2, where rect would divide by zero: the unrectified branch is used.
    tx = js.radam(0.1, betas=(0.9, 1 / 3))
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    for _ in range(3):
        updates, state = tx.update({"w": jnp.asarray([1.0, -2.0, 0.0])}, state, params)
        assert np.all(np.isfinite(updates["w"]))
