"""Behaviour of js.lars that the generic tests do not reach (its entry in tests/optim_db.py has parity, contract, invariants)."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes


def test_without_momentum_keeps_dtypes_and_no_buffer():
    # the table's example has momentum: this is the other compiled path
    assert_mixed_pytree_keeps_dtypes(js.lars(0.1, momentum=0.0))
    assert js.lars(momentum=0.0).init({"w": jnp.ones((2, 2))}).inner_state == js.LarsState(None)


def test_vectors_and_scalars_are_plain_sgd(x64):
    tx = js.lars(0.5, weight_decay=0.3, momentum=0.0, trust_coefficient=0.01)
    params = {"vector": jnp.asarray([1.0, 2.0]), "scalar": jnp.asarray(3.0), "matrix": jnp.asarray([[3.0, 4.0]])}
    grads = {"vector": jnp.asarray([0.5, -1.0]), "scalar": jnp.asarray(2.0), "matrix": jnp.asarray([[0.0, 1.0]])}
    updates, _ = tx.update(grads, tx.init(params), params)
    np.testing.assert_allclose(updates["vector"], [-0.25, 0.5])
    np.testing.assert_allclose(updates["scalar"], -1.0)
    trust = 0.01 * 5.0 / (1.0 + 0.3 * 5.0)
    np.testing.assert_allclose(updates["matrix"], [[-0.5 * trust * 0.9, -0.5 * trust * 2.2]])
