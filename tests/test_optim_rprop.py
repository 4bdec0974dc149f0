"""torch.optim.Rprop: lr used only at the first step, pairs (contract and parity: tests/test_optimizers.py)."""

import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import first_changed_update
from tests.optim_db import PARITY_CASES
from tests.optim_parity import golden, run_jax


def test_learning_rate_schedule_has_no_effect_after_the_first_step():
    # torch (golden) and jaxsched agree that a decaying lr gives exactly the constant-lr trajectory
    np.testing.assert_array_equal(golden("rprop_steplr"), golden("rprop_constant_lr"))
    np.testing.assert_array_equal(run_jax(PARITY_CASES["rprop_steplr"]), run_jax(PARITY_CASES["rprop_constant_lr"]))


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
