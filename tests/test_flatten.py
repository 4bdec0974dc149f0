"""js.flatten: the same optimizer on small leaves packed into one vector per dtype."""

import importlib

import jax
import jax.experimental.sparse
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
import jaxsched.core._packing
from jaxsched.testing import assert_trees_close
from tests.optim_parity import assert_trajectories_close, golden, run_jax
from tests.test_optimizer_invariants import OPTIMIZERS, SHAPE_AWARE, grads_for, mixed_params

# Every single-group torch parity case (partition labels and sparse gradients need the original tree).
PARITY_MODULES = ["adadelta", "adagrad", "adam", "adamax", "asgd", "nadam", "radam", "rmsprop", "rprop", "sgd"]
FLATTENED_CASES = {
    name: case
    for module in PARITY_MODULES
    for name, case in importlib.import_module(f"tests.test_optim_{module}").CASES.items()
    if case.torch_groups is None and case.jax_grads is None
}
DENSE = sorted(name for name in OPTIMIZERS if name != "sparse_adam" and name not in SHAPE_AWARE)


@pytest.mark.parametrize("name", sorted(FLATTENED_CASES))
def test_flattened_optimizer_matches_golden_torch_trajectory(name):
    # max_leaf_size=8 packs the 5-vector, the scalar and the 2x2x2 leaf and leaves the 4x3 matrix separate.
    case = FLATTENED_CASES[name]
    flat_case = type(case)(**{**vars(case), "make_jax": lambda: js.flatten(case.make_jax(), max_leaf_size=8)})
    assert_trajectories_close(run_jax(flat_case), golden(name), f"flatten({name})")


def assert_same_up_to_rounding(actual, expected):
    """Equal up to one rounding of each leaf's dtype: XLA may vectorise a longer vector differently."""
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    for a, b in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        eps = float(jnp.finfo(a.dtype).eps)
        assert_trees_close(a, b, rtol=2 * eps, atol=eps * 1e-3)


def run_steps(tx, params, steps=4):
    state = tx.init(params)
    step = jax.jit(lambda p, s, g: (lambda u, s: (js.apply_updates(p, u), s, u))(*tx.update(g, s, p)))
    history = []
    for i in range(steps):
        params, state, updates = step(params, state, grads_for(params, i))
        history.append((params, updates))
    return history, state


@pytest.mark.parametrize("max_leaf_size", [None, 4])
@pytest.mark.parametrize("name", DENSE)
def test_same_updates_on_mixed_dtypes(name, max_leaf_size):
    expected, _ = run_steps(OPTIMIZERS[name](0.01), mixed_params())
    actual, _ = run_steps(js.flatten(OPTIMIZERS[name](0.01), max_leaf_size), mixed_params())
    assert_same_up_to_rounding(actual, expected)


def test_state_holds_one_vector_per_dtype_and_the_large_leaves():
    params = mixed_params()  # kernel 2x3 f32, bias 3 f32, 4 bf16, scalar f16, None
    state = js.flatten(js.adam(1e-3), max_leaf_size=4).init(params)
    moments = state.inner_state.inner_state.exp_avg
    assert isinstance(moments, js.Packed)
    assert {k: v.shape for k, v in moments.flat.items()} == {"bfloat16": (4,), "float16": (1,), "float32": (3,)}
    assert [x.shape for x in moments.large] == [(2, 3)]
    assert {v.dtype for v in moments.flat.values()} == {jnp.dtype(jnp.float32)}  # state at least float32


def test_leaves_beyond_the_packing_budget_stay_separate(monkeypatch):
    monkeypatch.setattr(jaxsched.core._packing, "MAX_PACKED_SIZE", 10)
    params = {"a": jnp.ones(4), "b": jnp.ones(5), "c": jnp.ones(3), "d": jnp.ones(1), "e": jnp.ones(2, jnp.bfloat16)}
    tx = js.flatten(js.sgd(0.1, momentum=0.9), max_leaf_size=None)
    buffers = tx.init(params).inner_state.inner_state.momentum_buffer
    assert {k: v.shape for k, v in buffers.flat.items()} == {"float32": (10,), "bfloat16": (2,)}  # a, b, d; e
    assert [x.shape for x in buffers.large] == [(3,)]  # c did not fit
    expected, _ = run_steps(js.sgd(0.1, momentum=0.9), params)
    actual, _ = run_steps(tx, params)
    assert_same_up_to_rounding(actual, expected)


def test_state_size_does_not_grow_with_the_number_of_leaves():
    def n_arrays(leaves):
        params = {f"w{i}": jnp.ones((i % 7 + 1,)) for i in range(leaves)}
        return len(jax.tree.leaves(js.flatten(js.adam(1e-3)).init(params)))

    assert n_arrays(10) == n_arrays(300)


def test_inside_partition_equals_the_unflattened_groups():
    params = {"head": {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}, "body": [jnp.ones(4), jnp.zeros(2)]}
    labels = js.label_by_path({"head": "head"}, default="body")

    def make(wrap):
        return js.partition({"head": wrap(js.adam(1e-2)), "body": wrap(js.sgd(0.1, momentum=0.9))}, labels)

    expected, _ = run_steps(make(lambda tx: tx), params)
    actual, _ = run_steps(make(js.flatten), params)
    assert_same_up_to_rounding(actual, expected)


def test_global_norm_clipping_sums_in_another_order_only():
    params = {f"w{i}": jnp.linspace(-1.0, 1.0, 5) * (i + 1) for i in range(6)}

    def make():
        return js.chain(js.clip_by_global_norm(0.5), js.adam(1e-2))

    expected, _ = run_steps(make(), params)
    actual, _ = run_steps(js.flatten(make()), params)
    for got, want in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_lbfgs_line_search_sees_the_original_tree():
    def loss(p):
        return jnp.sum((1 - p["x"]) ** 2) + 100 * jnp.sum((p["y"] - p["x"] ** 2) ** 2)

    params = {"x": jnp.array([-1.2, 0.5]), "y": jnp.array([1.0, 0.3])}
    results = []
    for tx in (js.lbfgs(1.0, line_search_fn="strong_wolfe"), js.flatten(js.lbfgs(1.0, line_search_fn="strong_wolfe"))):
        p, state = params, tx.init(params)
        for _ in range(3):
            updates, state = tx.update(jax.grad(loss)(p), state, p, value_fn=loss)
            p = js.apply_updates(p, updates)
        results.append(p)
    assert float(loss(results[0])) < float(loss(params))
    for got, want in zip(jax.tree.leaves(results[1]), jax.tree.leaves(results[0])):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_checkpoint_round_trip(tmp_path):
    tx = js.flatten(js.adam(1e-3))
    params = mixed_params()
    _, state = run_steps(tx, params, steps=2)
    js.save_state(tmp_path / "state", state)
    restored = js.load_state(tmp_path / "state", tx.init(params))
    for got, want in zip(jax.tree.leaves(restored), jax.tree.leaves(state)):
        np.testing.assert_array_equal(np.asarray(got, np.float32), np.asarray(want, np.float32))


@pytest.mark.parametrize(
    "value, error, message",
    [(0, ValueError, "max_leaf_size must be an integer >= 1"), (2.5, TypeError, "max_leaf_size must be an integer")],
)
def test_bad_max_leaf_size_is_rejected_at_construction(value, error, message):
    with pytest.raises(error, match=message):
        js.flatten(js.adam(1e-3), max_leaf_size=value)


def test_gradient_dtype_must_match_its_parameter():
    params = {"a": jnp.ones(3, jnp.bfloat16), "b": jnp.ones(2)}
    tx = js.flatten(js.adam(1e-3))
    grads = {"a": jnp.ones(3, jnp.float32), "b": jnp.ones(2)}
    with pytest.raises(ValueError, match=r"dtype differs at \['a'\]: float32 vs bfloat16 \(gradients vs params\)"):
        tx.update(grads, tx.init(params), params)


def test_sparse_gradients_are_rejected_with_a_reason():
    params = {"w": jnp.ones((3, 4))}
    tx = js.flatten(js.sparse_adam(1e-2))
    grads = {"w": jax.experimental.sparse.BCOO.fromdense(jnp.eye(3, 4))}
    with pytest.raises(ValueError, match="sparse gradients cannot be packed"):
        tx.update(grads, tx.init(params), params)


def test_state_for_other_params_is_rejected():
    tx = js.flatten(js.adam(1e-3))
    state = tx.init({"a": jnp.ones(3)})
    with pytest.raises(ValueError, match="optimizer state does not match the gradients"):
        tx.update({"a": jnp.ones(4)}, state, {"a": jnp.ones(4)})


def test_optax_transformations_run_inside_flatten():
    import optax

    params = {"w": jnp.linspace(-1.0, 1.0, 12).reshape(3, 4), "b": jnp.ones(4), "s": jnp.asarray(0.5)}
    expected, _ = run_steps(optax.adam(1e-2), params)
    actual, _ = run_steps(js.flatten(optax.adam(1e-2)), params)
    assert_same_up_to_rounding(actual, expected)
