"""Core protocol: chain, masked, partition, label_by_path, hyperparameters in state, counters, optax interop."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsched as js
from jaxsched.core._base import increment_step


class Pair(NamedTuple):
    first: jax.Array
    second: jax.Array


def nested_params():
    """Dicts, lists, NamedTuples and a None leaf together."""
    return {
        "encoder": [jnp.arange(3.0), Pair(jnp.ones((2, 2)), jnp.full((2,), 2.0))],
        "head": {"kernel": jnp.linspace(-1.0, 1.0, 4), "bias": None},
    }


def ones_like(tree):
    return jax.tree.map(jnp.ones_like, tree)


def assert_trees_equal(actual, expected):
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_array_equal(a, e)


# --- chain ---------------------------------------------------------------------------------------


def test_chain_applies_transforms_in_order():
    params = nested_params()
    grads = ones_like(params)
    tx = js.chain(js.transforms.add_weight_decay(0.5), js.transforms.scale_by_learning_rate(0.1))
    updates, _ = tx.update(grads, tx.init(params), params)
    expected = jax.tree.map(lambda g, p: -0.1 * (g + 0.5 * p), grads, params)
    assert_trees_equal(updates, expected)


def test_chain_rejects_non_transforms():
    with pytest.raises(TypeError, match="chain argument 1"):
        js.chain(js.sgd(0.1), "adam")


# --- masked --------------------------------------------------------------------------------------


def test_masked_leaves_unselected_updates_unchanged():
    params = nested_params()
    grads = jax.tree.map(lambda p: 2.0 * jnp.ones_like(p), params)
    mask = {"encoder": [True, Pair(False, True)], "head": {"kernel": False, "bias": None}}
    tx = js.masked(js.sgd(0.1), mask)
    updates, _ = tx.update(grads, tx.init(params), params)
    assert_trees_equal(updates["encoder"][0], -0.2 * jnp.ones(3))
    assert_trees_equal(updates["encoder"][1].first, grads["encoder"][1].first)
    assert_trees_equal(updates["encoder"][1].second, -0.2 * jnp.ones(2))
    assert_trees_equal(updates["head"]["kernel"], grads["head"]["kernel"])
    assert updates["head"]["bias"] is None


def test_masked_state_covers_only_selected_leaves_and_accepts_prefix_and_callable():
    params = nested_params()
    tx = js.masked(js.sgd(0.1, momentum=0.9), {"encoder": True, "head": False})
    buffers = js.get_hyperparams(tx.init(params))  # hyperparameters are visible through masked
    assert float(buffers["momentum"]) == pytest.approx(0.9)
    state = tx.init(params)
    leaves = jax.tree.leaves(state.inner_state.inner_state)
    assert sum(x.size for x in leaves if x.ndim > 0) == 3 + 4 + 2  # encoder only
    by_fn = js.masked(js.sgd(0.1), lambda p: jax.tree.map(lambda x: x.ndim == 1, p))
    updates, _ = by_fn.update(ones_like(params), by_fn.init(params), params)
    assert_trees_equal(updates["encoder"][1].first, jnp.ones((2, 2)))
    assert_trees_equal(updates["head"]["kernel"], -0.1 * jnp.ones(4))


def test_masked_rejects_non_bool_mask():
    tx = js.masked(js.sgd(0.1), {"a": 1})
    with pytest.raises(TypeError, match="must be a Python bool"):
        tx.init({"a": jnp.ones(2)})


# --- partition and label_by_path -----------------------------------------------------------------


def test_label_by_path_prefix_glob_default_and_error():
    params = nested_params()
    labels = js.label_by_path({"head": "head", "*/1/first": "matrix"}, default="base")(params)
    assert labels == {
        "encoder": ["base", Pair("matrix", "base")],
        "head": {"kernel": "head", "bias": None},
    }
    with pytest.raises(ValueError, match="encoder/0"):
        js.label_by_path({"head": "head"})(params)


def test_partition_runs_one_optimizer_per_group():
    params = nested_params()
    grads = ones_like(params)
    labels = js.label_by_path({"head": "head"}, default="base")
    tx = js.partition({"base": js.sgd(0.1), "head": js.sgd(0.01, momentum=0.5)}, labels)
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)
    assert_trees_equal(updates["encoder"], jax.tree.map(lambda g: -0.1 * g, grads["encoder"]))
    assert_trees_equal(updates["head"]["kernel"], -0.01 * jnp.ones(4))
    assert updates["head"]["bias"] is None
    updates, state = tx.update(grads, state, params)
    np.testing.assert_allclose(updates["head"]["kernel"], -0.01 * 1.5 * jnp.ones(4), rtol=1e-6)


def test_partition_rejects_unknown_label():
    tx = js.partition({"base": js.sgd(0.1)}, {"w": "head"})
    with pytest.raises(ValueError, match="label 'head'"):
        tx.init({"w": jnp.ones(2)})


# --- hyperparameters in state --------------------------------------------------------------------


def test_get_hyperparams_is_flat_and_tracks_schedules():
    tx = js.sgd(lambda step: 0.1 / (1.0 + step), momentum=0.9, weight_decay=1e-4)
    params = {"w": jnp.ones(2)}
    state = tx.init(params)
    assert set(js.get_hyperparams(state)) == {"learning_rate", "momentum", "dampening", "weight_decay"}
    for step in range(3):
        assert float(js.get_hyperparams(state)["learning_rate"]) == pytest.approx(0.1 / (1 + step))
        _, state = tx.update(ones_like(params), state, params)


def test_get_and_set_through_chain_and_partition():
    params = {"body": jnp.ones(3), "head": jnp.ones(2)}
    tx = js.chain(
        js.clip_by_global_norm(1.0),
        js.partition({"body": js.sgd(0.1), "head": js.sgd(0.2, momentum=0.9)}, lambda p: {k: k for k in p}),
    )
    state = tx.init(params)
    hp = js.get_hyperparams(state)
    assert float(hp["max_norm"]) == 1.0
    assert float(hp["body"]["learning_rate"]) == pytest.approx(0.1)
    assert float(hp["head"]["momentum"]) == pytest.approx(0.9)

    state = js.set_hyperparams(state, max_norm=5.0, head={"learning_rate": 0.3})
    hp = js.get_hyperparams(state)
    assert float(hp["max_norm"]) == 5.0
    assert float(hp["head"]["learning_rate"]) == pytest.approx(0.3)
    assert float(hp["body"]["learning_rate"]) == pytest.approx(0.1)

    state = js.set_hyperparams(state, learning_rate={"body": 0.05, "head": 0.06})
    hp = js.get_hyperparams(state)
    assert (float(hp["body"]["learning_rate"]), float(hp["head"]["learning_rate"])) == pytest.approx((0.05, 0.06))
    state = js.set_hyperparams(state, learning_rate=0.5)  # every group
    assert float(js.get_hyperparams(state)["head"]["learning_rate"]) == 0.5

    updates, _ = tx.update({"body": jnp.full(3, 0.1), "head": jnp.full(2, 0.1)}, state, params)
    np.testing.assert_allclose(updates["body"], -0.05 * jnp.ones(3), rtol=1e-6)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"learning_rte": 0.1}, "unknown hyperparameter"),
        ({"momentum": 0.9}, "compiled out"),
        ({"learning_rate": float("nan")}, "must be a finite number"),
    ],
)
def test_set_hyperparams_errors(values, message):
    state = js.sgd(0.1).init({"w": jnp.ones(2)})
    with pytest.raises(ValueError, match=message):
        js.set_hyperparams(state, **values)


def test_setting_a_scheduled_hyperparameter_is_refused():
    state = js.sgd(lambda t: 0.1).init({"w": jnp.ones(2)})
    with pytest.raises(ValueError, match="driven by a schedule"):
        js.set_hyperparams(state, learning_rate=0.2)


def test_changing_learning_rate_never_recompiles():
    tx = js.sgd(0.1, momentum=0.9, weight_decay=1e-3)
    params = {"w": jnp.ones(4), "b": jnp.zeros(2)}
    state = tx.init(params)
    traces = []

    @jax.jit
    def train_step(params, state):
        traces.append(None)
        grads = jax.grad(lambda p: sum(jnp.sum(x**2) for x in jax.tree.leaves(p)))(params)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    for lr in np.linspace(0.01, 0.1, 10):
        state = js.set_hyperparams(state, learning_rate=float(lr), momentum=0.5 + lr)
        params, state = train_step(params, state)
    assert len(traces) == 1
    assert float(js.get_hyperparams(state)["learning_rate"]) == pytest.approx(0.1)


def test_set_hyperparams_inside_jit_and_vmap_sweep():
    tx = js.sgd(0.1)
    params = jnp.array([1.0, -2.0])

    def run(lr):
        state = js.set_hyperparams(tx.init(params), learning_rate=lr)
        p = params
        for _ in range(3):
            updates, state = tx.update(2 * p, state, p)  # gradient of |p|^2
            p = js.apply_updates(p, updates)
        return p

    lrs = jnp.array([0.0, 0.1, 0.25])
    swept = jax.jit(jax.vmap(run))(lrs)
    for lr, row in zip(lrs, swept):
        np.testing.assert_allclose(row, params * (1 - 2 * lr) ** 3, rtol=1e-6)


def test_inject_hyperparams_wraps_optax_factories():
    tx = js.inject_hyperparams(optax.adam)(learning_rate=lambda t: 1e-3 * (t + 1), b1=0.8)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    _, state = tx.update(ones_like(params), state, params)
    hp = js.get_hyperparams(state)
    assert float(hp["learning_rate"]) == pytest.approx(2e-3)
    assert float(hp["b1"]) == pytest.approx(0.8)
    assert "mu_dtype" not in hp and "nesterov" not in hp  # None / bool arguments stay static


def test_hyperparams_keep_float32_for_low_precision_params():
    params = {"w": jnp.ones(3, jnp.bfloat16)}
    tx = js.sgd(0.1, momentum=0.999)
    state = tx.init(params)
    assert js.get_hyperparams(state)["momentum"].dtype == jnp.float32
    assert float(js.get_hyperparams(state)["momentum"]) == np.float32(0.999)  # not rounded to bfloat16
    updates, state = tx.update(ones_like(params), state, params)
    assert updates["w"].dtype == jnp.bfloat16
    assert jax.tree.leaves(state.inner_state)[-1].dtype == jnp.float32


# --- counters ------------------------------------------------------------------------------------


def test_step_counter_saturates_at_int32_max():
    limit = np.iinfo(np.int32).max
    assert int(increment_step(jnp.asarray(limit - 1, jnp.int32))) == limit
    assert int(increment_step(jnp.asarray(limit, jnp.int32))) == limit
    tx = js.sgd(0.1, momentum=0.9)
    params = {"w": jnp.ones(2)}
    state = tx.init(params)
    state = state._replace(step=jnp.asarray(limit, jnp.int32))
    _, state = tx.update(ones_like(params), state, params)
    assert int(state.step) == limit and state.step.dtype == jnp.int32


# --- optax interop -------------------------------------------------------------------------------


def test_optax_transforms_run_inside_jaxsched_chain():
    params = {"w": jnp.array([3.0, 4.0])}
    grads = {"w": jnp.array([3.0, 4.0])}
    tx = js.chain(optax.clip_by_global_norm(1.0), js.sgd(0.5))
    updates, state = tx.update(grads, tx.init(params), params)
    np.testing.assert_allclose(updates["w"], -0.5 * jnp.array([0.6, 0.8]), rtol=1e-6)
    assert float(js.get_hyperparams(state)["learning_rate"]) == 0.5
    # optax transforms that take extra args get them; plain ones do not.
    tx = js.chain(optax.scale_by_backtracking_linesearch(max_backtracking_steps=5), js.sgd(1.0))
    updates, _ = tx.update(
        grads, tx.init(params), params, value=12.5, grad=grads, value_fn=lambda p: 0.5 * jnp.sum(p["w"] ** 2)
    )
    assert np.all(np.isfinite(updates["w"]))


def test_jaxsched_transforms_run_inside_optax_chain():
    params = {"w": jnp.array([1.0, -1.0])}
    grads = {"w": jnp.array([0.5, 0.5])}
    tx = optax.chain(js.clip(0.25), js.sgd(0.1, momentum=0.9), optax.scale(2.0))
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)
    np.testing.assert_allclose(updates["w"], -0.05 * jnp.ones(2), rtol=1e-6)
    updates, state = tx.update(grads, state, params)
    np.testing.assert_allclose(updates["w"], -0.05 * 1.9 * jnp.ones(2), rtol=1e-6)
    new_params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new_params["w"], params["w"] - 0.095, rtol=1e-6)
    assert float(js.get_hyperparams(state)["learning_rate"]) == pytest.approx(0.1)
