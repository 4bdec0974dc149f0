"""Moving a run between torch and jaxsched: optimizer state dicts both ways, schedulers, plateau, refusals.

torch runs 10 steps, its ``state_dict()`` goes to ``js.from_torch_state_dict`` and both continue 20
steps: parameters agree at rtol 1e-10 after every step (against torch's golden continuation always,
and against live torch too where it is installed). The reverse direction: jaxsched runs 10 steps,
torch loads ``js.to_torch_state_dict`` and both continue.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.golden.generate_torch_state import (
    CASES,
    CONTINUE,
    SPLIT,
    golden,
    make_torch_optimizer,
    run_torch,
    snapshot,
    torch_names,
    torch_step,
)
from tests.optim_parity import HAS_TORCH, PARAMS0, RTOL, masked_grads

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
ATOL = 1e-12


def _jax_step(case):
    tx = case.parity.make_jax()

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    return tx, step


def _jax_grads(case, params, step):
    convert = case.parity.jax_grads or jnp.asarray
    return {k: convert(g) for k, g in masked_grads(case.parity, params, step).items()}


def _jax_params(values):
    return {k: jnp.asarray(v, jnp.float64) for k, v in values.items()}


def _load_options(case):
    options = {} if case.named else {"param_order": torch_names(case.parity)}
    if case.parity.torch_optimizer == "SGD":  # torch's SGD records no step count; a scheduler's last_epoch does
        options["step"] = SPLIT
    return options


def assert_rows_close(ours, theirs, what):
    assert len(ours) == len(theirs) == CONTINUE
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k in PARAMS0:
            np.testing.assert_allclose(
                np.asarray(a[k]), b[k], rtol=RTOL, atol=ATOL, err_msg=f"{what}: {k} at step {SPLIT + step + 1}"
            )


def continue_in_jax(case, reference):
    """Load torch's state dict and continue CONTINUE steps in jaxsched; the params after each."""
    with jax.enable_x64(True):
        tx, step = _jax_step(case)
        params = _jax_params(reference["params"])
        state = js.from_torch_state_dict(tx, params, reference["state_dict"], **_load_options(case))
        rows = []
        for t in range(SPLIT, SPLIT + CONTINUE):
            params, state = step(params, state, _jax_grads(case, params, t))
            rows.append({k: np.asarray(v) for k, v in params.items()})
    return rows


@pytest.mark.parametrize("name", sorted(CASES))
def test_continues_torchs_golden_run(name):
    reference = golden(name)
    assert_rows_close(continue_in_jax(CASES[name], reference), reference["rows"], name)


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_continues_live_torch_run(name):
    reference = run_torch(CASES[name])
    assert_rows_close(continue_in_jax(CASES[name], reference), reference["rows"], name)


def _resume_torch_scheduler(case, optimizer, state_dict):
    """torch's scheduler at step SPLIT over an optimizer that loaded ``state_dict``.

    A torch scheduler keeps its position in its own attributes: attach it as for a fresh run and set
    ``last_epoch``. OneCycleLR and CyclicLR rewrite the group's lr and momentum when attached, so the
    loaded values are put back.
    """
    scheduler = case.parity.make_torch_scheduler(optimizer)
    if scheduler is None:
        return None
    if hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch = SPLIT
    else:  # ScheduledGroups: the test harness's per-step assignment of scheduled values
        scheduler.epoch = SPLIT
    for group, saved in zip(optimizer.param_groups, state_dict["param_groups"]):
        group.update({k: v for k, v in saved.items() if k not in ("params", "param_names", "initial_lr")})
    return scheduler


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_continues_a_jaxsched_run(name):
    import torch

    case = CASES[name]
    with jax.enable_x64(True):
        tx, step = _jax_step(case)
        params = _jax_params(PARAMS0)
        state = tx.init(params)
        for t in range(SPLIT):
            params, state = step(params, state, _jax_grads(case, params, t))
        state_dict = js.to_torch_state_dict(tx, state, params)
        resume_from = {k: np.array(v) for k, v in params.items()}
        ours = []
        for t in range(SPLIT, SPLIT + CONTINUE):
            params, state = step(params, state, _jax_grads(case, params, t))
            ours.append({k: np.asarray(v) for k, v in params.items()})
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in resume_from.items()}
        optimizer = make_torch_optimizer(case, tensors)
        optimizer.load_state_dict(state_dict)
        scheduler = _resume_torch_scheduler(case, optimizer, state_dict)
        theirs = []
        for t in range(SPLIT, SPLIT + CONTINUE):
            torch_step(case.parity, optimizer, tensors, scheduler, t)
            theirs.append(snapshot(tensors))
    finally:
        torch.set_default_dtype(previous)
    assert_rows_close(ours, theirs, name)
