"""torch.optim.Adagrad: when hyperparameters take effect (contract and parity: tests/test_optimizers.py)."""

import pytest

import jaxsched as js
from tests.optim_checks import first_changed_update


@pytest.mark.parametrize("name, value", [("learning_rate", 0.5), ("lr_decay", 0.5), ("eps", 0.5)])
def test_set_hyperparams_mid_run_changes_next_update(name, value):
    tx = js.adagrad(0.1, lr_decay=0.01)
    assert first_changed_update(tx, set_before=1, **{name: value}) == 1


def test_initial_accumulator_value_is_read_once():
    # torch reads it when it creates the state, at the first step: setting it later changes nothing
    tx = js.adagrad(0.1, initial_accumulator_value=0.1)
    assert first_changed_update(tx, set_before=1, initial_accumulator_value=2.0) is None
