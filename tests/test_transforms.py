"""Building blocks: clipping (vs torch's formulas), momentum trace, skipping non-finite steps."""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_clip_by_global_norm_uses_torch_formula():
    grads = {"a": jnp.array([3.0, 0.0]), "b": jnp.array([[4.0]])}
    updates, _ = js.transforms.clip_by_global_norm(1.0).update(grads, None)
    coef = 1.0 / (5.0 + 1e-6)  # torch: max_norm / (total_norm + 1e-6)
    np.testing.assert_allclose(updates["a"], np.array([3.0, 0.0]) * coef, rtol=1e-7)
    small, _ = js.transforms.clip_by_global_norm(10.0).update(grads, None)
    np.testing.assert_array_equal(small["b"], grads["b"])  # coefficient clamped at 1


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_clipping_matches_torch_utils(x64):
    import torch

    rng = np.random.RandomState(1)
    arrays = [rng.randn(3, 2) * 4, rng.randn(5)]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    for t, a in zip(tensors, arrays):
        t.grad = torch.tensor(a)
    torch.nn.utils.clip_grad_norm_(tensors, max_norm=2.0)
    ours, _ = js.transforms.clip_by_global_norm(2.0).update([jnp.asarray(a) for a in arrays], None)
    for o, t in zip(ours, tensors):
        np.testing.assert_allclose(o, t.grad.numpy(), rtol=1e-12)
    for t, a in zip(tensors, arrays):
        t.grad = torch.tensor(a)
    torch.nn.utils.clip_grad_value_(tensors, clip_value=0.5)
    ours, _ = js.transforms.clip(0.5).update([jnp.asarray(a) for a in arrays], None)
    for o, t in zip(ours, tensors):
        np.testing.assert_array_equal(o, t.grad.numpy())


def test_trace_first_step_undampened_then_dampened():
    tx = js.transforms.trace(0.9, dampening=0.5)
    state = tx.init(jnp.zeros(2))
    u1, state = tx.update(jnp.ones(2), state)
    u2, state = tx.update(jnp.ones(2), state)
    np.testing.assert_allclose(u1, jnp.ones(2))
    np.testing.assert_allclose(u2, 0.9 + 0.5, rtol=1e-6)


def test_skip_non_finite_leaves_params_and_state_untouched():
    params = {"w": jnp.ones(3)}
    tx = js.skip_non_finite(js.sgd(0.1, momentum=0.9), max_consecutive_skips=2)
    state = tx.init(params)
    good = {"w": jnp.ones(3)}
    bad = {"w": jnp.array([1.0, jnp.nan, 1.0])}
    _, state = tx.update(good, state, params)
    before = state.inner_state
    updates, state = jax.jit(tx.update)(bad, state, params)
    np.testing.assert_array_equal(updates["w"], jnp.zeros(3))
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), state.inner_state, before))
    assert int(state.consecutive_skips) == 1 and int(state.total_skips) == 1
    _, state = tx.update(bad, state, params)
    updates, state = tx.update({"w": jnp.array([jnp.inf, 0.0, 0.0])}, state, params)  # gives up: applies
    assert not np.all(np.isfinite(updates["w"]))
    _, state = tx.update(good, state, params)
    # two steps were skipped; the one given up on was applied, so it is not counted
    assert int(state.consecutive_skips) == 0 and int(state.total_skips) == 2


def test_skip_non_finite_validates():
    with pytest.raises(ValueError, match="max_consecutive_skips"):
        js.skip_non_finite(js.sgd(0.1), max_consecutive_skips=0)


def test_sgd_validation_messages_name_the_argument():
    with pytest.raises(ValueError, match="learning_rate"):
        js.sgd(-0.1)
    with pytest.raises(ValueError, match="nesterov"):
        js.sgd(0.1, nesterov=True)
    with pytest.raises(TypeError, match="momentum"):
        js.sgd(0.1, momentum="0.9")
    with pytest.raises(ValueError, match="weight_decay"):
        js.sgd(0.1, weight_decay=float("inf"))


def test_low_precision_state_stores_bfloat16_and_tracks_float32():
    params = {"w": jnp.linspace(-1.0, 1.0, 64), "b": jnp.asarray(0.5)}
    wide_tx, narrow_tx = js.adamw(1e-2), js.low_precision_state(js.adamw(1e-2), jnp.bfloat16)
    wide, narrow = wide_tx.init(params), narrow_tx.init(params)
    moments = [x for x in jax.tree.leaves(narrow.inner_state) if x.ndim > 0]
    assert moments and all(x.dtype == jnp.bfloat16 for x in moments)
    assert js.get_hyperparams(narrow)["betas"][1].dtype == jnp.float32  # hyperparameters untouched
    p_wide, p_narrow = params, params
    step = jax.jit(narrow_tx.update)
    for i in range(20):
        grads = jax.tree.map(lambda p: jnp.sin(3 * p + i), p_narrow)
        u, narrow = step(grads, narrow, p_narrow)
        p_narrow = js.apply_updates(p_narrow, u)
        u, wide = wide_tx.update(jax.tree.map(lambda p: jnp.sin(3 * p + i), p_wide), wide, p_wide)
        p_wide = js.apply_updates(p_wide, u)
    assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(narrow.inner_state) if x.ndim > 0)
    np.testing.assert_allclose(p_narrow["w"], p_wide["w"], atol=5e-3)  # close, not equal
    assert not np.array_equal(p_narrow["w"], p_wide["w"])
    with pytest.raises(TypeError, match="dtype"):
        js.low_precision_state(js.adam(), jnp.int8)
