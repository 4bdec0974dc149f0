"""The state layout does not depend on flags: the optimizer's own state is always ``state.inner_state``."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js

PARAMS = {"w": jnp.linspace(-1.0, 1.0, 6).reshape(2, 3), "b": jnp.zeros(3)}

# optimizer -> (its state type, the flags and flag-like values that used to move it between chain slots)
LAYOUTS = {
    "adam": (js.AdamState, dict(maximize=(False, True), weight_decay=(0.0, 0.1), decoupled_weight_decay=(False, True))),
    "adamw": (js.AdamState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
    "adamax": (js.AdamaxState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
    "nadam": (
        js.NAdamState,
        dict(maximize=(False, True), weight_decay=(0.0, 0.1), decoupled_weight_decay=(False, True)),
    ),
    "radam": (
        js.RAdamState,
        dict(maximize=(False, True), weight_decay=(0.0, 0.1), decoupled_weight_decay=(False, True)),
    ),
    "adagrad": (js.AdagradState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
    "adadelta": (js.AdadeltaState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
    "asgd": (js.AsgdState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
    "rprop": (js.RpropState, dict(maximize=(False, True))),
    "sparse_adam": (js.SparseAdamState, dict(maximize=(False, True))),
    "sgd": (
        js.TraceState,
        dict(momentum=(0.9,), maximize=(False, True), weight_decay=(0.0, 0.1), nesterov=(False, True)),
    ),
    "rmsprop": (js.RmspropState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
    "adafactor": (js.AdafactorState, dict(maximize=(False, True), weight_decay=(0.0, 0.1))),
}


def _flag_combinations(flags):
    names = sorted(flags)
    for values in itertools.product(*(flags[n] for n in names)):
        yield dict(zip(names, values))


def _leaf_paths(tree):
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_optimizer_state_is_inner_state_whatever_the_flags(name):
    state_type, flags = LAYOUTS[name]
    layouts = set()
    for kwargs in _flag_combinations(flags):
        state = getattr(js, name)(1e-2, **kwargs).init(PARAMS)
        assert isinstance(state, js.HyperparamsState)
        assert type(state.inner_state) is state_type, kwargs
        layouts.add(tuple(_leaf_paths(state.inner_state)))
        _, state = getattr(js, name)(1e-2, **kwargs).update(PARAMS, state, PARAMS)
        assert type(state.inner_state) is state_type, kwargs
    assert len(layouts) == 1, f"{name}: the inner state's leaves depend on the flags: {layouts}"


def test_optional_buffers_are_named_fields_set_to_none():
    assert js.adam().init(PARAMS).inner_state.max_exp_avg_sq is None
    assert js.adam(amsgrad=True).init(PARAMS).inner_state.max_exp_avg_sq["w"].shape == (2, 3)
    plain = js.rmsprop().init(PARAMS).inner_state
    assert plain.grad_avg is None and plain.momentum_buffer is None
    full = js.rmsprop(momentum=0.9, centered=True).init(PARAMS).inner_state
    assert full.grad_avg["b"].shape == (3,) and full.momentum_buffer["b"].shape == (3,)
    assert js.sgd(0.1).init(PARAMS).inner_state == js.EmptyState()


def test_rmsprop_momentum_buffer_is_torchs_buffer():
    # torch: buf = momentum * buf + g / (sqrt(square_avg) + eps); after one step from zero, buf == g / avg
    tx = js.rmsprop(0.1, alpha=0.5, eps=0.0, momentum=0.9)
    grads = {"w": jnp.full((2, 3), 2.0), "b": jnp.ones(3)}
    _, state = tx.update(grads, tx.init(PARAMS), PARAMS)
    np.testing.assert_allclose(state.inner_state.momentum_buffer["w"], 2.0 / np.sqrt(0.5 * 4.0), rtol=1e-6)


def test_adam_decoupled_weight_decay_is_adamw():
    with jax.enable_x64(True):
        params = {"w": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float64)}
        adam, adamw = js.adam(1e-2, weight_decay=0.1, decoupled_weight_decay=True), js.adamw(1e-2, weight_decay=0.1)
        state_a, state_w = adam.init(params), adamw.init(params)
        for step in range(5):
            grads = {"w": jnp.cos(params["w"] * (step + 1))}
            updates_a, state_a = adam.update(grads, state_a, params)
            updates_w, state_w = adamw.update(grads, state_w, params)
            np.testing.assert_array_equal(updates_a["w"], updates_w["w"])
            params = js.apply_updates(params, updates_a)
