"""torch.optim.Adadelta: behaviour of its own (contract and parity: tests/test_optimizers.py)."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js


def test_default_learning_rate_descends():
    # optax.adadelta() with its default learning_rate=None ascends; torch's lr=1.0 and ours descend
    params = {"w": jnp.array([1.0, -2.0])}
    tx = js.adadelta()
    updates, _ = tx.update(params, tx.init(params), params)  # gradient of |w|^2 / 2 is w
    assert np.all(np.sign(updates["w"]) == -np.sign(params["w"]))
