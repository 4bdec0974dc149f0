"""Invariants every first-order optimizer of tests/optim_db.py keeps: one compile, stable state, lax.cond, vmap sweeps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_db import FIRST_ORDER

OPTIMIZERS = {info.name: info for info in FIRST_ORDER}
NAMES = sorted(OPTIMIZERS)


def mixed_params():
    """Mixed shapes and float dtypes, nested containers and a None leaf."""
    return {
        "dense": {"kernel": jnp.linspace(-1.0, 1.0, 6).reshape(2, 3), "bias": jnp.zeros(3)},
        "low": [jnp.full((4,), 0.5, jnp.bfloat16), jnp.asarray(-0.25, jnp.float16)],
        "unused": None,
    }


def grads_for(params, step):
    return jax.tree.map(lambda p: (jnp.cos(p.astype(jnp.float32) + step) + 0.1).astype(p.dtype), params)


def signature(tree):
    return jax.tree.structure(tree), [(jnp.shape(x), jnp.result_type(x)) for x in jax.tree.leaves(tree)]


def hyperparams_before_update(info, i):
    """Every hyperparameter the table changes: its example value before even updates, its changed one before odd."""
    return info.changed if i % 2 else {name: info.hyperparams[name] for name in info.changed}


@pytest.mark.parametrize("flattened", [False, True], ids=["per_leaf", "flatten"])
@pytest.mark.parametrize("name", NAMES)
def test_one_compile_across_updates_and_hyperparameter_changes(name, flattened):
    info = OPTIMIZERS[name]
    tx = js.flatten(info.build()) if flattened else info.build()
    params = mixed_params()
    state = tx.init(params)
    traces = []

    @jax.jit
    def step(params, state, grads):
        traces.append(None)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    for i in range(4):
        state = js.set_hyperparams(state, **hyperparams_before_update(info, i))
        params, state = step(params, state, grads_for(params, i))
    assert len(traces) == 1
    held = js.get_hyperparams(state)
    for name, value in hyperparams_before_update(info, 3).items():
        np.testing.assert_allclose(np.asarray(held[name], np.float64), value, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_state_and_param_dtypes_are_stable(name):
    info = OPTIMIZERS[name]
    tx = info.build(learning_rate=0.01)
    params = mixed_params()
    state = tx.init(params)
    initial = signature(state)
    for i in range(3):
        updates, state = tx.update(grads_for(params, i), state, params)
        assert signature(updates) == signature(params)
        params = js.apply_updates(params, updates)
        assert signature(state) == initial
    assert signature(params) == signature(mixed_params())
    if info.eval_params is not None:
        assert signature(info.eval_params(state, params)) == signature(params)
    for leaf in jax.tree.leaves(dict(js.get_hyperparams(state))):  # Hyperparams is a dict subclass, not a pytree
        assert leaf.dtype == jnp.float32  # hyperparameters are never rounded to bfloat16/float16
    assert all(np.all(np.isfinite(np.asarray(x, np.float32))) for x in jax.tree.leaves(params))


@pytest.mark.parametrize("name", NAMES)
def test_update_under_lax_cond(name):
    tx = OPTIMIZERS[name].build(learning_rate=0.01)
    params = mixed_params()
    state = tx.init(params)
    grads = grads_for(params, 0)

    @jax.jit
    def maybe_update(do_update, state):
        def skip(state):
            return jax.tree.map(jnp.zeros_like, params), state

        return jax.lax.cond(do_update, lambda s: tx.update(grads, s, params), skip, state)

    skipped_updates, skipped_state = maybe_update(False, state)
    assert all(float(jnp.max(jnp.abs(x.astype(jnp.float32)))) == 0 for x in jax.tree.leaves(skipped_updates))
    assert int(skipped_state.step) == 0
    updates, new_state = maybe_update(True, state)
    expected_updates, _expected_state = tx.update(grads, state, params)
    assert signature(new_state) == signature(state)
    for a, b in zip(jax.tree.leaves(updates), jax.tree.leaves(expected_updates)):
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_vmap_over_learning_rates_equals_loop(name):
    tx = OPTIMIZERS[name].build(learning_rate=0.01)
    # a matrix too: LARS scales matrices only, Adafactor factors them
    params = {"w": jnp.linspace(-1.0, 1.0, 5), "b": jnp.asarray(0.3), "k": jnp.linspace(-0.5, 1.0, 6).reshape(2, 3)}

    def train(lr):
        p = params
        state = js.set_hyperparams(tx.init(p), learning_rate=lr)
        for i in range(3):
            updates, state = tx.update(grads_for(p, i), state, p)
            p = js.apply_updates(p, updates)
        return p

    lrs = jnp.array([0.001, 0.01, 0.05, 0.2])
    swept = jax.jit(jax.vmap(train))(lrs)
    for i, lr in enumerate(lrs):
        expected = train(float(lr))
        for a, b in zip(jax.tree.leaves(jax.tree.map(lambda x: x[i], swept)), jax.tree.leaves(expected)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    # the runs differ far beyond that tolerance, so a sweep that ignored its learning rates would fail
    smallest, largest = jax.tree.map(lambda x: x[0], swept), jax.tree.map(lambda x: x[-1], swept)
    assert any(
        not np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(jax.tree.leaves(smallest), jax.tree.leaves(largest))
    )
