"""pytorch_optimizer.Lamb parity (4.1.0): every option that changes the math, decay, schedules."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import (
    assert_mixed_pytree_keeps_dtypes,
    assert_one_trace_setting_hyperparams_in_jit,
    first_changed_update,
)
from tests.optim_contract import adam_family_invalid
from tests.optim_db import TORCH_STEPLR, rising_beta1, steplr
from tests.optim_parity import ParityCase
from tests.reference_parity import assert_defaults_match_reference, reference_parity_tests


def _lamb_case(lr=1e-2, torch_scheduler=None, **options):
    """``js.lamb(lr, **options)`` against ``pytorch_optimizer.Lamb(lr=lr, **options)`` (same names)."""
    learning_rate = lr if torch_scheduler is None else steplr(lr)
    return ParityCase(
        dict(learning_rate=learning_rate, **options),
        torch_scheduler=torch_scheduler,
        make=js.lamb,
        torch_optimizer="pytorch_optimizer.Lamb",
    )


CASES = {
    "lamb_default": _lamb_case(1e-3),
    "lamb_decoupled_weight_decay_steplr": _lamb_case(5e-2, TORCH_STEPLR, weight_decay=0.1),
    "lamb_l2_weight_decay": _lamb_case(weight_decay=0.1, weight_decouple=False),
    "lamb_fixed_decay": _lamb_case(weight_decay=0.01, fixed_decay=True),
    "lamb_adam_no_grad_averaging": _lamb_case(weight_decay=0.1, adam=True, grad_averaging=False, eps=1e-4),
    "lamb_adam_debias_maximize": _lamb_case(1e-3, weight_decay=0.1, adam_debias=True, maximize=True),
    "lamb_pre_norm": _lamb_case(weight_decay=0.1, pre_norm=True, max_grad_norm=0.5),
    # a global gradient norm below max_grad_norm: the float32 scale is exactly 1
    "lamb_pre_norm_unscaled": _lamb_case(weight_decay=0.1, pre_norm=True, max_grad_norm=100.0),
    "lamb_pre_norm_off": _lamb_case(pre_norm=True, max_grad_norm=0.0),
    "lamb_rectify": _lamb_case(3e-2, weight_decay=0.1, rectify=True, betas=(0.8, 0.9)),
    "lamb_rectify_degenerated_l2": _lamb_case(
        3e-2, rectify=True, degenerated_to_sgd=True, n_sma_threshold=4, weight_decay=0.1, weight_decouple=False
    ),
    "lamb_adanorm": _lamb_case(2e-2, TORCH_STEPLR, weight_decay=0.1, adanorm=True, adanorm_r=0.9),
    "lamb_beta1_schedule": _lamb_case(1e-2, betas=(rising_beta1, 0.99), weight_decay=0.1),
}

# The reference computes the pre_norm scale in float32, and this torch's CPU float32 sqrt is not always
# correctly rounded (sqrt(49.87965774536133) gives 7.0625529, the nearest float32 being 7.0625534):
# the scale then differs by one float32 ulp (6e-8 relative), 1e-6 in the parameters after 30 steps.
PRE_NORM_RTOL = 1e-5

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(
    CASES, rtol_for={"lamb_pre_norm": PRE_NORM_RTOL}
)


def test_defaults_match_reference():
    pytest.importorskip("pytorch_optimizer")
    import pytorch_optimizer

    assert_defaults_match_reference(js.lamb, pytorch_optimizer.Lamb)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        *adam_family_invalid(
            flags=(
                "weight_decouple",
                "fixed_decay",
                "rectify",
                "degenerated_to_sgd",
                "grad_averaging",
                "adam",
                "pre_norm",
                "maximize",
                "adam_debias",
                "adanorm",
            ),
            nonnegative=("weight_decay", "max_grad_norm"),
        ),
        (dict(n_sma_threshold=4.5), TypeError, ("n_sma_threshold", "integer")),
        (dict(adanorm_r=1.0), ValueError, ("adanorm_r", "[0, 1)")),
    ],
)
def test_rejects_invalid_arguments(kwargs, error, words):
    with pytest.raises(error) as info:
        js.lamb(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_hyperparameters_held_are_those_the_options_use():
    params = {"w": jnp.ones((2, 2))}
    assert set(js.get_hyperparams(js.lamb().init(params))) == {"learning_rate", "betas", "weight_decay", "eps"}
    both = js.get_hyperparams(js.lamb(pre_norm=True, adanorm=True).init(params))
    assert {"max_grad_norm", "adanorm_r"} <= set(both)


def test_one_trace_while_hyperparameters_change_in_jit():
    assert_one_trace_setting_hyperparams_in_jit(
        js.lamb(1e-2, weight_decay=0.1, pre_norm=True, adanorm=True),
        learning_rate=jnp.float32(1e-2),
        betas=(jnp.float32(0.9), jnp.float32(0.99)),
        weight_decay=jnp.float32(0.1),
        eps=jnp.float32(1e-6),
        max_grad_norm=jnp.float32(0.5),
        adanorm_r=jnp.float32(0.9),
    )


def test_set_hyperparams_changes_the_next_update():
    tx = js.lamb(1e-2, weight_decay=0.1, pre_norm=True, max_grad_norm=0.5, adanorm=True)
    for name, value in dict(
        learning_rate=2e-2, betas=(0.5, 0.9), weight_decay=0.3, eps=1e-2, max_grad_norm=0.1
    ).items():
        assert first_changed_update(tx, set_before=2, **{name: value}) == 2, name
    # AdaNorm's running norm changes at once, the update only once it exceeds the gradient norm
    assert first_changed_update(tx, set_before=2, steps=20, adanorm_r=0.5) is not None


@pytest.mark.parametrize(
    "options",
    [dict(), dict(weight_decouple=False, pre_norm=True), dict(rectify=True, degenerated_to_sgd=True, adanorm=True)],
    ids=["batched", "l2_pre_norm", "rectify_adanorm"],
)
def test_mixed_float32_bfloat16_tree_keeps_dtypes(options):
    assert_mixed_pytree_keeps_dtypes(js.lamb(1e-2, weight_decay=0.1, **options))


def test_trust_ratio_caps_the_weight_norm_at_10(x64):
    params = {"w": jnp.asarray([[30.0, 40.0]])}  # |w| = 50, capped at 10
    tx = js.lamb(0.1, betas=(0.0, 0.0), eps=0.0, adam_debias=True)
    updates, _ = tx.update({"w": jnp.asarray([[1.0, -1.0]])}, tx.init(params), params)
    # u = m / sqrt(v) = sign(g), |u| = sqrt(2); trust = 10 / sqrt(2)
    np.testing.assert_allclose(updates["w"], [[-0.1 * 10 / np.sqrt(2), 0.1 * 10 / np.sqrt(2)]])


def test_refuses_complex_parameters():
    with pytest.raises(ValueError, match="complex"):
        js.lamb().init({"z": jnp.ones(2, jnp.complex64)})
