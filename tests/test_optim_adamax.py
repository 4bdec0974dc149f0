"""torch.optim.Adamax parity: every option, schedules as learning rate and betas."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js
from jaxsched.optimizers._adamax import AdamaxState
from tests.optim_contract import adam_family_invalid, contract_tests
from tests.optim_parity import Case, TORCH_STEPLR, parity_tests, rising_beta1, steplr, torch_betas


def _beta2(t):
    return 0.6 + 0.3 * 0.9**t


CASES = {
    "adamax_default": Case(lambda: js.adamax(), "Adamax", dict()),
    "adamax_l2_weight_decay": Case(
        lambda: js.adamax(1e-2, weight_decay=0.1), "Adamax", dict(lr=1e-2, weight_decay=0.1)
    ),
    "adamax_maximize_wd": Case(
        lambda: js.adamax(1e-2, weight_decay=0.05, maximize=True),
        "Adamax",
        dict(lr=1e-2, weight_decay=0.05, maximize=True),
    ),
    # beta2 = 0.5 lets u fall back to |g| + eps, and eps = 0.1 is large enough to matter there.
    "adamax_betas_eps": Case(
        lambda: js.adamax(2e-2, betas=(0.3, 0.5), eps=0.1), "Adamax", dict(lr=2e-2, betas=(0.3, 0.5), eps=0.1)
    ),
    "adamax_steplr": Case(
        lambda: js.adamax(steplr(1e-2)),
        "Adamax",
        dict(lr=1e-2),
        torch_scheduler=TORCH_STEPLR,
    ),
    "adamax_beta_schedules": Case(
        lambda: js.adamax(1e-2, betas=(rising_beta1, _beta2)),
        "Adamax",
        dict(lr=1e-2, betas=(rising_beta1(0), _beta2(0))),
        torch_scheduler=torch_betas(rising_beta1, _beta2),
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
    js.adamax,
    "Adamax",
    dict(learning_rate=1e-2, betas=(0.8, 0.5), eps=1e-2, weight_decay=0.1),
    dict(learning_rate=3e-2, betas=(0.5, 0.3), eps=0.1, weight_decay=0.3),
    adam_family_invalid(nonnegative=("weight_decay",)),
)


def test_infinity_norm_adds_eps_inside_the_max():
    tx = js.adamax(1.0, betas=(0.0, 0.5), eps=0.25)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for g in ([4.0, 1.0], [1.0, 3.0]):
        updates, state = tx.update({"w": jnp.asarray(g)}, state, params)
    inner = state.inner_state
    # u = max(0.5 u, |g| + eps): [4.25, 1.25] then [max(2.125, 1.25), max(0.625, 3.25)].
    np.testing.assert_allclose(inner.exp_inf["w"], [2.125, 3.25])
    np.testing.assert_allclose(updates["w"], [-1.0 / 2.125, -3.0 / 3.25])  # beta1 = 0: m = g, no correction
