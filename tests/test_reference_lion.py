"""lion_pytorch.Lion parity (lion-pytorch 0.2.5): decay, decoupled decay, a learning-rate schedule, beta schedules."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import (
    assert_mixed_pytree_keeps_dtypes,
    assert_one_trace_setting_hyperparams_in_jit,
    first_changed_update,
)
from tests.optim_db import TORCH_STEPLR, rising_beta1, steplr
from tests.optim_parity import ParityCase
from tests.reference_parity import assert_defaults_match_reference, reference_parity_tests


def _lion_case(torch_scheduler=None, **kwargs):
    return ParityCase(kwargs, torch_scheduler=torch_scheduler, make=js.lion, torch_optimizer="lion_pytorch.Lion")


CASES = {
    "lion_default": _lion_case(),
    "lion_weight_decay": _lion_case(learning_rate=3e-2, betas=(0.8, 0.95), weight_decay=0.5),
    "lion_decoupled_weight_decay_steplr": _lion_case(
        TORCH_STEPLR, learning_rate=steplr(2e-2), weight_decay=1e-2, decoupled_weight_decay=True
    ),
    "lion_beta1_schedule": _lion_case(learning_rate=1e-2, betas=(rising_beta1, 0.99), weight_decay=0.1),
}

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(CASES)


def test_defaults_match_reference():
    pytest.importorskip("lion_pytorch")
    import lion_pytorch

    assert_defaults_match_reference(js.lion, lion_pytorch.Lion)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(learning_rate=0.0), ValueError, ("learning_rate", "(0, inf)")),
        (dict(betas=(1.5, 0.99)), ValueError, ("betas[0]", "[0, 1]")),
        (dict(betas=(0.9, -0.1)), ValueError, ("betas[1]", "[0, 1]")),
        (dict(betas=0.9), TypeError, ("betas", "pair")),
        (dict(weight_decay=-1.0), ValueError, ("weight_decay", "[0, inf)")),
        (dict(decoupled_weight_decay=1), TypeError, ("decoupled_weight_decay", "True or False")),
        (dict(learning_rate=lambda t: 0.0 * t, decoupled_weight_decay=True), ValueError, ("learning_rate at step 0",)),
    ],
)
def test_rejects_invalid_arguments(kwargs, error, words):
    with pytest.raises(error) as info:
        js.lion(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_one_trace_while_hyperparameters_change_in_jit():
    assert_one_trace_setting_hyperparams_in_jit(
        js.lion(1e-2, weight_decay=0.1), learning_rate=jnp.float32(1e-2), betas=(jnp.float32(0.9), jnp.float32(0.99))
    )


def test_set_hyperparams_changes_the_next_update():
    tx = js.lion(1e-2, weight_decay=0.1)
    for values in (dict(learning_rate=2e-2), dict(weight_decay=0.3)):
        assert first_changed_update(tx, set_before=2, **values) == 2


def test_mixed_float32_bfloat16_tree_keeps_dtypes():
    assert_mixed_pytree_keeps_dtypes(js.lion(1e-2, weight_decay=0.1))
    assert_mixed_pytree_keeps_dtypes(js.lion(1e-2, decoupled_weight_decay=True, weight_decay=1e-3))


def test_zero_weight_decay_needs_no_params_and_is_fixed():
    tx = js.lion(1e-2)
    state = tx.init({"w": jnp.ones(3)})
    updates, _ = tx.update({"w": jnp.asarray([1.0, -2.0, 0.0])}, state)
    np.testing.assert_allclose(updates["w"], [-1e-2, 1e-2, 0.0], rtol=1e-6)
    with pytest.raises(Exception, match="weight_decay"):
        js.set_hyperparams(state, weight_decay=0.1)


def test_decoupled_weight_decay_divides_by_the_initial_learning_rate(x64):
    params = {"w": jnp.asarray([2.0])}
    for learning_rate in (0.5, steplr(0.5)):
        tx = js.lion(learning_rate, weight_decay=0.1, decoupled_weight_decay=True)
        updates, _ = tx.update({"w": jnp.asarray([0.0])}, tx.init(params), params)
        np.testing.assert_allclose(updates["w"], [-0.1 * 2.0])  # lr * (wd / initial lr) * p


def test_refuses_complex_parameters():
    with pytest.raises(ValueError, match="complex"):
        js.lion().init({"z": jnp.ones(2, jnp.complex64)})
