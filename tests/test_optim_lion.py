"""Behaviour of js.lion that the generic tests do not reach (its entry in tests/optim_db.py has parity, contract, invariants)."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes
from tests.optim_db import steplr


def test_decoupled_weight_decay_keeps_dtypes():
    # the table's example runs without it: its weight decay divides by the initial learning rate
    assert_mixed_pytree_keeps_dtypes(js.lion(1e-2, decoupled_weight_decay=True, weight_decay=1e-3))


def test_zero_weight_decay_needs_no_params_and_is_fixed():
    tx = js.lion(1e-2)
    state = tx.init({"w": jnp.ones(3)})
    updates, _ = tx.update({"w": jnp.asarray([1.0, -2.0, 0.0])}, state)
    np.testing.assert_allclose(updates["w"], [-1e-2, 1e-2, 0.0], rtol=1e-6)
    with pytest.raises(Exception, match="weight_decay"):
        js.set_hyperparams(state, weight_decay=0.1)


def test_decoupled_weight_decay_divides_by_the_initial_learning_rate(x64):
    params = {"w": jnp.asarray([2.0])}
    for learning_rate in (0.5, steplr(0.5)):
        tx = js.lion(learning_rate, weight_decay=0.1, decoupled_weight_decay=True)
        updates, _ = tx.update({"w": jnp.asarray([0.0])}, tx.init(params), params)
        np.testing.assert_allclose(updates["w"], [-0.1 * 2.0])  # lr * (wd / initial lr) * p
