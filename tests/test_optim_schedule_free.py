"""schedulefree.SGDScheduleFree / AdamWScheduleFree parity (train and eval parameters), state, eval params.

Their entries in tests/optim_db.py give the contract and invariant tests; parity is here, as it
compares the evaluation parameters too (tests/schedule_free_parity.py).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.schedule_free_parity import ReferenceCase, reference_case, reference_parity_tests


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

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(REFERENCE_CASES)


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


def test_tuple_parameters():
    params = (jnp.array([1.0, -2.0]), jnp.array(0.5))
    tx = js.schedule_free_adamw(0.1, weight_decay=0.1)
    updates, state = tx.update((jnp.array([0.3, 0.1]), jnp.array(-0.2)), tx.init(params), params)
    assert jax.tree.structure(updates) == jax.tree.structure(params)
    assert jax.tree.structure(state.inner_state.z) == jax.tree.structure(params)
