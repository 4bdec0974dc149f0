"""torch.optim.Adam / AdamW parity: every option, schedules as learning rate, betas and weight decay."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js
from jaxsched.optimizers._adam import AdamState
from tests.optim_contract import adam_family_invalid, contract_tests
from tests.optim_parity import (
    Case,
    TORCH_STEPLR,
    falling_beta2,
    parity_tests,
    rising_beta1,
    steplr,
    torch_betas,
    torch_group_schedule,
    torch_scheduler,
)


def _weight_decay(t):
    return 0.1 / (1 + t)


CASES = {
    "adam_default": Case(lambda: js.adam(1e-2), "Adam", dict(lr=1e-2)),
    # torch's OneCycleLR with Adam cycles betas[0] (its "momentum") against the lr, every step
    "adam_one_cycle_lr_and_beta1": Case(
        lambda: js.adam(
            js.schedules.one_cycle(0.05, 30, pct_start=0.25, three_phase=True),
            betas=(js.schedules.one_cycle_momentum(30, pct_start=0.25, three_phase=True), 0.99),
        ),
        "Adam",
        dict(lr=0.05, betas=(0.9, 0.99)),
        torch_scheduler=torch_scheduler("OneCycleLR", max_lr=0.05, total_steps=30, pct_start=0.25, three_phase=True),
    ),
    "adam_amsgrad": Case(
        lambda: js.adam(1e-2, betas=(0.9, 0.6), amsgrad=True), "Adam", dict(lr=1e-2, betas=(0.9, 0.6), amsgrad=True)
    ),
    "adam_l2_weight_decay": Case(
        lambda: js.adam(1e-2, weight_decay=0.1), "Adam", dict(lr=1e-2, weight_decay=0.1)
    ),
    "adam_maximize_amsgrad_wd": Case(
        lambda: js.adam(1e-2, betas=(0.9, 0.8), weight_decay=0.05, amsgrad=True, maximize=True),
        "Adam",
        dict(lr=1e-2, betas=(0.9, 0.8), weight_decay=0.05, amsgrad=True, maximize=True),
    ),
    "adam_betas_eps": Case(
        lambda: js.adam(2e-2, betas=(0.3, 0.7), eps=1e-3), "Adam", dict(lr=2e-2, betas=(0.3, 0.7), eps=1e-3)
    ),
    "adam_steplr": Case(lambda: js.adam(steplr(1e-2)), "Adam", dict(lr=1e-2), torch_scheduler=TORCH_STEPLR),
    "adam_beta_schedules": Case(
        lambda: js.adam(1e-2, betas=(rising_beta1, falling_beta2), amsgrad=True),
        "Adam",
        dict(lr=1e-2, betas=(rising_beta1(0), falling_beta2(0)), amsgrad=True),
        torch_scheduler=torch_betas(rising_beta1, falling_beta2),
    ),
    "adamw_default": Case(lambda: js.adamw(1e-2), "AdamW", dict(lr=1e-2)),
    "adamw_amsgrad_maximize": Case(
        lambda: js.adamw(1e-2, betas=(0.8, 0.7), weight_decay=0.2, amsgrad=True, maximize=True),
        "AdamW",
        dict(lr=1e-2, betas=(0.8, 0.7), weight_decay=0.2, amsgrad=True, maximize=True),
    ),
    "adamw_betas_eps": Case(
        lambda: js.adamw(2e-2, betas=(0.5, 0.9), eps=1e-4), "AdamW", dict(lr=2e-2, betas=(0.5, 0.9), eps=1e-4)
    ),
    "adamw_steplr": Case(
        lambda: js.adamw(steplr(1e-2), weight_decay=0.1), "AdamW", dict(lr=1e-2, weight_decay=0.1), torch_scheduler=TORCH_STEPLR
    ),
    "adamw_beta_schedules": Case(
        lambda: js.adamw(1e-2, betas=(rising_beta1, falling_beta2)),
        "AdamW",
        dict(lr=1e-2, betas=(rising_beta1(0), falling_beta2(0))),
        torch_scheduler=torch_betas(rising_beta1, falling_beta2),
    ),
    "adamw_weight_decay_schedule": Case(
        lambda: js.adamw(1e-2, weight_decay=_weight_decay),
        "AdamW",
        dict(lr=1e-2, weight_decay=_weight_decay(0)),
        torch_scheduler=torch_group_schedule("weight_decay", _weight_decay),
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)

_HYPERPARAMS = dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
_CHANGED = dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3)
_INVALID = adam_family_invalid(flags=("amsgrad", "maximize"), nonnegative=("weight_decay",))

(
    test_adam_rejects_invalid_arguments,
    test_adam_defaults_match_torch,
    test_adam_get_hyperparams_names_every_numeric_argument,
    test_adam_set_hyperparams_changes_next_updates,
    test_adam_bfloat16_params_get_float32_math_and_bfloat16_updates,
) = contract_tests(js.adam, "Adam", _HYPERPARAMS, _CHANGED, _INVALID)

(
    test_adamw_rejects_invalid_arguments,
    test_adamw_defaults_match_torch,
    test_adamw_get_hyperparams_names_every_numeric_argument,
    test_adamw_set_hyperparams_changes_next_updates,
    test_adamw_bfloat16_params_get_float32_math_and_bfloat16_updates,
) = contract_tests(js.adamw, "AdamW", _HYPERPARAMS, _CHANGED, _INVALID)


def _adam_state(state) -> AdamState:
    inner = state.inner_state
    return inner


def test_amsgrad_keeps_the_maximum_of_the_raw_second_moment():
    tx = js.adam(0.1, betas=(0.9, 0.5), amsgrad=True)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for g in ([4.0, 1.0], [0.0, 2.0]):
        _, state = tx.update({"w": jnp.asarray(g)}, state, params)
    inner = _adam_state(state)
    # v = 0.5 v + 0.5 g^2: [8, 0.5] then [4, 2.25]; the max is taken of these raw (uncorrected) values.
    np.testing.assert_allclose(inner.exp_avg_sq["w"], [4.0, 2.25])
    np.testing.assert_allclose(inner.max_exp_avg_sq["w"], [8.0, 2.25])


def test_without_amsgrad_the_state_has_no_max_buffer():
    assert _adam_state(js.adam().init({"w": jnp.zeros(3)})).max_exp_avg_sq is None


def test_adamw_default_decays_and_adam_default_does_not():
    assert float(js.get_hyperparams(js.adamw().init({"w": jnp.zeros(1)}))["weight_decay"]) == np.float32(1e-2)
    params = {"w": jnp.full(3, 2.0)}
    zero_grads = {"w": jnp.zeros(3)}
    adam_updates, _ = js.adam(0.1).update(zero_grads, js.adam(0.1).init(params), params)
    adamw_updates, _ = js.adamw(0.1).update(zero_grads, js.adamw(0.1).init(params), params)
    np.testing.assert_array_equal(adam_updates["w"], 0.0)
    # p *= 1 - lr * wd, with that factor rounded to float32 as torch rounds it for float32 parameters
    np.testing.assert_allclose(adamw_updates["w"], 2.0 * np.float32(1 - 0.1 * 1e-2) - 2.0, rtol=1e-6)


def test_beta_schedule_under_jit_does_not_recompile():
    tx = js.adam(1e-2, betas=(rising_beta1, 0.999))
    params = {"w": jnp.ones(3)}
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(None)
        updates, state = tx.update(jax.tree.map(jnp.cos, params), state, params)
        return js.apply_updates(params, updates), state

    state = tx.init(params)
    for _ in range(4):
        params, state = step(params, state)
    assert len(traces) == 1
    np.testing.assert_allclose(js.get_hyperparams(state)["betas"][0], rising_beta1(4), rtol=1e-6)
