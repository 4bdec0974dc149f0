"""torch.optim.SparseAdam parity with dense-with-zeros and BCOO gradients, schedules, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse

import jaxsched as js
from jaxsched.optimizers._sparse_adam import SparseAdamState
from tests.optim_contract import adam_family_invalid, contract_tests
from tests.optim_parity import (
    Case,
    PARAMS0,
    TORCH_STEPLR,
    falling_beta2,
    parity_tests,
    rising_beta1,
    steplr,
    torch_betas,
)


def _zero_some(step):
    """About 40% of the gradient entries are zeroed, differently at every step."""
    rng = np.random.RandomState(1000 + step)
    return {k: rng.rand(*np.shape(v)) < 0.6 for k, v in PARAMS0.items()}


def _to_torch_sparse(t):
    return t.to_sparse()  # drops zeros: only nonzero entries are present


def _to_bcoo(g):
    # A fixed nse keeps the shapes (and the jit cache) constant: padding entries get out-of-range
    # indices. A 0-d array has no indices to put out of range, so there padding would be stored.
    return sparse.BCOO.fromdense(jnp.asarray(g), nse=np.size(g) if np.ndim(g) else None)


def _stored(shape):
    """A fixed storage pattern: every flat index except those = 1 (mod 3) is stored, zero or not."""
    return (np.arange(int(np.prod(shape))) % 3 != 1).reshape(shape)


def _to_bcoo_stored(g):
    pattern = _stored(np.shape(g))
    return sparse.BCOO((jnp.asarray(np.asarray(g)[pattern]), jnp.asarray(np.argwhere(pattern))), shape=np.shape(g))


def _to_torch_stored(t):
    import torch

    pattern = _stored(tuple(t.shape))
    indices = torch.from_numpy(np.argwhere(pattern).T.copy())
    return torch.sparse_coo_tensor(indices, t[torch.from_numpy(pattern)], tuple(t.shape), check_invariants=True)


def _sparse_case(make, torch_kwargs, **options):
    options = {"grad_mask": _zero_some, "torch_grads": _to_torch_sparse, **options}
    return Case(make, "SparseAdam", torch_kwargs, **options)


CASES = {
    "sparse_adam_dense_zeros": _sparse_case(lambda: js.sparse_adam(1e-2), dict(lr=1e-2)),
    "sparse_adam_bcoo": _sparse_case(lambda: js.sparse_adam(1e-2), dict(lr=1e-2), jax_grads=_to_bcoo),
    # Stored entries whose value is 0 (zeroed by the mask) still decay m, v and move p.
    "sparse_adam_bcoo_stored_zeros": _sparse_case(
        lambda: js.sparse_adam(1e-2), dict(lr=1e-2), jax_grads=_to_bcoo_stored, torch_grads=_to_torch_stored
    ),
    "sparse_adam_maximize_betas_eps": _sparse_case(
        lambda: js.sparse_adam(2e-2, betas=(0.6, 0.8), eps=1e-3, maximize=True),
        dict(lr=2e-2, betas=(0.6, 0.8), eps=1e-3, maximize=True),
        jax_grads=_to_bcoo,
    ),
    "sparse_adam_steplr": _sparse_case(
        lambda: js.sparse_adam(steplr(1e-2)),
        dict(lr=1e-2),
        torch_scheduler=TORCH_STEPLR,
    ),
    "sparse_adam_beta_schedules": _sparse_case(
        lambda: js.sparse_adam(1e-2, betas=(rising_beta1, falling_beta2)),
        dict(lr=1e-2, betas=(rising_beta1(0), falling_beta2(0))),
        torch_scheduler=torch_betas(rising_beta1, falling_beta2),
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
    test_bfloat16_params_get_float32_math_and_bfloat16_updates,
) = contract_tests(
    js.sparse_adam,
    "SparseAdam",
    dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6),
    dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3),
    adam_family_invalid()
    + [
        (dict(learning_rate=0.0), ValueError, ("learning_rate", "(0, inf)")),
        (dict(eps=0.0), ValueError, ("eps", "(0, inf)")),
    ],
)


def test_has_no_weight_decay():
    with pytest.raises(TypeError, match="weight_decay"):
        js.sparse_adam(weight_decay=0.1)


def _inner(state) -> SparseAdamState:
    inner = state.inner_state
    return inner


def test_absent_entries_keep_moments_and_params_while_the_step_counts_on():
    tx = js.sparse_adam(0.1)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    updates, state = tx.update({"w": jnp.asarray([1.0, 0.0, 2.0])}, state, params)
    assert updates["w"][1] == 0 and updates["w"][0] != 0
    updates, state = tx.update({"w": jnp.zeros(3)}, state, params)  # nothing present
    np.testing.assert_array_equal(updates["w"], 0.0)
    inner = _inner(state)
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
    updates, state = jax.jit(tx.update)(grads, tx.init(params), params)
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
    np.testing.assert_allclose(_inner(state).exp_avg["w"], [0.5 * 2.0 + 0.5 * 3.0, 2.0, 1.0])
