"""Moving a run between torch and jaxsched: optimizer state dicts both ways, schedulers, plateau, refusals.

torch runs 10 steps, its ``state_dict()`` goes to ``js.from_torch_state_dict`` and both continue 20
steps: parameters agree at rtol 1e-10 after every step (against torch's golden continuation always,
and against live torch too where it is installed). The reverse direction: jaxsched runs 10 steps,
torch loads ``js.to_torch_state_dict`` and both continue.
"""

from __future__ import annotations

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.golden.generate_torch_state import (
    CASES,
    CONTINUE,
    SPLIT,
    continue_torch,
    golden,
    make_torch_optimizer,
    run_torch,
    snapshot,
    torch_names,
)
from tests.optim_parity import HAS_TORCH, PARAMS0, RTOL, grads_at, jitted_step, masked_grads

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
ATOL = 1e-12


def _jax_step(case):
    tx = case.parity.make_jax()
    return tx, jitted_step(tx)


def _jax_grads(case, params, step):
    convert = case.parity.jax_grads or jnp.asarray
    return {k: convert(g) for k, g in masked_grads(case.parity, params, step).items()}


def _jax_params(values):
    return {k: jnp.asarray(v, jnp.float64) for k, v in values.items()}


def _load_options(case, reference):
    options = {} if case.named else {"param_order": torch_names(case.parity)}
    if reference["scheduler_state_dict"] is not None:
        options["scheduler_state_dict"] = reference["scheduler_state_dict"]
    elif case.parity.torch_optimizer == "SGD":  # torch's SGD records no step count; a scheduler's last_epoch does
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
        state = js.from_torch_state_dict(tx, params, reference["state_dict"], **_load_options(case, reference))
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


def _resume_torch_scheduler(case, optimizer, state_dict, position):
    """torch's scheduler at step SPLIT over an optimizer that loaded ``state_dict``.

    Attached as for a fresh run, it loads its own state dict updated with ``position``
    (:func:`jaxsched.to_torch_scheduler_state_dict`). OneCycleLR and CyclicLR rewrite the group's lr
    and momentum when attached, so the loaded values are put back.
    """
    scheduler = case.parity.make_torch_scheduler(optimizer)
    if scheduler is None:
        return None
    if hasattr(scheduler, "last_epoch"):
        scheduler.load_state_dict({**scheduler.state_dict(), **position})
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
        position = js.to_torch_scheduler_state_dict(tx, state, params)
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
        theirs = continue_torch(
            case, optimizer, tensors, _resume_torch_scheduler(case, optimizer, state_dict, position)
        )
    finally:
        torch.set_default_dtype(previous)
    assert_rows_close(ours, theirs, name)


@pytest.mark.parametrize("name", sorted(name for name in CASES if golden(name)["scheduler_state_dict"] is not None))
def test_scheduler_position_is_torchs_own(name):
    """After SPLIT steps, to_torch_scheduler_state_dict gives the entries of torch's own scheduler.state_dict()."""
    case = CASES[name]
    expected = golden(name)["scheduler_state_dict"]
    with jax.enable_x64(True):
        tx, params, state = _trained(case)
        actual = js.to_torch_scheduler_state_dict(tx, state, params)
    assert set(actual) == set(expected)
    assert (actual["last_epoch"], actual["_step_count"]) == (expected["last_epoch"], expected["_step_count"])
    for key in ("base_lrs", "_last_lr"):
        np.testing.assert_allclose(actual[key], expected[key], rtol=1e-12, err_msg=key)


# --- round trip: to_torch_state_dict then from_torch_state_dict is the identity -------------------


def _trained(case, steps=SPLIT):
    tx, step = _jax_step(case)
    params = _jax_params(PARAMS0)
    state = tx.init(params)
    for t in range(steps):
        params, state = step(params, state, _jax_grads(case, params, t))
    return tx, params, state


def assert_identical_states(actual, expected):
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        assert np.asarray(a).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(e))


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_is_bit_for_bit(name):
    case = CASES[name]
    with jax.enable_x64(True):
        tx, params, state = _trained(case)
        state_dict = js.to_torch_state_dict(tx, state, params)
        step = {"step": SPLIT} if case.parity.torch_optimizer == "SGD" else {}
        assert_identical_states(js.from_torch_state_dict(tx, params, state_dict, **step), state)


def test_round_trip_in_float32_and_before_the_first_step():
    for tx in (js.adam(amsgrad=True), js.sgd(0.1, momentum=0.9), js.adagrad(), js.asgd(), js.adafactor()):
        params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
        state = tx.init(params)
        assert_identical_states(js.from_torch_state_dict(tx, params, js.to_torch_state_dict(tx, state, params)), state)
        _, state = tx.update(jax.tree.map(lambda p: p + 0.5, params), state, params)
        state_dict = js.to_torch_state_dict(tx, state, params)
        assert_identical_states(js.from_torch_state_dict(tx, params, state_dict, step=1), state)


# --- Muon, L-BFGS: their own problems ----------------------------------------------------------------


@needs_torch
def test_muon_resumes_both_ways():
    import torch

    from tests.test_optim_muon import MATRICES, _grads

    matrices = {k: MATRICES[k] for k in ("a_matrix", "wide", "square")}  # exact in float64 up to 16x8
    kwargs = dict(learning_rate=0.02, weight_decay=0.1, nesterov=True)
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in matrices.items()}
        optimizer = torch.optim.Muon(list(tensors.items()), lr=0.02, weight_decay=0.1, nesterov=True)

        def torch_steps(steps, first):
            rows = []
            for t in range(first, first + steps):
                grads = _grads({k: x.detach().numpy() for k, x in tensors.items()}, t)
                for k, x in tensors.items():
                    x.grad = torch.from_numpy(grads[k])
                optimizer.step()
                rows.append(snapshot(tensors))
            return rows

        torch_steps(5, 0)
        state_dict = copy.deepcopy(optimizer.state_dict())  # torch's holds its live tensors
        resume_from = snapshot(tensors)
        expected = torch_steps(5, 5)
    finally:
        torch.set_default_dtype(torch.float32)
    with jax.enable_x64(True):
        tx = js.muon(**kwargs)
        params = _jax_params(resume_from)
        state = js.from_torch_state_dict(tx, params, state_dict, step=5)
        assert_identical_states(
            js.from_torch_state_dict(tx, params, js.to_torch_state_dict(tx, state, params), step=5), state
        )
        for t, row in zip(range(5, 10), expected):
            grads = _jax_params(_grads({k: np.asarray(v) for k, v in params.items()}, t))
            updates, state = tx.update(grads, state, params)
            params = js.apply_updates(params, updates)
            for k in matrices:
                np.testing.assert_allclose(np.asarray(params[k]), row[k], rtol=RTOL, atol=ATOL, err_msg=k)


@needs_torch
def test_torch_muon_continues_a_two_group_jaxsched_run():
    """jaxsched's Muon over two groups (different lr, weight decay, nesterov on both) runs 5 steps;
    torch.optim.Muon loads to_torch_state_dict and both continue 5 steps."""
    import torch

    from tests.test_optim_muon import MATRICES, _grads

    matrices = {k: MATRICES[k] for k in ("a_matrix", "wide", "square")}
    labels = {"a_matrix": "first", "wide": "second", "square": "first"}
    with jax.enable_x64(True):
        tx = js.partition({"first": js.muon(0.02, weight_decay=0.1), "second": js.muon(0.05, weight_decay=0.0)}, labels)
        params = _jax_params(matrices)
        state = tx.init(params)

        def jax_steps(params, state, first, steps):
            rows = []
            for t in range(first, first + steps):
                grads = _jax_params(_grads({k: np.asarray(v) for k, v in params.items()}, t))
                updates, state = tx.update(grads, state, params)
                params = js.apply_updates(params, updates)
                rows.append({k: np.asarray(v) for k, v in params.items()})
            return params, state, rows

        params, state, _ = jax_steps(params, state, 0, 5)
        state_dict = js.to_torch_state_dict(tx, state, params)
        resume_from = {k: np.array(v) for k, v in params.items()}
        _, _, ours = jax_steps(params, state, 5, 5)
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in resume_from.items()}
        optimizer = torch.optim.Muon(
            [
                {"params": [tensors["a_matrix"], tensors["square"]], "lr": 0.02, "weight_decay": 0.1},
                {"params": [tensors["wide"]], "lr": 0.05, "weight_decay": 0.0},
            ]
        )
        optimizer.load_state_dict(state_dict)
        for t, row in zip(range(5, 10), ours):
            grads = _grads({k: x.detach().numpy() for k, x in tensors.items()}, t)
            for k, x in tensors.items():
                x.grad = torch.from_numpy(grads[k])
            optimizer.step()
            for k in matrices:
                np.testing.assert_allclose(row[k], tensors[k].detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=k)
    finally:
        torch.set_default_dtype(torch.float32)


@needs_torch
def test_lbfgs_resumes_with_its_history_ring():
    import torch

    from tests.test_lbfgs import _TREE6, _jax_loss, torch_rosenbrock

    kwargs = dict(learning_rate=0.1, max_iter=10, history_size=3)  # the ring of 3 pairs wraps every call
    names = sorted(_TREE6)
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(_TREE6[k], requires_grad=True) for k in names}
        optimizer = torch.optim.LBFGS(list(tensors.values()), lr=0.1, max_iter=10, history_size=3)

        def closure():
            optimizer.zero_grad()
            loss = torch_rosenbrock(torch.cat([t.reshape(-1) for t in tensors.values()]))
            loss.backward()
            return loss

        for _ in range(2):
            optimizer.step(closure)
        state_dict = copy.deepcopy(optimizer.state_dict())  # torch's holds its live tensors
        resume_from = snapshot(tensors)
        expected = []
        for _ in range(3):
            optimizer.step(closure)
            expected.append(snapshot(tensors))
    finally:
        torch.set_default_dtype(torch.float32)
    with jax.enable_x64(True):
        tx = js.lbfgs(**kwargs)
        params = _jax_params(resume_from)
        state = js.from_torch_state_dict(tx, params, state_dict, param_order=names)
        assert int(state.inner_state.history_count) == 3
        back = js.to_torch_state_dict(tx, state, params)
        assert_identical_states(js.from_torch_state_dict(tx, params, back), state)
        for row in expected:
            grads = jax.grad(_jax_loss)(params)
            updates, state = tx.update(grads, state, params, value_fn=_jax_loss)
            params = js.apply_updates(params, updates)
            for k in names:
                np.testing.assert_allclose(np.asarray(params[k]), row[k], rtol=RTOL, atol=ATOL, err_msg=k)


@needs_torch
def test_torch_lbfgs_continues_a_jaxsched_run():
    """jaxsched's L-BFGS makes 2 calls (its history ring wraps), torch loads to_torch_state_dict, both make 3 more."""
    import torch

    from tests.test_lbfgs import _TREE6, _jax_loss, torch_rosenbrock

    names = sorted(_TREE6)
    with jax.enable_x64(True):
        tx = js.lbfgs(learning_rate=0.1, max_iter=10, history_size=3)
        params = _jax_params({k: _TREE6[k] for k in names})
        state = tx.init(params)
        ours = []
        for call in range(5):
            if call == 2:
                state_dict = js.to_torch_state_dict(tx, state, params)
                resume_from = {k: np.array(v) for k, v in params.items()}
            updates, state = tx.update(jax.grad(_jax_loss)(params), state, params, value_fn=_jax_loss)
            params = js.apply_updates(params, updates)
            ours.append({k: np.asarray(v) for k, v in params.items()})
    torch.set_default_dtype(torch.float64)
    try:
        tensors = {k: torch.tensor(resume_from[k], requires_grad=True) for k in names}
        optimizer = torch.optim.LBFGS(list(tensors.values()), lr=0.1, max_iter=10, history_size=3)
        optimizer.load_state_dict(state_dict)

        def closure():
            optimizer.zero_grad()
            loss = torch_rosenbrock(torch.cat([t.reshape(-1) for t in tensors.values()]))
            loss.backward()
            return loss

        for row in ours[2:]:
            optimizer.step(closure)
            for k in names:
                np.testing.assert_allclose(row[k], tensors[k].detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=k)
    finally:
        torch.set_default_dtype(torch.float32)


# --- ReduceLROnPlateau ---------------------------------------------------------------------------------


PLATEAU_KWARGS = dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.001, 0.02])


def _plateau_metrics():
    from tests.golden.generate_plateau import metric_sequence

    return metric_sequence(11, 40)


@needs_torch
def test_plateau_state_moves_both_ways_mid_run():
    import torch

    metrics = _plateau_metrics()
    optimizer = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": 0.1}, {"params": [torch.zeros(1)], "lr": 1.0}])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **PLATEAU_KWARGS)
    for metric in metrics[:15]:
        scheduler.step(float(metric))
    torch_state = scheduler.state_dict()
    plateau = js.reduce_on_plateau(**{**PLATEAU_KWARGS, "min_lr": {"base": 0.001, "head": 0.02}})
    with jax.enable_x64(True):
        state = js.plateau_from_torch_state_dict(plateau, torch_state, group_labels=["base", "head"])
        back = js.plateau_to_torch_state_dict(plateau, state, group_labels=["base", "head"])
        assert back == {k: torch_state[k] for k in back}
        mirror = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": 0.1}, {"params": [torch.zeros(1)], "lr": 1.0}])
        mirrored = torch.optim.lr_scheduler.ReduceLROnPlateau(mirror, **PLATEAU_KWARGS)
        mirrored.load_state_dict(back)
        for group, lr in zip(mirror.param_groups, back["_last_lr"]):
            group["lr"] = lr
        for metric in metrics[15:]:
            scheduler.step(float(metric))
            mirrored.step(float(metric))
            state = plateau.update(state, float(metric))
            lrs = [float(state.lr["base"]), float(state.lr["head"])]
            assert lrs == [g["lr"] for g in optimizer.param_groups] == [g["lr"] for g in mirror.param_groups]
            assert float(state.best) == scheduler.best == mirrored.best
            assert int(state.num_bad_epochs) == scheduler.num_bad_epochs
            assert int(state.cooldown_counter) == scheduler.cooldown_counter
            assert int(state.last_epoch) == scheduler.last_epoch


@needs_torch
@pytest.mark.parametrize("direction", ["torch_to_jaxsched", "jaxsched_to_torch"])
def test_adam_with_reduce_on_plateau_continues_mid_run(direction):
    """Two-group Adam driven by ReduceLROnPlateau: one side runs SPLIT steps, the other loads the
    optimizer's and the plateau's state dicts, and both continue CONTINUE steps (rtol 1e-10)."""
    import torch

    metrics = _plateau_metrics()
    labels = {"a_matrix": "base", "b_vector": "base", "c_scalar": "head", "d_nested": "head"}
    order = ["base", "head"]
    plateau = js.reduce_on_plateau(**{**PLATEAU_KWARGS, "min_lr": {"base": 0.001, "head": 0.02}})
    tx = js.partition({"base": js.adam(0.1), "head": js.adam(1.0)}, labels)

    def jax_steps(params, state, pstate, steps):
        rows = []
        for t in steps:
            grads = _jax_params(grads_at({k: np.asarray(v) for k, v in params.items()}, t))
            updates, state = tx.update(grads, state, params)
            params = js.apply_updates(params, updates)
            pstate = plateau.update(pstate, float(metrics[t]))
            state = js.set_hyperparams(state, learning_rate=pstate.lr)
            rows.append({k: np.asarray(v) for k, v in params.items()})
        return params, state, pstate, rows

    def torch_setup(values):
        tensors = {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in values.items()}
        groups = [
            {"params": [(k, x) for k, x in tensors.items() if labels[k] == label], "lr": lr}
            for label, lr in zip(order, (0.1, 1.0))
        ]
        optimizer = torch.optim.Adam(groups)
        return tensors, optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **PLATEAU_KWARGS)

    def torch_steps(tensors, optimizer, scheduler, steps):
        rows = []
        for t in steps:
            grads = grads_at({k: x.detach().numpy() for k, x in tensors.items()}, t)
            for k, x in tensors.items():
                x.grad = torch.from_numpy(np.array(grads[k]))
            optimizer.step()
            scheduler.step(float(metrics[t]))
            rows.append(snapshot(tensors))
        return rows

    first, rest = range(SPLIT), range(SPLIT, SPLIT + CONTINUE)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with jax.enable_x64(True):
            if direction == "torch_to_jaxsched":
                tensors, optimizer, scheduler = torch_setup(PARAMS0)
                torch_steps(tensors, optimizer, scheduler, first)
                params = _jax_params(snapshot(tensors))
                state = js.from_torch_state_dict(tx, params, optimizer.state_dict(), group_labels=order)
                pstate = js.plateau_from_torch_state_dict(plateau, scheduler.state_dict(), group_labels=order)
                theirs = torch_steps(tensors, optimizer, scheduler, rest)
                *_, ours = jax_steps(params, state, pstate, rest)
            else:
                params = _jax_params(PARAMS0)
                pstate = plateau.init({"base": 0.1, "head": 1.0})
                params, state, pstate, _ = jax_steps(params, tx.init(params), pstate, first)
                tensors, optimizer, scheduler = torch_setup({k: np.array(v) for k, v in params.items()})
                optimizer.load_state_dict(js.to_torch_state_dict(tx, state, params))
                scheduler.load_state_dict(js.plateau_to_torch_state_dict(plateau, pstate, group_labels=order))
                *_, ours = jax_steps(params, state, pstate, rest)
                theirs = torch_steps(tensors, optimizer, scheduler, rest)
    finally:
        torch.set_default_dtype(previous)
    assert_rows_close(ours, theirs, direction)


# --- refusals name what differs --------------------------------------------------------------------


def _adam_state_dict():
    return golden("adam_single")["state_dict"]


def _params64():
    return _jax_params(golden("adam_single")["params"])


def _adam64(**overrides):
    return js.adam(**{**CASES["adam_single"].parity.kwargs, **overrides})


def _refused(texts, tx, params, state_dict, **options):
    with jax.enable_x64(True), pytest.raises((js.TorchStateDictError, TypeError, ValueError)) as error:
        js.from_torch_state_dict(tx, params, state_dict, **options)
    for text in texts:
        assert text in str(error.value), (text, str(error.value))


def test_per_epoch_scheduler_positions_count_epochs():
    """A per-epoch learning rate: torch's scheduler steps once per epoch of 5 optimizer steps (SPLIT = 10)."""
    per_epoch = js.schedules.per_epoch(js.schedules.step_decay(0.01, 1, 0.5), 5)
    position = {"last_epoch": 2, "_step_count": 3, "base_lrs": [0.01], "_last_lr": [0.0025]}
    state_dict = copy.deepcopy(_adam_state_dict())
    state_dict["param_groups"][0]["lr"] = 0.0025
    with jax.enable_x64(True):
        params, tx = _params64(), _adam64(learning_rate=per_epoch)
        state = js.from_torch_state_dict(tx, params, state_dict, scheduler_state_dict=position)
        assert int(state.step) == SPLIT
        assert js.to_torch_scheduler_state_dict(tx, state, params) == position
        # SGD records no step: the scheduler's position gives it
        sgd = js.sgd(per_epoch, momentum=0.9)
        sgd_state_dict = js.to_torch_state_dict(sgd, sgd.init(params), params)
        sgd_state_dict["param_groups"][0]["lr"] = 0.0025
        sgd_state = js.from_torch_state_dict(sgd, params, sgd_state_dict, scheduler_state_dict=position)
        assert int(sgd_state.step) == SPLIT
    _refused(
        ["torch's state in torch param group 0 records step 10 // 5 steps per epoch", "last_epoch is 3"],
        tx,
        params,
        state_dict,
        scheduler_state_dict={**position, "last_epoch": 3},
    )
    _refused(
        ["step= 14", "last_epoch is 3"],
        tx,
        params,
        state_dict,
        scheduler_state_dict={**position, "last_epoch": 3},
        step=14,
    )
    _refused(
        ["at step 0 is 0.01 in tx but 0.02"],
        tx,
        params,
        state_dict,
        scheduler_state_dict={**position, "base_lrs": [0.02]},
    )
    _refused(
        ["2 base_lrs", "1 groups"], tx, params, state_dict, scheduler_state_dict={**position, "base_lrs": [0.01] * 2}
    )
    _refused(["scheduler_state_dict", "last_epoch"], tx, params, state_dict, scheduler_state_dict={"base_lrs": [0.01]})
    _refused(["last_epoch must be an int"], tx, params, state_dict, scheduler_state_dict={**position, "last_epoch": -1})


def test_refuses_another_optimizer_kind():
    with jax.enable_x64(True):
        params = _params64()
    _refused(["torch param group 0", "SGD", "lacks", "momentum"], js.sgd(0.1), params, _adam_state_dict())
    _refused(["Adamax", "amsgrad"], js.adamax(), params, _adam_state_dict())


def test_refuses_a_differing_flag_naming_both_values():
    with jax.enable_x64(True):
        params = _params64()
    _refused(["amsgrad", "amsgrad=True", "amsgrad=False"], _adam64(amsgrad=False), params, _adam_state_dict())
    _refused(["maximize", "maximize=False", "maximize=True"], _adam64(maximize=True), params, _adam_state_dict())
    sgd = js.sgd(0.1, momentum=0.9, nesterov=True)
    with jax.enable_x64(True):
        plain_sgd_state_dict = js.to_torch_state_dict(
            js.sgd(0.1, momentum=0.9), js.sgd(0.1, momentum=0.9).init(params), params
        )
    _refused(["nesterov", "nesterov=False", "nesterov=True"], sgd, params, plain_sgd_state_dict)


def test_refuses_a_shape_a_dtype_and_a_missing_parameter():
    with jax.enable_x64(True):
        params = _params64()
        tx = _adam64()
    state_dict = _adam_state_dict()
    bad_shape = {**state_dict, "state": {**state_dict["state"], 1: {**state_dict["state"][1], "exp_avg": np.zeros(4)}}}
    names = state_dict["param_groups"][0]["param_names"]
    _refused([repr(names[1]), "exp_avg", "(4,)", "(5,)"], tx, params, bad_shape)
    as_float32 = {
        **state_dict,
        "state": {i: {k: np.asarray(v, np.float32) for k, v in s.items()} for i, s in state_dict["state"].items()},
    }
    _refused(["float32", "float64", repr(names[0])], tx, params, as_float32)
    renamed = dict(state_dict, param_groups=[dict(state_dict["param_groups"][0], param_names=["zz", *names[1:]])])
    _refused(["'zz'"], tx, params, renamed)
    unnamed = dict(
        state_dict, param_groups=[{k: v for k, v in state_dict["param_groups"][0].items() if k != "param_names"}]
    )
    _refused(["param_order"], tx, params, unnamed)
    _refused(["param_order", "3"], tx, params, unnamed, param_order=names[:3])


def test_refuses_group_counts_and_labels_that_do_not_match():
    case = CASES["adam_groups"]
    with jax.enable_x64(True):
        params = _params64()
        groups_tx = case.parity.make_jax()
    state_dict = golden("adam_groups")["state_dict"]
    order = torch_names(case.parity)
    _refused(["2 param groups", "tx has 1"], _adam64(), params, state_dict, param_order=order)
    _refused(
        ["'a_matrix'", "torch param group 0 (label 'second')"],
        groups_tx,
        params,
        state_dict,
        param_order=order,
        group_labels=["second", "first"],
    )
    _refused(
        ["group_labels", "['first', 'nope']"],
        groups_tx,
        params,
        state_dict,
        param_order=order,
        group_labels=["first", "nope"],
    )


def test_group_labels_map_torch_groups_to_a_partition_in_another_order():
    """The partition's dict order is ("B", "A"); torch's groups are A then B: group_labels says so."""
    case = CASES["adam_groups"]
    reference = golden("adam_groups")
    labels = js.label_by_path(dict.fromkeys(case.parity.second_group_keys, "B"), default="A")
    with jax.enable_x64(True):
        tx = js.partition(
            {"B": js.adam(**{**case.parity.kwargs, **case.parity.second_group}), "A": js.adam(**case.parity.kwargs)},
            labels,
        )
        params = _jax_params(reference["params"])
        state = js.from_torch_state_dict(
            tx, params, reference["state_dict"], param_order=torch_names(case.parity), group_labels=["A", "B"]
        )
        step = jitted_step(tx)
        rows = []
        for t in range(SPLIT, SPLIT + CONTINUE):
            params, state = step(params, state, _jax_grads(case, params, t))
            rows.append({k: np.asarray(v) for k, v in params.items()})
    assert_rows_close(rows, reference["rows"], "adam_groups, partition in the order B, A")


def test_refuses_hyperparameters_that_tx_fixes_or_schedules_differently():
    with jax.enable_x64(True):
        params = _params64()
    state_dict = _adam_state_dict()
    lr = state_dict["param_groups"][0]["lr"]
    _refused(
        ["weight_decay=0.1", "weight_decay=0.0", "compiles its term out"], _adam64(weight_decay=0.0), params, state_dict
    )
    _refused(
        ["learning_rate (scheduled by tx) at step 10", repr(lr)],
        _adam64(learning_rate=lambda s: 0.5 * lr + 0 * s),
        params,
        state_dict,
    )
    steplr = golden("sgd_steplr")["state_dict"]
    sgd = CASES["sgd_steplr"].parity.make_jax()
    _refused(["records no step count", "step="], sgd, params, steplr)
    _refused(["at step 3"], sgd, params, steplr, step=3)


def test_refuses_per_parameter_steps_that_differ_and_parameters_without_state():
    with jax.enable_x64(True):
        params = _params64()
        tx = _adam64()
    state_dict = _adam_state_dict()
    first = state_dict["state"][0]
    uneven = dict(state_dict, state={**state_dict["state"], 0: {**first, "step": np.asarray(9.0)}})
    _refused(["step differs", "9.0", "10.0"], tx, params, uneven)
    missing = dict(state_dict, state={i: s for i, s in state_dict["state"].items() if i != 2})
    names = state_dict["param_groups"][0]["param_names"]
    _refused([repr(names[2]), "no optimizer state"], tx, params, missing)


def test_refuses_what_is_not_a_state_dict_or_not_a_torch_optimizer():
    params = {"w": jnp.ones(3)}
    _refused(["'state' and 'param_groups'"], js.adam(), params, {"state": {}})
    _refused(["not a torch.optim optimizer", "LionState"], js.lion(), params, {"state": {}, "param_groups": [{}]})
    with pytest.raises(TypeError, match="step must be an int"):
        js.from_torch_state_dict(js.adam(), params, {"state": {}, "param_groups": []}, step=-1)


def test_plateau_refuses_differing_settings():
    plateau = js.reduce_on_plateau(factor=0.5)
    torch_like = js.plateau_to_torch_state_dict(plateau, plateau.init(0.1))
    for key, value in (("factor", 0.1), ("patience", 3), ("mode", "max"), ("min_lrs", [0.01])):
        with pytest.raises(js.TorchStateDictError, match=key.rstrip("s")):
            js.plateau_from_torch_state_dict(plateau, {**torch_like, key: value})
    with pytest.raises(js.TorchStateDictError, match="group_labels"):
        js.plateau_from_torch_state_dict(plateau, {**torch_like, "_last_lr": [0.1, 0.2], "min_lrs": [0, 0]})


@needs_torch
@pytest.mark.parametrize("name", sorted(name for name in CASES if name.endswith("_single")))
def test_group_keys_are_torchs_own(name):
    """to_torch_state_dict writes the keys of the torch class's own param group, no more and no fewer."""
    import torch

    case = CASES[name]
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in PARAMS0.items()}
    torch_group = make_torch_optimizer(case, tensors).state_dict()["param_groups"][0]
    with jax.enable_x64(True):
        tx = case.parity.make_jax()
        params = _jax_params(PARAMS0)
        ours = js.to_torch_state_dict(tx, tx.init(params), params)["param_groups"][0]
    assert set(ours) == set(torch_group)
    assert {k: v for k, v in ours.items() if k != "params"} == {k: v for k, v in torch_group.items() if k != "params"}


@needs_torch
@pytest.mark.parametrize("make, torch_class", [(js.muon, "Muon"), (js.lbfgs, "LBFGS")], ids=["muon", "lbfgs"])
def test_group_keys_of_muon_and_lbfgs_are_torchs_own(make, torch_class):
    import torch

    matrix = torch.zeros((3, 2), requires_grad=True)
    torch_group = getattr(torch.optim, torch_class)([("w", matrix)]).state_dict()["param_groups"][0]
    tx, params = make(), {"w": jnp.zeros((3, 2))}
    ours = js.to_torch_state_dict(tx, tx.init(params), params)["param_groups"][0]
    assert {k: v for k, v in ours.items() if k != "params"} == {k: v for k, v in torch_group.items() if k != "params"}
