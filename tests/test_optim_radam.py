"""torch.optim.RAdam parity: every option, the rectification switch, schedules as learning rate and betas."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js
from jaxsched.optimizers._radam import rectification
from tests.optim_contract import adam_family_invalid, contract_tests
from tests.optim_parity import Case, TORCH_STEPLR, parity_tests, rising_beta1, steplr, torch_betas


def _toggling_beta2(t):
    """0.999 (rectified from t = 6 on) for two steps, then 0.5 (rho_inf = 3: never rectified) for two."""
    return 0.5 + 0.499 * (t % 4 < 2)


CASES = {
    "radam_default": Case(lambda: js.radam(1e-2), "RAdam", dict(lr=1e-2)),
    "radam_l2_weight_decay": Case(lambda: js.radam(1e-2, weight_decay=0.1), "RAdam", dict(lr=1e-2, weight_decay=0.1)),
    "radam_decoupled_weight_decay": Case(
        lambda: js.radam(1e-2, weight_decay=0.2, decoupled_weight_decay=True),
        "RAdam",
        dict(lr=1e-2, weight_decay=0.2, decoupled_weight_decay=True),
    ),
    "radam_maximize_wd": Case(
        lambda: js.radam(1e-2, weight_decay=0.05, maximize=True),
        "RAdam",
        dict(lr=1e-2, weight_decay=0.05, maximize=True),
    ),
    # beta2 = 0.9: rho_inf = 19, rectified from step 6 on.
    "radam_betas_eps": Case(
        lambda: js.radam(2e-2, betas=(0.6, 0.9), eps=1e-3), "RAdam", dict(lr=2e-2, betas=(0.6, 0.9), eps=1e-3)
    ),
    "radam_never_rectified": Case(
        lambda: js.radam(1e-2, betas=(0.9, 0.5)), "RAdam", dict(lr=1e-2, betas=(0.9, 0.5))
    ),
    "radam_steplr": Case(
        lambda: js.radam(steplr(1e-2), weight_decay=0.1, decoupled_weight_decay=True),
        "RAdam",
        dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
        torch_scheduler=TORCH_STEPLR,
    ),
    "radam_beta_schedules_toggle_rectification": Case(
        lambda: js.radam(1e-2, betas=(rising_beta1, _toggling_beta2)),
        "RAdam",
        dict(lr=1e-2, betas=(rising_beta1(0), _toggling_beta2(0))),
        torch_scheduler=torch_betas(rising_beta1, _toggling_beta2),
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
    js.radam,
    "RAdam",
    dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3),
    adam_family_invalid(flags=("decoupled_weight_decay", "maximize"), nonnegative=("weight_decay",)),
)


def test_rectification_switches_on_after_rho_t_exceeds_5(x64):
    t = jnp.arange(1.0, 9.0)
    rectify, rect = rectification(jnp.asarray(0.999), t)
    np.testing.assert_array_equal(rectify, t >= 6)
    rho_inf = 2 / (1 - 0.999) - 1
    rho_t = rho_inf - 2 * 6 * 0.999**6 / (1 - 0.999**6)
    expected = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    np.testing.assert_allclose(rect[5], expected, rtol=1e-12)
    assert np.all(np.isfinite(rect))


def test_unrectified_steps_are_bias_corrected_momentum():
    tx = js.radam(0.5, betas=(0.5, 0.999), eps=1e-8)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    updates, state = tx.update({"w": jnp.asarray([2.0, -1.0])}, state, params)
    np.testing.assert_allclose(updates["w"], [-1.0, 0.5])  # lr * m / (1 - beta1) = lr * g
    updates, _ = tx.update({"w": jnp.asarray([4.0, 1.0])}, state, params)
    np.testing.assert_allclose(updates["w"], [-0.5 * 2.5 / 0.75, -0.5 * 0.25 / 0.75])  # m = [2.5, 0.25]


def test_no_nan_when_rho_inf_makes_rect_undefined():
    # beta2 = 1/3 gives rho_inf = 2, where rect would divide by zero: the unrectified branch is used.
    tx = js.radam(0.1, betas=(0.9, 1 / 3))
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    for _ in range(3):
        updates, state = tx.update({"w": jnp.asarray([1.0, -2.0, 0.0])}, state, params)
        assert np.all(np.isfinite(updates["w"]))
