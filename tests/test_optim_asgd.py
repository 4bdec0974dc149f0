"""torch.optim.ASGD: the parameter average (torch's state['ax']) and when hyperparameters take effect.

Contract and parity: tests/test_optimizers.py.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_checks import first_changed_update, run_updates
from tests.optim_db import PARITY_CASES
from tests.optim_parity import ATOL, HAS_TORCH, PARAMS0, RTOL, ParityCase, flatten, golden, grads_at, run_torch


def jax_averages(case: ParityCase) -> np.ndarray:
    """``asgd_averaged_params`` after each step (flattened rows, float64)."""
    with jax.enable_x64(True):
        tx = case.make_jax()
        params = {k: jnp.asarray(v, jnp.float64) for k, v in PARAMS0.items()}
        state = tx.init(params)
        step_fn = jax.jit(tx.update)
        rows = []
        for step in range(case.steps):
            updates, state = step_fn(grads_at(params, step), state, params)
            params = js.apply_updates(params, updates)
            rows.append(flatten(js.asgd_averaged_params(state)))
    return np.stack(rows)


def test_average_matches_mean_of_golden_torch_iterates():
    # torch's ax at step t is the mean of its iterates p_{t0+2} .. p_t (before that ax = p_t),
    # so the stored torch trajectory determines the average without another golden array.
    case = PARITY_CASES["asgd_averaging"]
    trajectory, t0 = golden("asgd_averaging"), case.kwargs["t0"]
    expected = [trajectory[min(t0 + 2, t) : t + 1].mean(axis=0) for t in range(1, len(trajectory))]
    np.testing.assert_allclose(jax_averages(case), np.stack(expected), rtol=RTOL, atol=ATOL)


class _RecordAverages:
    """Wraps a case's torch scheduler (if any) to record ``optimizer.state[p]['ax']`` after every step."""

    def __init__(self, optimizer, case: ParityCase):
        self.optimizer, self.rows = optimizer, []
        self.scheduler = case.make_torch_scheduler(optimizer)

    def step(self):
        params = self.optimizer.param_groups[0]["params"]  # sorted by name, as flatten() orders them
        self.rows.append(np.concatenate([self.optimizer.state[p]["ax"].detach().numpy().ravel() for p in params]))
        if self.scheduler is not None:
            self.scheduler.step()


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
@pytest.mark.parametrize("name", ["asgd_averaging", "asgd_steplr"])
def test_average_matches_live_torch_ax(name):
    recorders = []

    case = PARITY_CASES[name]

    def recording_scheduler(optimizer):
        recorders.append(_RecordAverages(optimizer, case))
        return recorders[0]

    run_torch(dataclasses.replace(case, torch_scheduler=recording_scheduler))
    np.testing.assert_allclose(jax_averages(case), np.stack(recorders[0].rows), rtol=RTOL, atol=ATOL)


def test_averaged_params_found_in_chain_masked_and_partition():
    params = {"a": jnp.array([1.0, -2.0]), "b": jnp.array([0.5])}
    grads = {"a": jnp.array([0.3, 0.1]), "b": jnp.array([-0.2])}
    optimizers = {
        "bare": js.asgd(0.1, t0=0),
        "chain": js.chain(js.clip(10.0), js.asgd(0.1, t0=0)),
        "masked": js.masked(js.asgd(0.1, t0=0), {"a": True, "b": False}),
        "partition": js.partition({"x": js.asgd(0.1, t0=0), "y": js.asgd(0.1, t0=0)}, {"a": "x", "b": "y"}),
        "mixed": js.partition({"x": js.asgd(0.1, t0=0), "y": js.sgd(0.1)}, {"a": "x", "b": "y"}),
    }
    averages = {}
    for name, tx in optimizers.items():
        state, p = tx.init(params), params
        for _ in range(3):
            updates, state = tx.update(grads, state, p)
            p = js.apply_updates(p, updates)
        averages[name] = js.asgd_averaged_params(state)
    expected = averages["bare"]
    for name in ("chain", "partition"):
        assert jax.tree.structure(averages[name]) == jax.tree.structure(expected)
        for leaf in expected:
            np.testing.assert_allclose(averages[name][leaf], expected[leaf], rtol=1e-6)
    for name in ("masked", "mixed"):  # leaves no ASGD covers are None
        assert averages[name]["b"] is None
        np.testing.assert_allclose(averages[name]["a"], expected["a"], rtol=1e-6)
    assert not np.allclose(expected["a"], params["a"])


def test_averaged_params_errors():
    params = {"w": jnp.ones(2)}
    with pytest.raises(ValueError, match="no ASGD state"):
        js.asgd_averaged_params(js.sgd(0.1).init(params))
    with pytest.raises(ValueError, match="more than one ASGD state"):
        js.asgd_averaged_params(js.chain(js.asgd(0.1), js.asgd(0.1)).init(params))


@pytest.mark.parametrize(
    "name, value, first_changed",
    [
        ("lambd", 0.5, 1),
        ("weight_decay", 0.5, 1),
        ("learning_rate", 0.2, 2),  # eta is computed at the end of a step: one step late, as torch
        ("alpha", 0.1, 2),
    ],
)
def test_set_hyperparams_mid_run(name, value, first_changed):
    tx = js.asgd(0.02, lambd=1e-2, alpha=0.75, weight_decay=0.01)
    assert first_changed_update(tx, set_before=1, **{name: value}) == first_changed


def test_set_t0_changes_only_the_average():
    tx = js.asgd(0.02)
    base_updates, base_state = run_updates(tx, 4)
    updates, state = run_updates(tx, 4, set_before=0, t0=0.0)
    np.testing.assert_array_equal(np.stack(updates), np.stack(base_updates))
    assert not np.allclose(flatten(js.asgd_averaged_params(state)), flatten(js.asgd_averaged_params(base_state)))
