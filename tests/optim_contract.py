"""Shared contract tests for an optimizer constructor (beside the torch parity of ``optim_parity``).

A test module calls ``contract_tests(js.adam, ...)`` and binds the returned tests to module names:
argument validation, torch's defaults, hyperparameters readable and settable in the state, and
low-precision parameters with float32 optimizer math.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tests.optim_checks import run_updates
from tests.optim_parity import HAS_TORCH, PARAMS0, grads_at

# jaxsched argument name -> torch's, where they differ.
TORCH_NAMES = {"learning_rate": "lr"}
# Enough updates for every hyperparameter to show (RAdam rectifies from update 6 on).
UPDATES_PER_CHECK = 8


def contract_tests(
    make: Callable[..., Any],
    torch_optimizer: str,
    hyperparams: dict[str, Any],
    changed: dict[str, Any],
    invalid: list[tuple[dict[str, Any], type, tuple[str, ...]]],
    structural: tuple[str, ...] = (),
    params: dict[str, Any] = PARAMS0,
):
    """The contract tests of one optimizer constructor.

    Args:
      make: the constructor, e.g. ``js.adam``.
      torch_optimizer: the ``torch.optim`` class name whose defaults ``make`` must share.
      hyperparams: a value for every numeric argument (nonzero, so no term is compiled out).
      changed: name -> a different value, to set with ``set_hyperparams``.
      invalid: ``(kwargs, error type, texts the message must contain)`` per rejected argument.
      structural: non-bool arguments that shape the compiled update instead of being held in the
        state (Muon's ``ns_steps``, ``adjust_lr_fn``).
      params: the parameters to run on, a subset of ``PARAMS0`` (Muon takes only its matrix).

    The bfloat16 test is for optimizers with ``betas``: it runs them with ``beta2 = 0.999``, which
    bfloat16 would round to 1.
    """
    import pytest

    import jaxsched as js

    @pytest.mark.parametrize("kwargs,error,texts", invalid, ids=[repr(k) for k, _, _ in invalid])
    def test_rejects_invalid_arguments(kwargs, error, texts):
        with pytest.raises(error) as info:
            make(**kwargs)
        for text in texts:
            assert text in str(info.value)

    @pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
    def test_defaults_match_torch():
        import torch

        # a matrix: Muon refuses anything else
        torch_defaults = getattr(torch.optim, torch_optimizer)([torch.zeros(2, 2)]).defaults
        for name, parameter in inspect.signature(make).parameters.items():
            assert torch_defaults[TORCH_NAMES.get(name, name)] == parameter.default, name

    def test_get_hyperparams_names_every_numeric_argument():
        numeric = {
            name
            for name, p in inspect.signature(make).parameters.items()
            if not isinstance(p.default, bool) and name not in structural
        }
        assert set(hyperparams) == numeric
        values = js.get_hyperparams(make(**hyperparams).init(params))
        assert set(values) == numeric
        for name, expected in hyperparams.items():
            np.testing.assert_allclose(np.asarray(values[name], np.float64), expected, rtol=1e-7, err_msg=name)

    @pytest.mark.parametrize("name", sorted(changed))
    def test_set_hyperparams_changes_next_updates(name):
        tx = make(**hyperparams)
        adjusted, _ = run_updates(tx, UPDATES_PER_CHECK, set_before=0, params=params, **{name: changed[name]})
        constructed, _ = run_updates(make(**{**hyperparams, name: changed[name]}), UPDATES_PER_CHECK, params=params)
        np.testing.assert_allclose(adjusted, constructed, rtol=1e-13)
        unchanged, _ = run_updates(tx, UPDATES_PER_CHECK, params=params)
        assert not np.array_equal(adjusted, unchanged), f"setting {name} changed nothing"

    def test_bfloat16_params_get_float32_math_and_bfloat16_updates():
        tx = make(**{**hyperparams, "betas": (0.9, 0.999)})
        low = {k: jnp.asarray(v, jnp.bfloat16) for k, v in PARAMS0.items()}
        high = {k: v.astype(jnp.float32) for k, v in low.items()}
        low_state, high_state = tx.init(low), tx.init(high)
        for step in range(3):
            grads = {k: jnp.asarray(g, jnp.bfloat16) for k, g in grads_at(PARAMS0, step).items()}
            low_updates, low_state = tx.update(grads, low_state, low)
            high_updates, high_state = tx.update({k: g.astype(jnp.float32) for k, g in grads.items()}, high_state, high)
            for k in low:
                assert low_updates[k].dtype == jnp.bfloat16
                # The same float32 math as for float32 parameters, rounded to bfloat16 only at the end.
                np.testing.assert_array_equal(low_updates[k], high_updates[k].astype(jnp.bfloat16))
        floats = [x for x in jax.tree.leaves(low_state) if jnp.issubdtype(x.dtype, jnp.floating)]
        assert floats and all(x.dtype == jnp.float32 for x in floats)
        jax.tree.map(np.testing.assert_array_equal, low_state, high_state)
        beta2 = js.get_hyperparams(low_state)["betas"][1]
        assert beta2.dtype == jnp.float32 and beta2 == np.float32(0.999)  # bfloat16 would round it to 1.0

    return (
        test_rejects_invalid_arguments,
        test_defaults_match_torch,
        test_get_hyperparams_names_every_numeric_argument,
        test_set_hyperparams_changes_next_updates,
        test_bfloat16_params_get_float32_math_and_bfloat16_updates,
    )


def adam_family_invalid(flags: tuple[str, ...] = ("maximize",), nonnegative: tuple[str, ...] = ()) -> list:
    """Rejected arguments shared by the Adam family: lr, eps, betas, flags and extra ``>= 0`` arguments."""
    cases = [
        (dict(learning_rate=-1e-3), ValueError, ("learning_rate", "-0.001")),
        (dict(eps=-1e-8), ValueError, ("eps", "-1e-08")),
        (dict(betas=(1.0, 0.999)), ValueError, ("betas[0]", "[0, 1)", "1.0")),
        (dict(betas=(0.9, -0.1)), ValueError, ("betas[1]", "[0, 1)", "-0.1")),
        (dict(betas=(0.9, float("nan"))), ValueError, ("betas[1]",)),
        (dict(betas=0.9), TypeError, ("betas", "pair", "0.9")),
        (dict(betas=(0.9, 0.99, 0.999)), TypeError, ("betas", "pair")),
        (dict(betas=("0.9", 0.999)), TypeError, ("betas[0]", "'0.9'")),
    ]
    cases += [(dict(**{name: -0.5}), ValueError, (name, "-0.5")) for name in nonnegative]
    cases += [(dict(**{flag: 1}), TypeError, (flag, "True or False")) for flag in flags]
    return cases
