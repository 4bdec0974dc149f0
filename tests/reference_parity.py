"""Parity with optimizers outside torch.optim (lion-pytorch, pytorch_optimizer), on optim_parity's problem.

A :class:`~tests.optim_parity.ParityCase` here names its reference as ``"package.Class"``
(``"lion_pytorch.Lion"``); ``run_torch`` runs it like a ``torch.optim`` class. Golden trajectories of the reference alone are stored in
``tests/golden/reference_optimizers_lion_lamb.npz`` by ``generate_reference_optimizers_lion_lamb.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib

import numpy as np

from tests.optim_parity import ATOL, ParityCase, assert_trajectories_close, run_jax, run_torch

GOLDEN = pathlib.Path(__file__).parent / "golden" / "reference_optimizers_lion_lamb.npz"


def has_reference(case: ParityCase) -> bool:
    return importlib.util.find_spec("torch") is not None and (
        importlib.util.find_spec(case.torch_optimizer.split(".")[0]) is not None
    )


def golden(name: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        if name not in data:
            raise KeyError(
                f"no golden trajectory {name!r}: run `python tests/golden/generate_reference_optimizers_lion_lamb.py`"
            )
        return data[name]


def assert_close_within(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float | None) -> None:
    """:func:`assert_trajectories_close`, or every step within ``rtol`` where a case has a stated reason for one."""
    if rtol is None:
        assert_trajectories_close(actual, expected, what)
        return
    for step, (a, e) in enumerate(zip(actual, expected, strict=True)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=ATOL, err_msg=f"{what}: differs at step {step}")


def reference_parity_tests(cases: dict[str, ParityCase], rtol_for: dict[str, float] | None = None):
    """The two parity tests of a module's ``CASES``: against stored golden values and the live reference.

    ``rtol_for`` loosens the tolerance of named cases (each with its reason where it is given).
    """
    import pytest

    names = sorted(cases)
    rtol_for = rtol_for or {}

    @pytest.mark.parametrize("name", names)
    def test_matches_golden_reference_trajectory(name):
        assert_close_within(run_jax(cases[name]), golden(name), name, rtol_for.get(name))

    @pytest.mark.parametrize("name", names)
    def test_matches_live_reference(name):
        if not has_reference(cases[name]):
            pytest.skip(f"{cases[name].torch_optimizer} not installed (golden values still checked)")
        assert_close_within(run_jax(cases[name]), run_torch(cases[name]), name, rtol_for.get(name))

    return test_matches_golden_reference_trajectory, test_matches_live_reference


def assert_defaults_match_reference(make, reference, renamed=(("lr", "learning_rate"),)) -> None:
    """Every reference constructor argument with a default has the same default in ``make`` (``renamed`` maps names)."""
    import inspect

    ours = {name: p.default for name, p in inspect.signature(make).parameters.items()}
    renamed = dict(renamed)
    for name, p in inspect.signature(reference.__init__).parameters.items():
        if p.default is inspect.Parameter.empty or renamed.get(name, name) not in ours:
            continue
        assert ours[renamed.get(name, name)] == p.default, (
            f"default of {name}: {ours[renamed.get(name, name)]!r} vs {p.default!r}"
        )
