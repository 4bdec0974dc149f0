"""ReduceLROnPlateau as explicit state: torch's decisions, jit/vmap/scan, driving optimizers, schedules."""

import importlib.util
import math
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxsched as js
from tests.golden.generate_plateau import CASES, EPS_TIES, FIELDS, GOLDEN, TIE_METRICS, metric_sequence, run_torch

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_jax(kwargs, lrs, metrics):
    """Our state after each update, in the layout of ``run_torch`` (lr as steps x groups)."""
    plateau = js.reduce_on_plateau(**kwargs)
    update = jax.jit(plateau.update)
    state = plateau.init(list(lrs))
    record = {field: [] for field in FIELDS}
    for metric in metrics:
        state = update(state, float(metric))
        record["lr"].append([float(lr) for lr in state.lr])
        record["best"].append(float(state.best))
        record["num_bad_epochs"].append(int(state.num_bad_epochs))
        record["cooldown_counter"].append(int(state.cooldown_counter))
    return {field: np.asarray(values) for field, values in record.items()}


def assert_same_decisions(ours, reference):
    for field in FIELDS:
        np.testing.assert_array_equal(ours[field], reference[field], err_msg=field)


# --- torch's own expectations (pytorch test/optim/test_lrscheduler.py, test_reduce_lr_on_plateau1..8) ---
# Two groups start at lr 0.5; after step(metrics[epoch]) group g's lr must equal targets[g][epoch]
# (torch checks the groups that have targets, atol 1e-5). Torch's test_compound_reduce_lr_on_plateau*
# cases set ``targets = targets[1:]`` (an empty list), so they check nothing and are not copied.
TORCH_SUITE = {
    "plateau1": (
        dict(threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5),
        [[0.5] * 20],
        [10 - i * 0.0167 for i in range(20)],
        10,
    ),
    "plateau2": (
        dict(patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
        [[0.5] * 6 + [0.05] * 7 + [0.005] * 7 + [0.0005] * 2],
        [10 - i * 0.0165 for i in range(22)],
        22,
    ),
    "plateau3": (
        dict(mode="max", patience=5, cooldown=5, threshold_mode="abs"),
        [[0.5] * (2 + 6) + [0.05] * (5 + 6) + [0.005] * 4],
        [-0.8] * 2 + [-0.234] * 20,
        22,
    ),
    "plateau4": (
        dict(mode="max", patience=3, threshold_mode="rel", threshold=0.1),
        [[0.5] * 20],
        [1.5 * (1.025**i) for i in range(20)],
        20,
    ),
    "plateau5": (
        dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
        [[0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4],
        [1.5 * (1.005**i) for i in range(20)],
        20,
    ),
    "plateau6": (
        dict(mode="min", threshold_mode="rel", threshold=0.1),
        [[0.5] * 20],
        [1.5 * (0.85**i) for i in range(20)],
        20,
    ),
    "plateau7": (
        dict(mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
        [[0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4],
        [1] * 7 + [0.6] + [0.5] * 12,
        20,
    ),
    "plateau8": (
        dict(mode="max", threshold_mode="rel", min_lr=[0.4, 0.3], threshold=0.1, patience=5, cooldown=5),
        [[0.5] * 6 + [0.4] * 14, [0.5] * 6 + [0.3] * 14],
        [1.5 * (1.005**i) for i in range(20)],
        20,
    ),
}


@pytest.mark.parametrize("enable_x64", [False, True], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TORCH_SUITE))
def test_torch_test_suite_expectations(name, enable_x64):
    kwargs, targets, metrics, epochs = TORCH_SUITE[name]
    with jax.enable_x64(enable_x64):
        lrs = run_jax(kwargs, (0.5, 0.5), metrics[:epochs])["lr"]
    for group, target in enumerate(targets):
        np.testing.assert_allclose(lrs[:, group], target[:epochs], atol=1e-5, rtol=0)


# --- randomized sequences: golden values from torch and live torch ---


def test_golden_file_holds_every_case():
    golden = np.load(GOLDEN)
    assert str(golden["torch_version"]).startswith("2.13")
    for name in CASES:
        for field in ("metrics", *FIELDS):
            assert f"{name}/{field}" in golden.files


def test_sequences_cover_nan_inf_negative_and_constant_stretches():
    metrics = np.concatenate([metric_sequence(c.seed, c.length, c.offset) for c in CASES.values()])
    assert np.isnan(metrics).any() and np.isposinf(metrics).any() and np.isneginf(metrics).any()
    assert (metrics < 0).sum() > 50 and (np.diff(metrics) == 0).sum() > 50


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden_torch_decisions(name, x64):
    golden = np.load(GOLDEN)
    case = CASES[name]
    ours = run_jax(case.kwargs, case.lrs, golden[f"{name}/metrics"])
    assert_same_decisions(ours, {field: golden[f"{name}/{field}"] for field in FIELDS})


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_live_torch_decisions(name, x64):
    case = CASES[name]
    metrics = metric_sequence(case.seed, case.length, case.offset)
    reference = run_torch(case.kwargs, case.lrs, metrics)
    assert len(set(reference["lr"][:, 1])) > 1 or name == "min_rel_negative"  # the cases do reduce
    assert_same_decisions(run_jax(case.kwargs, case.lrs, metrics), reference)


def test_float32_decisions_match_torch_on_golden_sequences():
    """Default float32: same decisions as torch's float64 on these sequences, lrs to float32 precision."""
    golden = np.load(GOLDEN)
    for name, case in CASES.items():
        ours = run_jax(case.kwargs, case.lrs, golden[f"{name}/metrics"])
        np.testing.assert_array_equal(ours["num_bad_epochs"], golden[f"{name}/num_bad_epochs"], err_msg=name)
        np.testing.assert_allclose(ours["lr"], golden[f"{name}/lr"], rtol=1e-6, atol=1e-30, err_msg=name)


@pytest.mark.parametrize("name", sorted(EPS_TIES))
def test_float32_eps_test_takes_torchs_float64_decision(name):
    kwargs, lr = EPS_TIES[name]
    kwargs = dict(kwargs, patience=0)
    expected = np.load(GOLDEN)[f"{name}/lr"]
    if HAS_TORCH:
        np.testing.assert_array_equal(run_torch(kwargs, (lr,), TIE_METRICS)["lr"], expected)
    lr32, floor32 = np.float32(lr), np.float32(kwargs.get("min_lr", 0.0))
    float32_reduces = lr32 - max(lr32 * np.float32(kwargs["factor"]), floor32) > np.float32(kwargs["eps"])
    assert float32_reduces != (expected[1, 0] != lr), "the case must be one that float32 decides differently"
    np.testing.assert_allclose(run_jax(kwargs, (lr,), TIE_METRICS)["lr"], expected, rtol=1e-7)


def test_reductions_left_counts_down_and_traced_init_decides_in_state_precision():
    plateau = js.reduce_on_plateau(factor=0.5, patience=0, min_lr=0.01)
    state = plateau.init(0.1)
    assert int(state.reductions_left) == 4  # 0.05, 0.025, 0.0125, 0.01, then 0.01 - 0.01 <= eps
    state = plateau.update(state, 1.0)  # the first metric is the best so far: no reduction
    for expected_left in (3, 2, 1, 0, 0):
        state = plateau.update(state, 1.0)
        assert int(state.reductions_left) == expected_left
    assert float(state.lr) == pytest.approx(0.01)
    traced = jax.jit(plateau.init)(0.1)
    assert int(traced.reductions_left) == -1
    for _ in range(6):
        traced = plateau.update(traced, 2.0)
    assert float(traced.lr) == pytest.approx(0.01) and int(traced.reductions_left) == -1


_configs = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["min", "max"]),
        "threshold_mode": st.sampled_from(["rel", "abs"]),
        "factor": st.sampled_from([0.0, 0.1, 0.5, 0.9]),
        "patience": st.integers(0, 4),
        "cooldown": st.integers(0, 3),
        "threshold": st.sampled_from([0.0, 1e-4, 0.05, 0.5]),
        "eps": st.sampled_from([0.0, 1e-8, 0.01]),
        "min_lr": st.one_of(st.sampled_from([0.0, 0.01]), st.tuples(st.sampled_from([0.0, 0.02]), st.just(0.1))),
    }
)
_metric = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, math.nan, math.inf, -math.inf]),
    st.floats(-5.0, 5.0, allow_nan=False),
)


@needs_torch
@settings(max_examples=60, deadline=None)
@given(config=_configs, metrics=st.lists(_metric, min_size=1, max_size=30))
def test_random_configs_match_live_torch(config, metrics):
    if isinstance(config["min_lr"], tuple):
        config = {**config, "min_lr": list(config["min_lr"])}
    with jax.enable_x64(True):
        ours = run_jax(config, (0.05, 0.5), metrics)
    assert_same_decisions(ours, run_torch(config, (0.05, 0.5), metrics))


def test_negative_metrics_reproduce_torchs_rel_mode_flaw(x64):
    """min/rel with best = -1, threshold 0.1: the bar is -0.9, so a worse -0.95 counts as better."""
    plateau = js.reduce_on_plateau(threshold=0.1, patience=0)
    state = plateau.update(plateau.update(plateau.init(1.0), -1.0), -0.95)
    assert float(state.best) == -0.95 and int(state.num_bad_epochs) == 0
    for _ in range(20):  # a constant negative metric "improves" forever: never a reduction
        state = plateau.update(state, -0.95)
    assert float(state.lr) == 1.0
    abs_plateau = js.reduce_on_plateau(threshold=0.1, threshold_mode="abs", patience=0)
    abs_state = abs_plateau.update(abs_plateau.update(abs_plateau.init(1.0), -1.0), -0.95)
    assert float(abs_state.best) == -1.0 and float(abs_state.lr) == pytest.approx(0.1)


def test_nan_metric_is_a_bad_epoch_and_first_finite_metric_is_best():
    plateau = js.reduce_on_plateau(patience=1, factor=0.5)
    state = plateau.init(1.0)
    assert float(state.best) == math.inf
    state = plateau.update(state, math.nan)
    assert int(state.num_bad_epochs) == 1 and float(state.best) == math.inf
    state = plateau.update(state, math.nan)  # second bad epoch > patience 1: reduce
    assert float(state.lr) == 0.5 and int(state.num_bad_epochs) == 0
    state = plateau.update(state, 3.0)
    assert float(state.best) == 3.0 and int(state.last_epoch) == 3
    assert float(js.reduce_on_plateau(mode="max").init(1.0).best) == -math.inf


# --- state layout, dtypes, validation ---


def test_state_fields_dtypes_and_structure():
    plateau = js.reduce_on_plateau()
    state = plateau.init({"base": 0.1, "head": 0.01})
    assert state._fields == ("lr", "best", "num_bad_epochs", "cooldown_counter", "last_epoch", "reductions_left")
    assert set(state.lr) == {"base", "head"} and state.lr["base"].dtype == jnp.float32
    assert state.best.dtype == jnp.float32
    for counter in (state.num_bad_epochs, state.cooldown_counter, state.last_epoch):
        assert counter.dtype == jnp.int32
    after = plateau.update(state, 1.0)
    assert jax.tree.structure(after) == jax.tree.structure(state)
    assert [x.dtype for x in jax.tree.leaves(after)] == [x.dtype for x in jax.tree.leaves(state)]
    assert [x.weak_type for x in jax.tree.leaves(after)] == [False] * len(jax.tree.leaves(after))


def test_x64_state_is_float64(x64):
    state = js.reduce_on_plateau().init(0.1)
    assert state.lr.dtype == jnp.float64 and state.best.dtype == jnp.float64
    assert state.num_bad_epochs.dtype == jnp.int32


def test_state_checkpoints_and_resumes():
    plateau = js.reduce_on_plateau(patience=1, cooldown=2, factor=0.5)
    metrics = metric_sequence(3, 40)
    state = plateau.init({"a": 0.1, "b": 1.0})
    for m in metrics[:20]:
        state = plateau.update(state, m)
    leaves, treedef = jax.tree.flatten(state)
    saved = [np.array(leaf) for leaf in leaves]  # what a checkpoint writes
    resumed = jax.tree.unflatten(treedef, [jnp.asarray(leaf) for leaf in saved])
    for m in metrics[20:]:
        state, resumed = plateau.update(state, m), plateau.update(resumed, m)
    jax.tree.map(np.testing.assert_array_equal, state, resumed)


@pytest.mark.parametrize(
    "kwargs, exception, name",
    [
        (dict(mode="minimum"), ValueError, "mode"),
        (dict(threshold_mode="relative"), ValueError, "threshold_mode"),
        (dict(factor=1.0), ValueError, "factor"),
        (dict(factor=-0.1), ValueError, "factor"),
        (dict(factor="0.1"), TypeError, "factor"),
        (dict(patience=-1), ValueError, "patience"),
        (dict(patience=2.5), TypeError, "patience"),
        (dict(cooldown=-1), ValueError, "cooldown"),
        (dict(threshold=-1e-4), ValueError, "threshold"),
        (dict(threshold=math.nan), ValueError, "threshold"),
        (dict(eps=-1.0), ValueError, "eps"),
        (dict(min_lr=-0.1), ValueError, "min_lr"),
        (dict(min_lr={"head": -1e-3}), ValueError, r"min_lr\['head'\]"),
        (dict(min_lr=[]), ValueError, "min_lr"),
    ],
)
def test_constructor_validation_names_the_argument(kwargs, exception, name):
    with pytest.raises(exception, match=name):
        js.reduce_on_plateau(**kwargs)


def test_init_and_update_validation():
    with pytest.raises(ValueError, match="min_lr must be a float or have the same structure as lr"):
        js.reduce_on_plateau(min_lr=[0.1, 0.2]).init([0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="min_lr must be a float or have the same structure as lr"):
        js.reduce_on_plateau(min_lr={"base": 0.1}).init({"base": 0.5, "head": 0.5})
    with pytest.raises(ValueError, match=r"lr\['head'\]"):
        js.reduce_on_plateau().init({"base": 0.5, "head": -0.5})
    with pytest.raises(TypeError, match="lr"):
        js.reduce_on_plateau().init(lambda step: 0.1)
    plateau = js.reduce_on_plateau()
    with pytest.raises(ValueError, match="metric must be a scalar"):
        plateau.update(plateau.init(0.1), jnp.ones(3))
    # huge patience / cooldown saturate instead of overflowing the int32 counters
    huge = js.reduce_on_plateau(patience=2**40, cooldown=2**40, factor=0.5)
    assert float(huge.update(huge.init(1.0), 1.0).lr) == 1.0


# --- jit, vmap, lax.scan ---


def test_jitted_update_compiles_once_for_many_metrics():
    plateau = js.reduce_on_plateau(patience=2, factor=0.5)
    traces = []

    @jax.jit
    def update(state, metric):
        traces.append(1)
        return plateau.update(state, metric)

    state = plateau.init({"base": 0.1, "head": 0.01})
    for metric in metric_sequence(11, 60):
        state = update(state, float(metric))
    assert len(traces) == 1
    assert float(state.lr["base"]) < 0.1  # it did reduce


def _scan_sequence(plateau, lr, metrics):
    def step(state, metric):
        state = plateau.update(state, metric)
        return state, state.lr

    return jax.lax.scan(step, plateau.init(lr), metrics)


def test_vmap_over_metric_sequences_equals_python_loop(x64):
    plateau = js.reduce_on_plateau(patience=1, cooldown=1, factor=0.5, threshold=0.01)
    batch = np.stack([metric_sequence(seed, 50) for seed in range(6)])
    final, lr_paths = jax.jit(jax.vmap(lambda m: _scan_sequence(plateau, 0.3, m)))(batch)
    for i, metrics in enumerate(batch):
        state = plateau.init(0.3)
        for t, metric in enumerate(metrics):
            state = plateau.update(state, metric)
            assert float(lr_paths[i, t]) == float(state.lr)
        jax.tree.map(lambda b, s: np.testing.assert_array_equal(b[i], s), final, state)


def test_vmap_over_initial_learning_rates(x64):
    plateau = js.reduce_on_plateau(patience=0, factor=0.5, min_lr=0.04)
    metrics = jnp.asarray([1.0, 2.0, 2.0, 2.0])
    _, lr_paths = jax.vmap(lambda lr: _scan_sequence(plateau, lr, metrics))(jnp.asarray([0.1, 0.2, 0.4]))
    np.testing.assert_allclose(lr_paths[:, -1], [0.04, 0.04, 0.05])


# --- driving optimizers inside one jitted step ---

_rng = np.random.RandomState(0)
_X = _rng.randn(32, 5)
_Y = _X @ _rng.randn(5) + 0.3 + 0.5 * _rng.randn(32)
_W0, _B0 = 0.1 * _rng.randn(5), np.array(0.0)  # arrays: a Python float would be weakly typed
STEPS = 60


def _loss(params):
    return jnp.mean((jnp.asarray(_X) @ params["w"] + params["b"] - jnp.asarray(_Y)) ** 2)


def _jax_run(tx, plateau, lrs, use_scan):
    """Parameters (steps x 6) and plateau lrs (stacked per step) of a jitted SGD + plateau run."""
    params = {"w": jnp.asarray(_W0), "b": jnp.asarray(_B0)}
    carry = (params, tx.init(params), plateau.init(lrs))
    traces = []

    def train_step(carry, _):
        traces.append(1)
        params, opt_state, pstate = carry
        loss, grads = jax.value_and_grad(_loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        pstate = plateau.update(pstate, loss)  # torch: scheduler.step(loss) after optimizer.step()
        opt_state = js.set_hyperparams(opt_state, learning_rate=pstate.lr)
        params = js.apply_updates(params, updates)
        return (params, opt_state, pstate), (jnp.append(params["w"], params["b"]), pstate.lr)

    if use_scan:
        _, (path, lr_path) = jax.jit(lambda c: jax.lax.scan(train_step, c, None, length=STEPS))(carry)
    else:
        step, outputs = jax.jit(train_step), []
        for _ in range(STEPS):
            carry, output = step(carry, None)
            outputs.append(output)
        path, lr_path = jax.tree.map(lambda *xs: jnp.stack(xs), *outputs)
    return np.asarray(path), lr_path, len(traces)


def _torch_run(torch_groups_lrs, momentum, plateau_kwargs):
    import torch

    w = torch.tensor(_W0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(_B0, dtype=torch.float64, requires_grad=True)
    groups = [{"params": [w], "lr": torch_groups_lrs[0]}, {"params": [b], "lr": torch_groups_lrs[-1]}]
    optimizer = torch.optim.SGD(groups, momentum=momentum)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **plateau_kwargs)
    x, y = torch.tensor(_X), torch.tensor(_Y)
    path, lr_path = [], []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.mean((x @ w + b - y) ** 2)
        loss.backward()
        optimizer.step()
        scheduler.step(loss.item())
        path.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]))
        lr_path.append([g["lr"] for g in optimizer.param_groups])
    return np.stack(path), np.asarray(lr_path)


_PLATEAU_KWARGS = dict(patience=2, factor=0.5, threshold=1e-3, cooldown=1)


@needs_torch
@pytest.mark.parametrize("use_scan", [False, True], ids=["python_loop", "lax_scan"])
def test_drives_sgd_compiling_once_and_matches_torch(use_scan, x64):
    plateau = js.reduce_on_plateau(**_PLATEAU_KWARGS, min_lr=0.005)
    path, lr_path, traces = _jax_run(js.sgd(0.1, momentum=0.9), plateau, 0.1, use_scan)
    torch_path, torch_lrs = _torch_run([0.1], 0.9, dict(_PLATEAU_KWARGS, min_lr=0.005))
    assert traces == 1
    assert len(set(torch_lrs[:, 0])) >= 3  # several reductions happened along the run
    np.testing.assert_array_equal(lr_path, torch_lrs[:, 0])
    np.testing.assert_allclose(path, torch_path, rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("use_scan", [False, True], ids=["python_loop", "lax_scan"])
def test_drives_partition_groups_with_per_group_min_lr(use_scan, x64):
    groups = {"base": js.sgd(0.1, momentum=0.9), "head": js.sgd(0.05, momentum=0.9)}
    tx = js.partition(groups, {"w": "base", "b": "head"})
    plateau = js.reduce_on_plateau(**_PLATEAU_KWARGS, min_lr={"base": 0.01, "head": 0.02})
    path, lr_path, traces = _jax_run(tx, plateau, {"base": 0.1, "head": 0.05}, use_scan)
    torch_path, torch_lrs = _torch_run([0.1, 0.05], 0.9, dict(_PLATEAU_KWARGS, min_lr=[0.01, 0.02]))
    assert traces == 1
    assert torch_lrs[:, 1].min() == 0.02 and torch_lrs[:, 0].min() < 0.02  # the head stops at its own floor
    np.testing.assert_array_equal(np.stack([lr_path["base"], lr_path["head"]], axis=1), torch_lrs)
    np.testing.assert_allclose(path, torch_path, rtol=1e-10, atol=1e-12)


# --- schedules under plateau control (beyond torch) ---


def _torch_plateau_lrs(kwargs, lr, metrics):
    """Torch's lr *before* each step(metric), i.e. the lr in use when that metric was produced."""
    after = run_torch(kwargs, (lr,), metrics)["lr"][:, 0]
    return np.concatenate([[lr], after[:-1]])


@needs_torch
def test_warmup_then_plateau_equals_torch_plateau_started_after_warmup(x64):
    warmup_steps, base_lr, kwargs = 5, 0.1, dict(patience=2, factor=0.5, min_lr=0.02)
    ramp = lambda step: jnp.minimum(step / warmup_steps, 1.0)  # noqa: E731
    ctrl = js.schedule_with_plateau(ramp, js.reduce_on_plateau(**kwargs), start_step=warmup_steps)
    metrics = metric_sequence(21, 60)
    metrics[0] = -1e9  # would poison ``best`` if warmup metrics were counted
    state, lrs = ctrl.init(base_lr), []
    for step, metric in enumerate(metrics):
        lrs.append(float(ctrl.lr(state, step)))
        state = ctrl.update(state, metric, step)
    warmup_lrs = [base_lr * s / warmup_steps for s in range(warmup_steps)]
    expected = np.concatenate([warmup_lrs, _torch_plateau_lrs(kwargs, base_lr, metrics[warmup_steps:])])
    np.testing.assert_allclose(lrs, expected, rtol=1e-15)
    assert min(lrs[warmup_steps:]) == 0.02 and int(state.last_epoch) == len(metrics) - warmup_steps


@needs_torch
def test_schedule_times_plateau_factor_min_lr_bounds_the_factor(x64):
    schedule = lambda step: 0.1 * 0.99**step  # noqa: E731
    kwargs = dict(patience=1, factor=0.5, min_lr=0.2)
    ctrl = js.schedule_with_plateau(schedule, js.reduce_on_plateau(**kwargs))
    metrics = metric_sequence(22, 60)
    state, lrs = ctrl.init(), []
    for step, metric in enumerate(metrics):
        lrs.append(float(ctrl.lr(state, step)))
        state = ctrl.update(state, metric, step)
    factors = _torch_plateau_lrs(kwargs, 1.0, metrics)  # torch's plateau run on an lr of 1.0 is the factor
    steps = np.arange(len(metrics))
    np.testing.assert_allclose(lrs, 0.1 * 0.99**steps * factors, rtol=1e-14)
    assert factors.min() == 0.2 and np.all(np.asarray(lrs) >= 0.2 * 0.1 * 0.99**steps * (1 - 1e-15))


def test_per_group_schedules_and_structure_check():
    schedules = {"base": lambda s: 1.0 + 0.0 * s, "head": lambda s: jnp.minimum(s / 4.0, 1.0)}
    ctrl = js.schedule_with_plateau(schedules, js.reduce_on_plateau(), start_step=4)
    state = ctrl.init({"base": 0.1, "head": 0.01})
    lr = ctrl.lr(state, 2)
    assert float(lr["base"]) == pytest.approx(0.1) and float(lr["head"]) == pytest.approx(0.005)
    assert lr["base"].dtype == state.lr["base"].dtype
    with pytest.raises(ValueError, match="same structure as the initial value"):
        ctrl.init({"base": 0.1})


@pytest.mark.parametrize(
    "args, exception, name",
    [
        ((0.1, js.reduce_on_plateau()), TypeError, "schedule"),
        (({"a": 0.1}, js.reduce_on_plateau()), TypeError, "schedule"),
        ((lambda s: 1.0, (lambda x: x, lambda s, m: s)), TypeError, "plateau"),
        ((lambda s: 1.0, js.reduce_on_plateau(), -1), ValueError, "start_step"),
        ((lambda s: 1.0, js.reduce_on_plateau(), 2.5), TypeError, "start_step"),
    ],
)
def test_schedule_with_plateau_validation(args, exception, name):
    with pytest.raises(exception, match=name):
        js.schedule_with_plateau(*args)


def test_schedule_with_plateau_in_jitted_sgd_step_compiles_once(x64):
    warmup_steps = 10
    ctrl = js.schedule_with_plateau(
        lambda s: jnp.minimum((s + 1) / warmup_steps, 1.0),
        js.reduce_on_plateau(patience=2, factor=0.5, threshold=1e-3),
        start_step=warmup_steps,
    )
    tx = js.sgd(0.0, momentum=0.9)
    traces = []

    @jax.jit
    def train_step(params, opt_state, cstate, step):
        traces.append(1)
        opt_state = js.set_hyperparams(opt_state, learning_rate=ctrl.lr(cstate, step))
        loss, grads = jax.value_and_grad(_loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return js.apply_updates(params, updates), opt_state, ctrl.update(cstate, loss, step)

    params = {"w": jnp.asarray(_W0), "b": jnp.asarray(_B0)}
    opt_state, cstate = tx.init(params), ctrl.init(0.05)
    for step in range(80):
        params, opt_state, cstate = train_step(params, opt_state, cstate, jnp.asarray(step, jnp.int32))
    assert len(traces) == 1
    assert float(cstate.lr) < 0.05 and int(cstate.last_epoch) == 80 - warmup_steps


# --- the example ---


def test_example_trains_with_warmup_and_drops_the_lr():
    spec = importlib.util.spec_from_file_location("plateau_example", ROOT / "examples" / "plateau.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(epochs=15, log=False)
    assert len(result["drops"]) >= 1
    assert result["final_val_loss"] < result["first_val_loss"]


def test_example_runs_as_a_script():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "plateau.py"), "--epochs", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr
    assert "epoch   0" in completed.stdout and "lr drop(s)" in completed.stdout
