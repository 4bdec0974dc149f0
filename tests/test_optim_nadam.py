"""torch.optim.NAdam parity: every option, schedules as learning rate, betas and momentum_decay."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js
from jaxsched.optimizers._nadam import NAdamState
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
)


def _momentum_decay(t):
    return 0.004 + 0.05 * t


CASES = {
    "nadam_default": Case(lambda: js.nadam(), "NAdam", dict()),
    "nadam_l2_weight_decay": Case(lambda: js.nadam(1e-2, weight_decay=0.1), "NAdam", dict(lr=1e-2, weight_decay=0.1)),
    "nadam_decoupled_weight_decay": Case(
        lambda: js.nadam(1e-2, weight_decay=0.2, decoupled_weight_decay=True),
        "NAdam",
        dict(lr=1e-2, weight_decay=0.2, decoupled_weight_decay=True),
    ),
    "nadam_maximize_wd": Case(
        lambda: js.nadam(1e-2, weight_decay=0.05, maximize=True),
        "NAdam",
        dict(lr=1e-2, weight_decay=0.05, maximize=True),
    ),
    "nadam_betas_eps_momentum_decay": Case(
        lambda: js.nadam(2e-2, betas=(0.6, 0.8), eps=1e-3, momentum_decay=0.2),
        "NAdam",
        dict(lr=2e-2, betas=(0.6, 0.8), eps=1e-3, momentum_decay=0.2),
    ),
    "nadam_steplr": Case(
        lambda: js.nadam(steplr(1e-2), weight_decay=0.1, decoupled_weight_decay=True),
        "NAdam",
        dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
        torch_scheduler=TORCH_STEPLR,
    ),
    "nadam_beta_schedules": Case(
        lambda: js.nadam(1e-2, betas=(rising_beta1, falling_beta2)),
        "NAdam",
        dict(lr=1e-2, betas=(rising_beta1(0), falling_beta2(0))),
        torch_scheduler=torch_betas(rising_beta1, falling_beta2),
    ),
    "nadam_momentum_decay_schedule": Case(
        lambda: js.nadam(1e-2, momentum_decay=_momentum_decay),
        "NAdam",
        dict(lr=1e-2, momentum_decay=_momentum_decay(0)),
        torch_scheduler=torch_group_schedule("momentum_decay", _momentum_decay),
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
    test_bfloat16_params_get_float32_math_and_bfloat16_updates,
) = contract_tests(
    js.nadam,
    "NAdam",
    dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, momentum_decay=0.01),
    dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3, momentum_decay=0.5),
    adam_family_invalid(flags=("decoupled_weight_decay", "maximize"), nonnegative=("weight_decay", "momentum_decay")),
)


def test_mu_product_is_the_product_of_the_momentum_schedule(x64):
    beta1, momentum_decay = 0.9, 0.1
    tx = js.nadam(1e-2, betas=(beta1, 0.999), momentum_decay=momentum_decay)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    for _ in range(5):
        _, state = tx.update({"w": jnp.ones(3)}, state, params)
    inner = state.inner_state
    expected = np.prod([beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)) for t in range(1, 6)])
    assert inner.mu_product.dtype == jnp.float64
    np.testing.assert_allclose(inner.mu_product, expected, rtol=1e-14)


def test_mu_product_is_float32_without_x64():
    inner = js.nadam().init({"w": jnp.ones(2, jnp.bfloat16)}).inner_state
    assert inner.mu_product.dtype == jnp.float32 and jax.tree.leaves(inner.exp_avg)[0].dtype == jnp.float32
