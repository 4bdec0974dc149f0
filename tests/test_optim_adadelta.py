"""torch.optim.Adadelta parity: rho, eps, weight decay, maximize, schedules; the default lr descends."""

import jax.numpy as jnp
import numpy as np

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes
from tests.optim_contract import contract_tests
from tests.optim_parity import Case, TORCH_STEPLR, parity_tests, steplr

CASES = {
    "adadelta_default": Case(lambda: js.adadelta(), "Adadelta", dict()),
    "adadelta_rho_eps": Case(
        lambda: js.adadelta(0.5, rho=0.5, eps=1e-3), "Adadelta", dict(lr=0.5, rho=0.5, eps=1e-3)
    ),
    "adadelta_wd_maximize": Case(
        lambda: js.adadelta(0.1, weight_decay=0.1, maximize=True),
        "Adadelta",
        dict(lr=0.1, weight_decay=0.1, maximize=True),
    ),
    "adadelta_steplr": Case(
        lambda: js.adadelta(steplr(1.0), rho=0.95),
        "Adadelta",
        dict(lr=1.0, rho=0.95),
        torch_scheduler=TORCH_STEPLR,
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)


def test_default_learning_rate_descends():
    # optax.adadelta() with its default learning_rate=None ascends; torch's lr=1.0 and ours descend
    params = {"w": jnp.array([1.0, -2.0])}
    tx = js.adadelta()
    updates, _ = tx.update(params, tx.init(params), params)  # gradient of |w|^2 / 2 is w
    assert np.all(np.sign(updates["w"]) == -np.sign(params["w"]))


# --- contract: validation, torch's defaults, hyperparameters in the state ----------------------

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
    _,  # its bfloat16 check is written for Adam's betas; test_mixed_pytree_keeps_dtypes covers it here
) = contract_tests(
    js.adadelta,
    "Adadelta",
    dict(learning_rate=0.5, rho=0.8, eps=1e-5, weight_decay=0.01),
    dict(learning_rate=0.3, rho=0.5, eps=1e-2, weight_decay=0.5),
    [
        (dict(learning_rate=-1.0), ValueError, ("learning_rate", "-1.0")),
        (dict(rho=-0.1), ValueError, ("rho", "[0, 1]", "-0.1")),
        (dict(rho=1.1), ValueError, ("rho", "[0, 1]", "1.1")),
        (dict(eps=-1e-6), ValueError, ("eps", "-1e-06")),
        (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
        (dict(rho="0.9"), TypeError, ("rho", "'0.9'")),
        (dict(maximize=None), TypeError, ("maximize", "True or False")),
    ],
)


def test_mixed_pytree_keeps_dtypes():
    assert_mixed_pytree_keeps_dtypes(js.adadelta(weight_decay=0.01))
