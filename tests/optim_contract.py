"""Contract tests for an optimizer outside the table of tests/optim_db.py: ``js.muon``, which takes matrices only.

A test module calls ``contract_tests(js.muon, ...)`` and binds the returned tests to module names:
argument validation, torch's defaults, hyperparameters readable and settable in the state. The
table's generic tests run every optimizer on vectors and scalars too, which Muon refuses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from tests.optim_checks import run_updates
from tests.optim_parity import HAS_TORCH, PARAMS0

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

    return (
        test_rejects_invalid_arguments,
        test_defaults_match_torch,
        test_get_hyperparams_names_every_numeric_argument,
        test_set_hyperparams_changes_next_updates,
    )
