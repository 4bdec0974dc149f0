"""Behaviour of js.lamb that the generic tests do not reach (its entry in tests/optim_db.py has parity, contract, invariants)."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes, first_changed_update
from tests.optim_db import OPTIMIZERS


def test_hyperparameters_held_are_those_the_options_use():
    params = {"w": jnp.ones((2, 2))}
    assert set(js.get_hyperparams(js.lamb().init(params))) == {"learning_rate", "betas", "weight_decay", "eps"}
    both = js.get_hyperparams(js.lamb(pre_norm=True, adanorm=True).init(params))
    assert {"max_grad_norm", "adanorm_r"} <= set(both)


def test_set_adanorm_r_changes_a_later_update():
    # AdaNorm's running norm changes at once, the update only once it exceeds the gradient norm:
    # later than the generic set_hyperparams test looks
    assert first_changed_update(OPTIMIZERS["lamb"].build(), set_before=2, steps=20, adanorm_r=0.5) is not None


@pytest.mark.parametrize(
    "options",
    [dict(), dict(weight_decouple=False, pre_norm=True), dict(rectify=True, degenerated_to_sgd=True, adanorm=True)],
    ids=["batched", "l2_pre_norm", "rectify_adanorm"],
)
def test_option_paths_keep_dtypes(options):
    # the table's example compiles pre_norm and adanorm only: these are the other paths
    assert_mixed_pytree_keeps_dtypes(js.lamb(1e-2, weight_decay=0.1, **options))


def test_trust_ratio_caps_the_weight_norm_at_10(x64):
    params = {"w": jnp.asarray([[30.0, 40.0]])}  # |w| = 50, capped at 10
    tx = js.lamb(0.1, betas=(0.0, 0.0), eps=0.0, adam_debias=True)
    updates, _ = tx.update({"w": jnp.asarray([[1.0, -1.0]])}, tx.init(params), params)
    # u = m / sqrt(v) = sign(g), |u| = sqrt(2); trust = 10 / sqrt(2)
    np.testing.assert_allclose(updates["w"], [[-0.1 * 10 / np.sqrt(2), 0.1 * 10 / np.sqrt(2)]])
