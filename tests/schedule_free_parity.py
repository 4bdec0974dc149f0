"""Parity with schedulefree's optimizers, whose evaluation parameters the table's trajectories lack.

tests/test_optim_schedule_free.py defines ``REFERENCE_CASES = {name: ReferenceCase(...)}``;
``tests/golden/generate_reference_optimizers_schedule_free.py`` stores the reference side of every
case; tests compare jaxsched against that file always, and against the live reference when its
package is installed. Besides the parameters, a case records the evaluation
parameters after every update: the reference's after ``optimizer.eval()`` (on a copy, as the
train/eval round trip itself moves the parameters by rounding), jaxsched's from
``js.schedule_free_eval_params``.
"""

from __future__ import annotations

import copy
import dataclasses
import pathlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tests.optim_parity import (
    ATOL,
    PARAMS0,
    RTOL,
    STEPS,
    flatten,
    grads_at,
    has_reference,
    jitted_step,
    optimizer_class_of,
)

GOLDEN = pathlib.Path(__file__).parent / "golden" / "reference_optimizers_schedule_free.npz"


@dataclasses.dataclass
class ReferenceCase:
    """A jaxsched optimizer and the reference optimizer class (``"package.Class"``) it must equal.

    ``learning_rate_at(step)`` (optional) is assigned to every group's ``lr`` before each reference
    step, as users change it there; the jaxsched side takes it as its learning-rate schedule.
    """

    make_jax: Callable[[], Any]
    reference: str
    kwargs: dict
    learning_rate_at: Callable[[int], Any] | None = None
    steps: int = STEPS


def reference_case(make: Callable[..., Any], reference: str, learning_rate_at=None, **kwargs) -> ReferenceCase:
    """The case ``make(**kwargs)`` against ``reference(params, **kwargs)``, ``lr`` spelled ``learning_rate`` in jaxsched."""
    jax_kwargs = {("learning_rate" if k == "lr" else k): v for k, v in kwargs.items()}
    if learning_rate_at is not None:
        jax_kwargs["learning_rate"] = learning_rate_at
    return ReferenceCase(lambda: make(**jax_kwargs), reference, kwargs, learning_rate_at)


def run_reference(case: ReferenceCase) -> dict[str, np.ndarray]:
    """``{"params": steps + 1 rows, "eval": steps rows}`` from the reference, in float64."""
    import torch

    optimizer_class = optimizer_class_of(case.reference)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in PARAMS0.items()}
        optimizer = optimizer_class([tensors[k] for k in sorted(tensors)], **case.kwargs)
        optimizer.train()

        def current(params):
            return flatten({k: t.detach().numpy() for k, t in zip(sorted(tensors), params)})

        rows, eval_rows = [current(tensors[k] for k in sorted(tensors))], []
        for step in range(case.steps):
            grads = grads_at({k: t.detach().numpy() for k, t in tensors.items()}, step)
            for k, t in tensors.items():
                t.grad = torch.from_numpy(np.array(grads[k], np.float64))
            if case.learning_rate_at is not None:
                for group in optimizer.param_groups:
                    group["lr"] = float(case.learning_rate_at(step))
            optimizer.step()
            rows.append(current(tensors[k] for k in sorted(tensors)))
            evaluated = copy.deepcopy(optimizer)
            evaluated.eval()
            eval_rows.append(current(evaluated.param_groups[0]["params"]))
    finally:
        torch.set_default_dtype(previous)
    return {"params": np.stack(rows), "eval": np.stack(eval_rows)}


def run_jax(case: ReferenceCase) -> dict[str, np.ndarray]:
    """The same trajectories under jaxsched (jitted, float64)."""
    import jaxsched as js

    with jax.enable_x64(True):
        tx = case.make_jax()
        params = {k: jnp.asarray(v, jnp.float64) for k, v in PARAMS0.items()}
        state = tx.init(params)
        step_fn = jitted_step(tx)
        rows, eval_rows = [flatten(params)], []
        for step in range(case.steps):
            params, state = step_fn(params, state, grads_at(params, step))
            rows.append(flatten(params))
            eval_rows.append(flatten(js.schedule_free_eval_params(state, params)))
    return {"params": np.stack(rows), "eval": np.stack(eval_rows)}


def golden(name: str) -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        if f"{name}/params" not in data:
            raise KeyError(
                f"no golden values {name!r}: run tests/golden/generate_reference_optimizers_schedule_free.py"
            )
        return {kind: data[f"{name}/{kind}"] for kind in ("params", "eval")}


def assert_runs_close(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray], what: str) -> None:
    for kind in ("params", "eval"):
        assert actual[kind].shape == expected[kind].shape, f"{what} {kind}: shapes differ"
        for step, (a, e) in enumerate(zip(actual[kind], expected[kind])):
            np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, err_msg=f"{what}: {kind} differ at step {step}")


def reference_parity_tests(cases: dict[str, ReferenceCase]):
    """The two parity tests of a module's ``REFERENCE_CASES``: against stored golden values and the live reference."""
    import pytest

    names = sorted(cases)

    @pytest.mark.parametrize("name", names)
    def test_matches_golden_reference_trajectory(name):
        assert_runs_close(run_jax(cases[name]), golden(name), name)

    @pytest.mark.parametrize("name", names)
    def test_matches_live_reference(name):
        if not has_reference(cases[name].reference):
            pytest.skip(f"{cases[name].reference} not installed (golden values still checked)")
        assert_runs_close(run_jax(cases[name]), run_reference(cases[name]), name)

    return test_matches_golden_reference_trajectory, test_matches_live_reference
