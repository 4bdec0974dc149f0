"""schedulefree.SGDScheduleFree / AdamWScheduleFree parity (train and eval parameters), state, validation."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes, run_updates
from tests.optim_invariant_checks import (
    assert_one_compile_across_hyperparameter_changes,
    assert_vmap_over_learning_rates_equals_loop,
)
from tests.schedule_free_parity import ReferenceCase, has_package, reference_case, reference_parity_tests


def sgd_case(**kwargs) -> ReferenceCase:
    return reference_case(js.schedule_free_sgd, "schedulefree.SGDScheduleFree", **kwargs)


def adamw_case(**kwargs) -> ReferenceCase:
    return reference_case(js.schedule_free_adamw, "schedulefree.AdamWScheduleFree", **kwargs)


def rising_then_falling_lr(step):
    """0.02, then 0.08 from step 10 (raising lr_max), then 0.01 from step 20; for jax and Python ints alike."""
    return 0.02 + 0.06 * (step >= 10) - 0.07 * (step >= 20)


REFERENCE_CASES = {
    "schedule_free_sgd_weight_decay": sgd_case(lr=0.05, weight_decay=0.01),
    "schedule_free_sgd_warmup_r_power": sgd_case(
        lr=0.05, weight_decay=0.01, warmup_steps=5, r=0.5, weight_lr_power=1.0
    ),
    "schedule_free_sgd_momentum": sgd_case(lr=0.02, momentum=0.5, weight_decay=0.05, warmup_steps=40),
    "schedule_free_sgd_changing_lr": sgd_case(
        weight_decay=0.01, warmup_steps=5, learning_rate_at=rising_then_falling_lr
    ),
    "schedule_free_adamw_default": adamw_case(),
    "schedule_free_adamw_changing_lr": adamw_case(weight_decay=0.01, learning_rate_at=rising_then_falling_lr),
    "schedule_free_adamw_weight_decay": adamw_case(lr=0.05, weight_decay=0.01),
    "schedule_free_adamw_warmup_r_power": adamw_case(
        lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, warmup_steps=5, r=1.0, weight_lr_power=0.0
    ),
}

# tests/golden/generate.py runs every test_optim_* module's torch.optim CASES; these have none
CASES: dict = {}

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(REFERENCE_CASES)

MAKERS = {"SGDScheduleFree": js.schedule_free_sgd, "AdamWScheduleFree": js.schedule_free_adamw}


@pytest.mark.skipif(not (has_package("torch") and has_package("schedulefree")), reason="schedulefree not installed")
@pytest.mark.parametrize("reference", sorted(MAKERS))
def test_defaults_match_reference(reference):
    import schedulefree
    import torch

    defaults = getattr(schedulefree, reference)([torch.zeros(1)]).defaults
    for name, parameter in inspect.signature(MAKERS[reference]).parameters.items():
        assert defaults["lr" if name == "learning_rate" else name] == parameter.default, name


@pytest.mark.parametrize(
    "make, kwargs, error, texts",
    [
        (js.schedule_free_sgd, dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
        (js.schedule_free_sgd, dict(momentum=1.0), ValueError, ("momentum", "(0, 1)")),
        (js.schedule_free_sgd, dict(momentum=0.0), ValueError, ("momentum", "(0, 1)")),
        (js.schedule_free_sgd, dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
        (js.schedule_free_sgd, dict(warmup_steps=2.5), TypeError, ("warmup_steps", "integer")),
        (js.schedule_free_sgd, dict(warmup_steps=-1), ValueError, ("warmup_steps", ">= 0")),
        (js.schedule_free_sgd, dict(r=-1.0), ValueError, ("r", "-1.0")),
        (js.schedule_free_sgd, dict(weight_lr_power=float("nan")), ValueError, ("weight_lr_power", "nan")),
        (js.schedule_free_adamw, dict(betas=(0.0, 0.999)), ValueError, ("betas[0]", "(0, 1)")),
        (js.schedule_free_adamw, dict(betas=(0.9, 1.0)), ValueError, ("betas[1]", "[0, 1)")),
        (js.schedule_free_adamw, dict(betas=0.9), TypeError, ("betas", "pair")),
        (js.schedule_free_adamw, dict(eps=-1e-8), ValueError, ("eps", "-1e-08")),
        (js.schedule_free_adamw, dict(learning_rate="0.1"), TypeError, ("learning_rate", "'0.1'")),
    ],
)
def test_rejects_invalid_arguments(make, kwargs, error, texts):
    with pytest.raises(error) as info:
        make(**kwargs)
    for text in texts:
        assert text in str(info.value)


def test_state_has_the_reference_names():
    params = {"w": jnp.array([1.0, -2.0])}
    tx = js.schedule_free_adamw(0.1, warmup_steps=4)
    state = tx.init(params)
    assert isinstance(state.inner_state, js.ScheduleFreeState)
    assert state.inner_state._fields == ("k", "z", "exp_avg_sq", "lr_max", "weight_sum", "scheduled_lr")
    np.testing.assert_array_equal(state.inner_state.z["w"], params["w"])
    assert js.schedule_free_sgd().init(params).inner_state.exp_avg_sq is None
    _, state = tx.update({"w": jnp.ones(2)}, state, params)
    assert float(state.inner_state.scheduled_lr) == pytest.approx(0.025)
    assert set(js.get_hyperparams(state)) == {
        "learning_rate", "betas", "eps", "weight_decay", "warmup_steps", "r", "weight_lr_power"
    }  # fmt: skip


@pytest.mark.parametrize(
    "name, value", [("learning_rate", 0.2), ("weight_decay", 0.3), ("r", 1.0), ("warmup_steps", 3)]
)
def test_set_hyperparams_equals_constructing_with_the_value(name, value):
    base = dict(learning_rate=0.05, weight_decay=0.01, warmup_steps=2, r=0.5)
    for make in MAKERS.values():
        adjusted, _ = run_updates(make(**base), 6, set_before=0, **{name: value})
        constructed, _ = run_updates(make(**{**base, name: value}), 6)
        np.testing.assert_allclose(adjusted, constructed, rtol=1e-13)


def test_eval_params_found_in_chain_masked_and_partition():
    params = {"a": jnp.array([1.0, -2.0]), "b": jnp.array([0.5])}
    grads = {"a": jnp.array([0.3, 0.1]), "b": jnp.array([-0.2])}
    optimizers = {
        "bare": js.schedule_free_adamw(0.1),
        "chain": js.chain(js.clip(10.0), js.schedule_free_adamw(0.1)),
        "masked": js.masked(js.schedule_free_adamw(0.1), {"a": True, "b": False}),
        "partition": js.partition(
            {"x": js.schedule_free_adamw(0.1), "y": js.schedule_free_adamw(0.1)}, {"a": "x", "b": "y"}
        ),
        "mixed": js.partition({"x": js.schedule_free_adamw(0.1), "y": js.sgd(0.1)}, {"a": "x", "b": "y"}),
    }
    evaluated, trained = {}, {}
    for name, tx in optimizers.items():
        state, p = tx.init(params), params
        for _ in range(3):
            updates, state = tx.update(grads, state, p)
            p = js.apply_updates(p, updates)
        evaluated[name], trained[name] = js.schedule_free_eval_params(state, p), p
    expected = evaluated["bare"]
    assert not np.allclose(expected["a"], trained["bare"]["a"])
    for name in ("chain", "partition"):
        for leaf in expected:
            np.testing.assert_allclose(evaluated[name][leaf], expected[leaf], rtol=1e-6)
    for name in ("masked", "mixed"):  # leaves no schedule-free state covers are returned unchanged
        np.testing.assert_array_equal(evaluated[name]["b"], trained[name]["b"])
        np.testing.assert_allclose(evaluated[name]["a"], expected["a"], rtol=1e-6)


def test_eval_params_refuses_a_state_without_schedule_free():
    params = {"w": jnp.ones(2)}
    with pytest.raises(ValueError, match="no schedule-free state"):
        js.schedule_free_eval_params(js.adam().init(params), params)


def test_complex_parameters_are_refused():
    with pytest.raises(ValueError, match="complex"):
        js.schedule_free_sgd().init({"w": jnp.ones(2, jnp.complex64)})


@pytest.mark.parametrize("make", sorted(MAKERS))
def test_one_compile_across_hyperparameter_changes(make):
    tx = MAKERS[make](0.01, weight_decay=1e-3, warmup_steps=2)
    assert_one_compile_across_hyperparameter_changes(
        tx, learning_rate=lambda i: 0.01 / (i + 1), weight_decay=lambda i: 1e-3 * i, r=lambda i: 0.5 * i
    )


@pytest.mark.parametrize("make", sorted(MAKERS))
def test_mixed_pytree_keeps_dtypes(make):
    assert_mixed_pytree_keeps_dtypes(MAKERS[make](0.1, weight_decay=0.01, warmup_steps=2))


@pytest.mark.parametrize("make", sorted(MAKERS))
def test_vmap_over_learning_rates_equals_loop(make):
    assert_vmap_over_learning_rates_equals_loop(MAKERS[make](0.01, weight_decay=1e-3), [0.001, 0.01, 0.05, 0.2])


def test_tuple_parameters():
    params = (jnp.array([1.0, -2.0]), jnp.array(0.5))
    tx = js.schedule_free_adamw(0.1, weight_decay=0.1)
    updates, state = tx.update((jnp.array([0.3, 0.1]), jnp.array(-0.2)), tx.init(params), params)
    assert jax.tree.structure(updates) == jax.tree.structure(params)
    assert jax.tree.structure(state.inner_state.z) == jax.tree.structure(params)


def test_eval_params_keep_low_precision_dtypes():
    params = {"low": jnp.array([0.5, -0.25], jnp.bfloat16), "high": jnp.array([1.0], jnp.float32)}
    tx = js.schedule_free_sgd(0.1)
    state = tx.init(params)
    updates, state = jax.jit(tx.update)(jax.tree.map(jnp.ones_like, params), state, params)
    evaluated = js.schedule_free_eval_params(state, js.apply_updates(params, updates))
    assert jax.tree.map(lambda x: x.dtype, evaluated) == jax.tree.map(lambda x: x.dtype, params)
