"""torch.optim.Adagrad parity: lr_decay, initial accumulator, weight decay, maximize, schedules."""

import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes, first_changed_update
from tests.optim_contract import contract_tests
from tests.optim_parity import Case, TORCH_STEPLR, parity_tests, steplr

CASES = {
    "adagrad_default": Case(lambda: js.adagrad(), "Adagrad", dict()),
    "adagrad_lr_decay_accumulator": Case(
        lambda: js.adagrad(0.1, lr_decay=0.05, initial_accumulator_value=0.5, eps=1e-6),
        "Adagrad",
        dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.5, eps=1e-6),
    ),
    "adagrad_wd_maximize": Case(
        lambda: js.adagrad(0.01, weight_decay=0.1, maximize=True),
        "Adagrad",
        dict(lr=0.01, weight_decay=0.1, maximize=True),
    ),
    "adagrad_steplr": Case(
        lambda: js.adagrad(steplr(0.1), lr_decay=0.01),
        "Adagrad",
        dict(lr=0.1, lr_decay=0.01),
        torch_scheduler=TORCH_STEPLR,
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)


# --- contract: validation, torch's defaults, hyperparameters in the state ----------------------

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
    _,  # its bfloat16 check is written for Adam's betas; test_mixed_pytree_keeps_dtypes covers it here
) = contract_tests(
    js.adagrad,
    "Adagrad",
    dict(learning_rate=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8),
    dict(learning_rate=0.5, lr_decay=0.5, weight_decay=0.5, initial_accumulator_value=2.0, eps=0.5),
    [
        (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
        (dict(lr_decay=-1e-3), ValueError, ("lr_decay", "-0.001")),
        (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
        (dict(initial_accumulator_value=-0.1), ValueError, ("initial_accumulator_value", "-0.1")),
        (dict(eps=-1e-10), ValueError, ("eps", "-1e-10")),
        (dict(eps=float("nan")), ValueError, ("eps", "nan")),
        (dict(lr_decay=None), TypeError, ("lr_decay", "None")),
        (dict(maximize=0), TypeError, ("maximize", "True or False")),
    ],
)


@pytest.mark.parametrize("name, value", [("learning_rate", 0.5), ("lr_decay", 0.5), ("eps", 0.5)])
def test_set_hyperparams_mid_run_changes_next_update(name, value):
    tx = js.adagrad(0.1, lr_decay=0.01)
    assert first_changed_update(tx, set_before=1, **{name: value}) == 1


def test_initial_accumulator_value_is_read_once():
    # torch reads it when it creates the state, at the first step: setting it later changes nothing
    tx = js.adagrad(0.1, initial_accumulator_value=0.1)
    assert first_changed_update(tx, set_before=1, initial_accumulator_value=2.0) is None


def test_mixed_pytree_keeps_dtypes():
    assert_mixed_pytree_keeps_dtypes(js.adagrad(0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1))
