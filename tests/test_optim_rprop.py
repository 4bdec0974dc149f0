"""torch.optim.Rprop parity: etas and step-size clamping, scheduled pairs, lr used only at the first step."""

import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes, first_changed_update
from tests.optim_contract import contract_tests
from tests.optim_parity import Case, TORCH_STEPLR, golden, parity_tests, run_jax, steplr, torch_group_schedule


def _etaplus(t):
    return 1.1 + 0.05 * (t % 3)


def _max_step_size(t):
    return 0.3 / (1 + t)


CASES = {
    "rprop_default": Case(lambda: js.rprop(), "Rprop", dict()),
    "rprop_etas_step_sizes": Case(
        lambda: js.rprop(0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
        "Rprop",
        dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
    ),
    "rprop_maximize": Case(lambda: js.rprop(1e-3, maximize=True), "Rprop", dict(lr=1e-3, maximize=True)),
    # each member of a pair may be a schedule (torch: assign param_groups[0][key] between steps)
    "rprop_scheduled_etas": Case(
        lambda: js.rprop(0.05, etas=(0.4, _etaplus)),
        "Rprop",
        dict(lr=0.05),
        torch_scheduler=torch_group_schedule("etas", lambda e: (0.4, _etaplus(e))),
    ),
    "rprop_scheduled_step_sizes": Case(
        lambda: js.rprop(0.05, step_sizes=(1e-4, _max_step_size)),
        "Rprop",
        dict(lr=0.05),
        torch_scheduler=torch_group_schedule("step_sizes", lambda e: (1e-4, _max_step_size(e))),
    ),
    # torch reads lr only to seed the step sizes: the StepLR decay changes nothing afterwards
    "rprop_steplr": Case(
        lambda: js.rprop(steplr(0.05)),
        "Rprop",
        dict(lr=0.05),
        torch_scheduler=TORCH_STEPLR,
    ),
    "rprop_constant_lr": Case(lambda: js.rprop(0.05), "Rprop", dict(lr=0.05)),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)


def test_learning_rate_schedule_has_no_effect_after_the_first_step():
    # torch (golden) and jaxsched agree that a decaying lr gives exactly the constant-lr trajectory
    np.testing.assert_array_equal(golden("rprop_steplr"), golden("rprop_constant_lr"))
    np.testing.assert_array_equal(run_jax(CASES["rprop_steplr"]), run_jax(CASES["rprop_constant_lr"]))


# --- contract: validation, torch's defaults, hyperparameters in the state ----------------------

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
    _,  # its bfloat16 check is written for Adam's betas; test_mixed_pytree_keeps_dtypes covers it here
) = contract_tests(
    js.rprop,
    "Rprop",
    dict(learning_rate=0.02, etas=(0.4, 1.3), step_sizes=(1e-5, 10.0)),
    dict(learning_rate=0.2, etas=(0.1, 1.9), step_sizes=(1e-3, 0.01)),
    [
        (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
        (dict(etas=0.5), TypeError, ("etas", "pair", "0.5")),
        (dict(etas=(0.5, 1.2, 2.0)), TypeError, ("etas", "pair")),
        (dict(etas=(1.2, 0.5)), ValueError, ("etaminus", "(0, 1)", "1.2")),
        (dict(etas=(0.0, 1.2)), ValueError, ("etaminus", "(0, 1)", "0.0")),
        (dict(etas=(0.5, 1.0)), ValueError, ("etaplus", "(1, inf)", "1.0")),
        (dict(etas=(0.5, "1.2")), TypeError, ("etaplus", "'1.2'")),
        (dict(step_sizes=(1.0, 0.1)), ValueError, ("step_sizes", "minimum <= maximum", "(1.0, 0.1)")),
        (dict(step_sizes=(-1e-6, 50.0)), ValueError, ("step_sizes[0]", "-1e-06")),
        (dict(step_sizes=(1e-6, float("inf"))), ValueError, ("step_sizes[1]", "inf")),
        (dict(step_sizes="small"), TypeError, ("step_sizes", "pair", "'small'")),
        (dict(maximize="yes"), TypeError, ("maximize", "True or False")),
    ],
)


def test_get_hyperparams_returns_pairs():
    hyperparams = js.get_hyperparams(js.rprop(etas=(0.4, 1.3)).init({"w": np.ones(2)}))
    assert isinstance(hyperparams["etas"], tuple) and isinstance(hyperparams["step_sizes"], tuple)
    assert hyperparams["etas"][1] == np.float32(1.3)


@pytest.mark.parametrize(
    "set_before, values, first_changed",
    [
        (1, dict(learning_rate=0.2), None),  # no effect after the first step, as torch
        (1, dict(etas=(0.1, 1.9)), 1),
        (1, dict(step_sizes=(1e-6, 1e-3)), 1),
    ],
)
def test_set_hyperparams_mid_run(set_before, values, first_changed):
    assert first_changed_update(js.rprop(0.01), set_before=set_before, **values) == first_changed


def test_mixed_pytree_keeps_dtypes():
    assert_mixed_pytree_keeps_dtypes(js.rprop(0.1, etas=(0.5, 1.2), step_sizes=(1e-3, 1.0)))
