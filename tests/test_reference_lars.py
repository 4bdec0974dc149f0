"""pytorch_optimizer.LARS parity (4.1.0): trust ratio on matrices only, decay, momentum, Nesterov, schedules."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import (
    assert_mixed_pytree_keeps_dtypes,
    assert_one_trace_setting_hyperparams_in_jit,
    first_changed_update,
)
from tests.optim_db import TORCH_STEPLR, steplr
from tests.optim_parity import ParityCase
from tests.reference_parity import assert_defaults_match_reference, reference_parity_tests


def _lars_case(torch_scheduler=None, **kwargs):
    return ParityCase(kwargs, torch_scheduler=torch_scheduler, make=js.lars, torch_optimizer="pytorch_optimizer.LARS")


CASES = {
    "lars_default": _lars_case(),
    "lars_weight_decay_steplr": _lars_case(
        TORCH_STEPLR, learning_rate=steplr(0.3), weight_decay=0.1, trust_coefficient=0.5
    ),
    "lars_nesterov": _lars_case(
        learning_rate=0.1, weight_decay=0.05, momentum=0.8, nesterov=True, trust_coefficient=0.2
    ),
    "lars_maximize": _lars_case(learning_rate=2e-3, weight_decay=0.05, trust_coefficient=0.2, maximize=True),
    "lars_dampening": _lars_case(
        learning_rate=0.3, weight_decay=0.01, momentum=0.5, dampening=0.3, trust_coefficient=0.1
    ),
    "lars_no_momentum": _lars_case(learning_rate=0.2, weight_decay=0.2, momentum=0.0, trust_coefficient=0.05),
    # momentum switched off for steps 10-19: the reference leaves its buffer untouched meanwhile
    "lars_momentum_schedule": _lars_case(
        learning_rate=0.2, weight_decay=0.1, momentum=lambda t: 0.9 * ((t < 10) | (t >= 20)), dampening=0.2
    ),
}

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(CASES)


def test_defaults_match_reference():
    pytest.importorskip("pytorch_optimizer")
    import pytorch_optimizer

    assert_defaults_match_reference(js.lars, pytorch_optimizer.LARS)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(learning_rate=-1.0), ValueError, ("learning_rate", "[0, inf)")),
        (dict(weight_decay=-1.0), ValueError, ("weight_decay", "[0, inf)")),
        (dict(momentum=1.0), ValueError, ("momentum", "[0, 1)")),
        (dict(dampening=-0.1), ValueError, ("dampening", "[0, 1)")),
        (dict(trust_coefficient=-1e-3), ValueError, ("trust_coefficient", "[0, inf)")),
        (dict(nesterov="yes"), TypeError, ("nesterov", "True or False")),
        (dict(maximize=None), TypeError, ("maximize", "True or False")),
    ],
)
def test_rejects_invalid_arguments(kwargs, error, words):
    with pytest.raises(error) as info:
        js.lars(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_one_trace_while_hyperparameters_change_in_jit():
    assert_one_trace_setting_hyperparams_in_jit(
        js.lars(0.1, weight_decay=0.1),
        learning_rate=jnp.float32(0.1),
        momentum=jnp.float32(0.9),
        trust_coefficient=jnp.float32(1e-3),
    )


def test_set_hyperparams_changes_the_next_update():
    tx = js.lars(0.1, weight_decay=0.1, dampening=0.1)
    for name, value in dict(
        learning_rate=0.2, weight_decay=0.3, momentum=0.5, dampening=0.4, trust_coefficient=0.1
    ).items():
        assert first_changed_update(tx, set_before=2, **{name: value}) == 2, name


def test_mixed_float32_bfloat16_tree_keeps_dtypes():
    assert_mixed_pytree_keeps_dtypes(js.lars(0.1, weight_decay=0.1, nesterov=True))
    assert_mixed_pytree_keeps_dtypes(js.lars(0.1, momentum=0.0))


def test_vectors_and_scalars_are_plain_sgd(x64):
    tx = js.lars(0.5, weight_decay=0.3, momentum=0.0, trust_coefficient=0.01)
    params = {"vector": jnp.asarray([1.0, 2.0]), "scalar": jnp.asarray(3.0), "matrix": jnp.asarray([[3.0, 4.0]])}
    grads = {"vector": jnp.asarray([0.5, -1.0]), "scalar": jnp.asarray(2.0), "matrix": jnp.asarray([[0.0, 1.0]])}
    updates, _ = tx.update(grads, tx.init(params), params)
    np.testing.assert_allclose(updates["vector"], [-0.25, 0.5])
    np.testing.assert_allclose(updates["scalar"], -1.0)
    trust = 0.01 * 5.0 / (1.0 + 0.3 * 5.0)
    np.testing.assert_allclose(updates["matrix"], [[-0.5 * trust * 0.9, -0.5 * trust * 2.2]])


def test_no_momentum_keeps_no_buffer():
    assert js.lars(momentum=0.0).init({"w": jnp.ones((2, 2))}).inner_state == js.LarsState(None)


def test_refuses_complex_parameters():
    with pytest.raises(ValueError, match="complex"):
        js.lars().init({"z": jnp.ones((2, 2), jnp.complex64)})
