"""torch.optim.SparseAdam: BCOO and absent entries (contract and parity: tests/test_optimizers.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse

import jaxsched as js
from tests.optim_checks import optimizer_state


def test_has_no_weight_decay():
    with pytest.raises(TypeError, match="weight_decay"):
        js.sparse_adam(weight_decay=0.1)


def test_absent_entries_keep_moments_and_params_while_the_step_counts_on():
    tx = js.sparse_adam(0.1)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    updates, state = tx.update({"w": jnp.asarray([1.0, 0.0, 2.0])}, state, params)
    assert updates["w"][1] == 0 and updates["w"][0] != 0
    updates, state = tx.update({"w": jnp.zeros(3)}, state, params)  # nothing present
    np.testing.assert_array_equal(updates["w"], 0.0)
    inner = optimizer_state(state)
    assert int(inner.step) == 2
    np.testing.assert_allclose(inner.exp_avg["w"], [0.1, 0.0, 0.2], rtol=1e-6)


def test_bcoo_and_dense_gradients_in_one_tree_under_jit():
    tx = js.sparse_adam(0.1)
    params = {"embedding": jnp.ones((4, 2)), "dense": jnp.ones(3), "unused": None}
    dense_grad = jnp.zeros((4, 2)).at[1].set(jnp.asarray([0.5, 0.0]))
    grads = {
        "embedding": sparse.BCOO.fromdense(dense_grad, nse=3),
        "dense": jnp.asarray([1.0, 0.0, 2.0]),
        "unused": None,
    }
    updates, _state = jax.jit(tx.update)(grads, tx.init(params), params)
    assert updates["unused"] is None and updates["embedding"].shape == (4, 2)
    # fromdense stores only row 1, column 0; the explicit zero at [1, 1] is not stored.
    np.testing.assert_array_equal(updates["embedding"] != 0, dense_grad != 0)
    np.testing.assert_array_equal(updates["dense"] != 0, [True, False, True])
    new_params = js.apply_updates(params, updates)
    assert new_params["embedding"].dtype == jnp.float32


def test_bcoo_stored_zero_is_present_and_duplicates_are_summed():
    tx = js.sparse_adam(0.1, betas=(0.5, 0.5))
    params = {"w": jnp.zeros(3)}
    # Entry 0 stored twice (1 + 2 = 3), entry 2 stored with value 0, entry 1 absent.
    grad = sparse.BCOO((jnp.asarray([1.0, 2.0, 0.0]), jnp.asarray([[0], [0], [2]])), shape=(3,))
    state = tx.init(params)
    _, state = tx.update({"w": jnp.asarray([4.0, 4.0, 4.0])}, state, params)
    _, state = tx.update({"w": grad}, state, params)
    np.testing.assert_allclose(optimizer_state(state).exp_avg["w"], [0.5 * 2.0 + 0.5 * 3.0, 2.0, 1.0])
