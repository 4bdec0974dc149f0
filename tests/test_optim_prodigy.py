"""Behaviour of js.prodigy that the generic tests do not reach (its entry in tests/optim_db.py has parity, contract, invariants)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes


def test_unset_beta3_and_growth_rate_are_the_references():
    values = js.get_hyperparams(js.prodigy().init({"w": jnp.array([1.0, -2.0, 3.0])}))
    assert float(values["growth_rate"]) == math.inf
    assert "beta3" not in values  # None: sqrt(beta2) at every step


def test_state_has_the_reference_names_and_slices():
    params = {"w": jnp.arange(7.0), "b": jnp.array(0.5)}
    state = js.prodigy(slice_p=3).init(params).inner_state
    assert isinstance(state, js.ProdigyState)
    assert state._fields == ("k", "d", "d_max", "d_numerator", "s", "p0", "exp_avg", "exp_avg_sq")
    np.testing.assert_array_equal(state.p0["w"], [0.0, 3.0, 6.0])
    assert state.s["b"].shape == (1,) and float(state.d) == pytest.approx(1e-6)


def test_sliced_statistics_keep_dtypes():
    # the table's example has slice_p = 1 (a static argument)
    assert_mixed_pytree_keeps_dtypes(js.prodigy(weight_decay=0.01, slice_p=2))


def test_zero_gradients_change_nothing():
    # the reference returns early when sum |s| is 0: no step, no count, d unchanged
    tx = js.prodigy(weight_decay=0.1)
    params = {"w": jnp.array([1.0, -2.0])}
    state = tx.init(params)
    updates, new_state = tx.update({"w": jnp.zeros(2)}, state, params)
    np.testing.assert_array_equal(updates["w"], 0.0)
    assert int(new_state.inner_state.k) == 0 and float(new_state.inner_state.d) == float(state.inner_state.d)
