"""prodigyopt.Prodigy parity (every option that changes the math), state, validation."""

import inspect
import math

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes, run_updates
from tests.optim_invariant_checks import (
    assert_one_compile_across_hyperparameter_changes,
    assert_vmap_over_learning_rates_equals_loop,
)
from tests.schedule_free_parity import ReferenceCase, has_package, reference_case, reference_parity_tests


def prodigy_case(**kwargs) -> ReferenceCase:
    return reference_case(js.prodigy, "prodigyopt.Prodigy", **kwargs)


def lr_with_a_pause(step):
    """1, then 0 for steps 10-12 (the reference then skips the step entirely), then 0.5; for jax and Python ints."""
    return 1.0 - 1.0 * (step >= 10) + 0.5 * (step >= 13)


REFERENCE_CASES = {
    "prodigy_default": prodigy_case(),
    "prodigy_decoupled_weight_decay": prodigy_case(weight_decay=0.01),
    "prodigy_coupled_bias_correction_safeguard": prodigy_case(
        weight_decay=0.01, decouple=False, use_bias_correction=True, safeguard_warmup=True, d0=1e-2
    ),
    "prodigy_growth_rate_d_coef": prodigy_case(lr=0.5, weight_decay=0.01, growth_rate=1.5, d_coef=2.0, d0=1e-4),
    "prodigy_no_momentum_beta3": prodigy_case(betas=(0.0, 0.99), beta3=0.9, eps=1e-6, weight_decay=0.05),
    "prodigy_changing_lr": prodigy_case(weight_decay=0.01, d0=1e-3, learning_rate_at=lr_with_a_pause),
    "prodigy_slice_p": prodigy_case(slice_p=3, weight_decay=0.01, use_bias_correction=True),
}

# tests/golden/generate.py runs every test_optim_* module's torch.optim CASES; these have none
CASES: dict = {}

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(REFERENCE_CASES)

HYPERPARAMS = dict(learning_rate=0.5, betas=(0.9, 0.99), beta3=0.95, eps=1e-6, weight_decay=0.01, d0=1e-4, d_coef=2.0)


@pytest.mark.skipif(not (has_package("torch") and has_package("prodigyopt")), reason="prodigyopt not installed")
def test_defaults_match_reference():
    import prodigyopt
    import torch

    defaults = prodigyopt.Prodigy([torch.zeros(1)]).defaults
    for name, parameter in inspect.signature(js.prodigy).parameters.items():
        assert defaults["lr" if name == "learning_rate" else name] == parameter.default, name


@pytest.mark.parametrize(
    "kwargs, error, texts",
    [
        (dict(learning_rate=0.0), ValueError, ("learning_rate", "(0, inf)")),
        (dict(betas=(1.0, 0.999)), ValueError, ("betas[0]", "[0, 1)")),
        (dict(betas=(0.9, -0.1)), ValueError, ("betas[1]", "[0, 1)")),
        (dict(beta3=1.0), ValueError, ("beta3", "[0, 1)")),
        (dict(eps=0.0), ValueError, ("eps", "(0, inf)")),
        (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
        (dict(d0=0.0), ValueError, ("d0", "(0, inf)")),
        (dict(d_coef=-1.0), ValueError, ("d_coef", "-1.0")),
        (dict(growth_rate=0.0), ValueError, ("growth_rate", "(0, inf)")),
        (dict(growth_rate=float("nan")), ValueError, ("growth_rate", "nan")),
        (dict(slice_p=0), ValueError, ("slice_p", ">= 1")),
        (dict(slice_p=1.5), TypeError, ("slice_p", "integer")),
        (dict(decouple=1), TypeError, ("decouple", "True or False")),
        (dict(safeguard_warmup="yes"), TypeError, ("safeguard_warmup", "True or False")),
    ],
)
def test_rejects_invalid_arguments(kwargs, error, texts):
    with pytest.raises(error) as info:
        js.prodigy(**kwargs)
    for text in texts:
        assert text in str(info.value)


def test_hyperparameters_are_in_the_state():
    params = {"w": jnp.array([1.0, -2.0, 3.0])}
    values = js.get_hyperparams(js.prodigy(**HYPERPARAMS).init(params))
    assert set(values) == set(HYPERPARAMS) | {"growth_rate"}
    assert float(values["growth_rate"]) == math.inf
    assert "beta3" not in js.get_hyperparams(js.prodigy().init(params))  # None: sqrt(beta2) at every step


@pytest.mark.parametrize(
    "name, value", [("learning_rate", 0.2), ("weight_decay", 0.3), ("d_coef", 0.5), ("beta3", 0.5)]
)
def test_set_hyperparams_equals_constructing_with_the_value(name, value):
    adjusted, _ = run_updates(js.prodigy(**HYPERPARAMS), 6, set_before=0, **{name: value})
    constructed, _ = run_updates(js.prodigy(**{**HYPERPARAMS, name: value}), 6)
    np.testing.assert_allclose(adjusted, constructed, rtol=1e-13)


def test_state_has_the_reference_names_and_slices():
    params = {"w": jnp.arange(7.0), "b": jnp.array(0.5)}
    state = js.prodigy(slice_p=3).init(params).inner_state
    assert isinstance(state, js.ProdigyState)
    assert state._fields == ("k", "d", "d_max", "d_numerator", "s", "p0", "exp_avg", "exp_avg_sq")
    np.testing.assert_array_equal(state.p0["w"], [0.0, 3.0, 6.0])
    assert state.s["b"].shape == (1,) and float(state.d) == pytest.approx(1e-6)


def test_zero_gradients_change_nothing():
    # the reference returns early when sum |s| is 0: no step, no count, d unchanged
    tx = js.prodigy(weight_decay=0.1)
    params = {"w": jnp.array([1.0, -2.0])}
    state = tx.init(params)
    updates, new_state = tx.update({"w": jnp.zeros(2)}, state, params)
    np.testing.assert_array_equal(updates["w"], 0.0)
    assert int(new_state.inner_state.k) == 0 and float(new_state.inner_state.d) == float(state.inner_state.d)


def test_complex_parameters_are_refused():
    with pytest.raises(ValueError, match="complex"):
        js.prodigy().init({"w": jnp.ones(2, jnp.complex64)})


def test_one_compile_across_hyperparameter_changes():
    assert_one_compile_across_hyperparameter_changes(
        js.prodigy(**HYPERPARAMS), learning_rate=lambda i: 1.0 / (i + 1), d_coef=lambda i: 1.0 + i
    )


def test_mixed_pytree_keeps_dtypes():
    assert_mixed_pytree_keeps_dtypes(js.prodigy(weight_decay=0.01, slice_p=2))


def test_vmap_over_learning_rates_equals_loop():
    assert_vmap_over_learning_rates_equals_loop(js.prodigy(weight_decay=0.01), [0.1, 0.5, 1.0, 2.0])
