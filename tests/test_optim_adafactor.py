"""torch.optim.Adafactor parity on 0-D to 3-D parameters, the factored state and eps[0]=None.

Its parity cases, contract and invariant tests come from its entry in ``tests/optim_db.py``; these
are the tests of what only Adafactor has.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js


def test_state_of_a_matrix_is_one_row_and_one_column():
    state = js.adafactor().init({"w": jnp.zeros((1000, 500))}).inner_state
    assert state.row_var["w"].shape == (1000, 1) and state.col_var["w"].shape == (1, 500)
    assert state.variance["w"] is None
    assert sum(x.size for x in jax.tree.leaves(state)) == 1000 + 500 + 1  # row_var, col_var, step


def test_state_fields_mirror_the_params_with_none_where_they_do_not_apply():
    params = {"tensor": jnp.zeros((2, 3, 4)), "vector": jnp.zeros(5), "scalar": jnp.zeros(())}
    state = js.adafactor().init(params).inner_state
    assert isinstance(state, js.AdafactorState)
    assert state.row_var["tensor"].shape == (2, 3, 1) and state.col_var["tensor"].shape == (2, 1, 4)
    assert state.variance["vector"].shape == (5,) and state.variance["scalar"].shape == ()
    for name in ("vector", "scalar"):
        assert state.row_var[name] is None and state.col_var[name] is None
    assert state.variance["tensor"] is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_eps0_none_is_the_machine_epsilon_of_the_parameter_dtype(dtype):
    with jax.enable_x64(dtype == "float64"):
        params = {"w": jnp.linspace(-1.0, 1.0, 6, dtype=dtype).reshape(2, 3), "b": jnp.zeros(3, dtype)}
        grads = {"w": jnp.zeros((2, 3), dtype).at[0, 0].set(1.0), "b": jnp.zeros(3, dtype)}  # zeros hit eps[0]
        default, explicit = js.adafactor(0.1), js.adafactor(0.1, eps=(float(jnp.finfo(dtype).eps), 1e-3))
        updates, state = default.update(grads, default.init(params), params)
        expected, _ = explicit.update(grads, explicit.init(params), params)
        jax.tree.map(np.testing.assert_array_equal, updates, expected)
        assert js.get_hyperparams(state)["eps"][0] is None


def test_eps0_none_cannot_be_set_but_eps1_can():
    state = js.adafactor().init({"w": jnp.zeros(3)})
    with pytest.raises(ValueError, match=r"'eps\[0\]' was None at construction"):
        js.set_hyperparams(state, eps=(1e-30, 1e-3))
    state = js.set_hyperparams(state, eps=(None, 1e-2))
    eps = js.get_hyperparams(state)["eps"]
    assert eps[0] is None and float(eps[1]) == np.float32(1e-2)


def test_update_needs_the_params():
    tx = js.adafactor()
    params = {"w": jnp.ones(3)}
    with pytest.raises(ValueError, match="adafactor needs the current parameters"):
        tx.update(params, tx.init(params))


def test_bfloat16_params_get_float32_math_and_bfloat16_updates():
    low = {"w": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.bfloat16).reshape(2, 3), "b": jnp.full(3, 0.5, jnp.bfloat16)}
    high = {k: v.astype(jnp.float32) for k, v in low.items()}
    # eps[0]=None follows the parameters' dtype, as torch; fix it to compare the two runs
    tx = js.adafactor(0.1, eps=(1e-30, 1e-3), weight_decay=0.1)
    low_state, high_state = tx.init(low), tx.init(high)
    for step in range(3):
        grads = jax.tree.map(lambda p: jnp.cos(p * (step + 1)).astype(jnp.bfloat16), low)
        low_updates, low_state = tx.update(grads, low_state, low)
        high_updates, high_state = tx.update(jax.tree.map(lambda g: g.astype(jnp.float32), grads), high_state, high)
        for k in low:
            assert low_updates[k].dtype == jnp.bfloat16
            np.testing.assert_array_equal(low_updates[k], high_updates[k].astype(jnp.bfloat16))
    floats = [x for x in jax.tree.leaves(low_state) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float32 for x in floats)
