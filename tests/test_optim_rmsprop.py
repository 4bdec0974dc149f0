"""torch.optim.RMSprop parity: centered, momentum, alpha on both sides of torch.lerp's switch, schedules."""

import jax.numpy as jnp
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes
from tests.optim_contract import contract_tests
from tests.optim_parity import Case, TORCH_STEPLR, parity_tests, steplr

CASES = {
    "rmsprop_default": Case(lambda: js.rmsprop(), "RMSprop", dict()),
    "rmsprop_momentum": Case(
        lambda: js.rmsprop(1e-3, momentum=0.9), "RMSprop", dict(lr=1e-3, momentum=0.9)
    ),
    "rmsprop_centered": Case(
        lambda: js.rmsprop(1e-3, alpha=0.9, eps=1e-6, centered=True),
        "RMSprop",
        dict(lr=1e-3, alpha=0.9, eps=1e-6, centered=True),
    ),
    # 1 - alpha >= 0.5 takes torch.lerp's other formula
    "rmsprop_centered_momentum_low_alpha": Case(
        lambda: js.rmsprop(1e-3, alpha=0.3, momentum=0.5, centered=True),
        "RMSprop",
        dict(lr=1e-3, alpha=0.3, momentum=0.5, centered=True),
    ),
    "rmsprop_wd_maximize": Case(
        lambda: js.rmsprop(1e-3, weight_decay=0.1, momentum=0.5, maximize=True),
        "RMSprop",
        dict(lr=1e-3, weight_decay=0.1, momentum=0.5, maximize=True),
    ),
    "rmsprop_steplr": Case(
        lambda: js.rmsprop(steplr(0.01), momentum=0.9, centered=True),
        "RMSprop",
        dict(lr=0.01, momentum=0.9, centered=True),
        torch_scheduler=TORCH_STEPLR,
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)


def _has_momentum_buffer(state):
    return state.inner_state.momentum_buffer is not None


def test_literal_zero_momentum_keeps_no_buffer():
    params = {"w": jnp.ones(3)}
    assert not _has_momentum_buffer(js.rmsprop(momentum=0.0).init(params))
    assert _has_momentum_buffer(js.rmsprop(momentum=0.9).init(params))
    with pytest.raises(ValueError, match="compiled out"):
        js.set_hyperparams(js.rmsprop(momentum=0.0).init(params), momentum=0.9)


# --- contract: validation, torch's defaults, hyperparameters in the state ----------------------

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
    _,  # its bfloat16 check is written for Adam's betas; test_mixed_pytree_keeps_dtypes covers it here
) = contract_tests(
    js.rmsprop,
    "RMSprop",
    dict(learning_rate=0.02, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5),
    dict(learning_rate=0.1, alpha=0.5, eps=1e-2, weight_decay=0.5, momentum=0.1),
    [
        (dict(learning_rate=-0.01), ValueError, ("learning_rate", "-0.01")),
        (dict(alpha=-0.5), ValueError, ("alpha", "[0, 1]", "-0.5")),
        (dict(alpha=1.5), ValueError, ("alpha", "[0, 1]", "1.5")),
        (dict(eps=-1e-8), ValueError, ("eps", "-1e-08")),
        (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
        (dict(momentum=-0.9), ValueError, ("momentum", "-0.9")),
        (dict(momentum=[0.9]), TypeError, ("momentum", "[0.9]")),
        (dict(centered="yes"), TypeError, ("centered", "True or False")),
        (dict(maximize=1.0), TypeError, ("maximize", "True or False")),
    ],
)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_mixed_pytree_keeps_dtypes(centered, momentum):
    assert_mixed_pytree_keeps_dtypes(js.rmsprop(0.01, weight_decay=0.01, momentum=momentum, centered=centered))
