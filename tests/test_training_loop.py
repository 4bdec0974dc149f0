"""Training-loop idioms against torch: param_groups (per-group schedules, no-decay groups, freezing),
gradient accumulation, hyperparameters through flax NNX, integral float step counts and describe."""

from __future__ import annotations

import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from jaxsched.testing import assert_no_recompile
from tests.golden.generate_training_loop import (
    ACCUMULATE_K,
    ACCUMULATE_LR,
    CASES,
    GOLDEN,
    HEAD,
    is_frozen,
    plateau_metric,
    run_torch_accumulate,
    run_torch_freeze,
)
from tests.optim_parity import PARAMS0, STEPS, assert_trajectories_close, flatten, grads_at, run_jax, run_torch

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def golden(name: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        return data[name]


def start_params():
    return {k: jnp.asarray(v, jnp.float64) for k, v in PARAMS0.items()}


def counted_jit(fn):
    """``jax.jit(fn)`` and the list its traces append to."""
    traces = []

    def traced(*args):
        traces.append(None)
        return fn(*args)

    return jax.jit(traced), traces


# --- param_groups and no-decay groups ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_param_groups_match_golden_torch(name):
    assert_trajectories_close(run_jax(CASES[name]), golden(name), name)


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_param_groups_match_live_torch(name):
    assert_trajectories_close(run_jax(CASES[name]), run_torch(CASES[name]), name)


def test_param_groups_read_and_set_per_group_without_recompiling():
    labels = js.label_by_path({"b_vector": "head"}, default="base")
    tx = js.param_groups(
        js.sgd,
        {"base": {}, "head": {"learning_rate": 1e-3, "nesterov": True}},
        labels,
        learning_rate=1e-2,
        momentum=0.9,
    )
    params = start_params()
    state = tx.init(params)
    assert float(js.get_hyperparams(state)["head"]["learning_rate"]) == pytest.approx(1e-3)
    assert float(js.get_hyperparams(state)["base"]["learning_rate"]) == pytest.approx(1e-2)
    lowered = js.set_hyperparams(state, head={"learning_rate": 1e-4})
    assert float(js.get_hyperparams(lowered)["head"]["learning_rate"]) == pytest.approx(1e-4)
    grads = grads_at(PARAMS0, 0)

    def train_step(params, state):
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    assert_no_recompile(
        train_step, (params, state), (params, lowered), (params, js.set_hyperparams(lowered, learning_rate=0.5))
    )


def test_param_groups_schedule_scales_each_group_base_lr():
    tx = js.param_groups(
        js.adam,
        {"a": {}, "b": {"learning_rate": 0.5}},
        lambda p: {k: "b" if k in HEAD else "a" for k in p},
        schedule=lambda lr: js.schedules.step_decay(lr, step_size=1, gamma=0.1),
        learning_rate=2.0,
    )
    state = tx.init(start_params())
    _, state = tx.update(grads_at(PARAMS0, 0), state, start_params())
    lrs = js.get_hyperparams(state)
    assert float(lrs["a"]["learning_rate"]) == pytest.approx(0.2) and float(lrs["b"]["learning_rate"]) == pytest.approx(
        0.05
    )


def test_param_groups_errors_name_the_argument():
    labels = js.label_by_path({}, default="base")
    with pytest.raises(TypeError, match="group 'head' names \\['lr'\\]"):
        js.param_groups(js.sgd, {"base": {}, "head": {"lr": 0.1}}, labels)
    with pytest.raises(TypeError, match="groups must be a non-empty dict"):
        js.param_groups(js.sgd, [], labels)
    with pytest.raises(TypeError, match="schedule must map a base learning rate to a schedule"):
        js.param_groups(js.sgd, {"base": {}}, labels, schedule=lambda lr: lr * 2)


def test_label_decay_is_the_transformers_no_decay_split():
    params = {"dense": {"kernel": 1.0, "bias": 1.0}, "LayerNorm_0": {"scale": 1.0}, "norm1": {"scale": 1.0}}
    assert js.label_decay()(params) == {
        "dense": {"kernel": "decay", "bias": "no_decay"},
        "LayerNorm_0": {"scale": "no_decay"},
        "norm1": {"scale": "no_decay"},
    }
    with pytest.raises(TypeError, match="no_decay must be a sequence"):
        js.label_decay("bias")


# --- freezing --------------------------------------------------------------------------------------


def run_jax_freeze():
    with jax.enable_x64(True):
        tx = js.param_groups(
            js.adam,
            {"base": {}, "head": {"learning_rate": 0.02}},
            js.label_by_path({k: "head" for k in HEAD}, default="base"),
            schedule=lambda lr: js.schedules.step_decay(lr, step_size=7, gamma=0.5),
            learning_rate=0.05,
            weight_decay=0.01,
        )
        params = start_params()
        state = tx.init(params)

        def step(params, state, grads):
            updates, state = tx.update(grads, state, params)
            return js.apply_updates(params, updates), state

        step, traces = counted_jit(step)
        rows = [flatten(params)]
        for s in range(STEPS):
            state = js.set_frozen(state, base=is_frozen("base", s), head=is_frozen("head", s))
            params, state = step(params, state, {k: jnp.asarray(g) for k, g in grads_at(params, s).items()})
            rows.append(flatten(params))
    return np.stack(rows), len(traces)


def test_freezing_matches_golden_torch_and_never_recompiles():
    trajectory, traces = run_jax_freeze()
    assert traces == 1
    assert_trajectories_close(trajectory, golden("freeze_adam"), "freeze_adam")


@needs_torch
def test_freezing_matches_live_torch():
    assert_trajectories_close(run_jax_freeze()[0], run_torch_freeze(), "freeze_adam")


def test_frozen_group_keeps_its_state_and_gets_zero_updates():
    tx = js.param_groups(js.adamw, {"base": {}, "head": {}}, js.label_by_path({"b_vector": "head"}, default="base"))
    params = start_params()
    state = js.set_frozen(tx.init(params), head=True)
    updates, new_state = tx.update(grads_at(PARAMS0, 0), state, params)
    assert not np.any(np.asarray(updates["b_vector"])) and np.all(np.asarray(updates["a_matrix"]) != 0)
    head_old, head_new = state.inner_state.inner_states["head"], new_state.inner_state.inner_states["head"]
    assert int(head_new.inner_state.step) == 0 and int(head_new.step) == 1  # Adam's count held, the schedule's moves
    np.testing.assert_array_equal(head_new.inner_state.exp_avg["b_vector"], head_old.inner_state.exp_avg["b_vector"])
    with pytest.raises(ValueError, match="'neck' is not a parameter group"):
        js.set_frozen(state, neck=True)
    with pytest.raises(TypeError, match="takes True or False"):
        js.set_frozen(state, head="yes")


# --- gradient accumulation ----------------------------------------------------------------------------


def run_jax_accumulate(every_k: int):
    """Adam accumulated over ``every_k`` micro-batches; StepLR times ReduceLROnPlateau set each optimizer step."""
    with jax.enable_x64(True):
        tx = js.accumulate(js.adam(ACCUMULATE_LR, weight_decay=0.01), every_k)
        control = js.schedule_with_plateau(
            js.schedules.step_decay(1.0, step_size=7, gamma=0.5), js.reduce_on_plateau(factor=0.5, patience=2)
        )
        cstate = control.init(ACCUMULATE_LR)
        params = start_params()
        state = tx.init(params)

        def micro_step(params, state, grads):
            updates, state = tx.update(grads, state, params)
            return js.apply_updates(params, updates), state

        micro_step, traces = counted_jit(micro_step)
        rows = [flatten(params)]
        for s in range(STEPS):
            for micro in range(every_k):
                grads = {k: jnp.asarray(g) for k, g in grads_at(params, s * every_k + micro).items()}
                params, state = micro_step(params, state, grads)
            assert int(state.micro_step) == 0 and int(js.get_hyperparams(state)["learning_rate"] > 0)
            cstate = control.update(cstate, plateau_metric(s), s)
            state = js.set_hyperparams(state, learning_rate=control.lr(cstate, s + 1))
            rows.append(flatten(params))
        assert int(state.inner_state.inner_state.step) == STEPS  # Adam counted optimizer steps
    return np.stack(rows), len(traces)


@pytest.mark.parametrize("every_k", ACCUMULATE_K)
def test_accumulate_matches_golden_torch_and_never_recompiles(every_k):
    trajectory, traces = run_jax_accumulate(every_k)
    assert traces == 1
    assert_trajectories_close(trajectory, golden(f"accumulate_k{every_k}"), f"accumulate_k{every_k}")


@needs_torch
@pytest.mark.parametrize("every_k", ACCUMULATE_K)
def test_accumulate_matches_live_torch(every_k):
    assert_trajectories_close(run_jax_accumulate(every_k)[0], run_torch_accumulate(every_k), f"accumulate_k{every_k}")


def test_accumulate_zero_updates_between_steps_and_sums_without_average():
    tx = js.accumulate(js.sgd(1.0), every_k=3, average=False)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for i, g in enumerate([1.0, 2.0, 4.0]):
        updates, state = tx.update({"w": jnp.full(2, g)}, state, params)
        expected = -7.0 if i == 2 else 0.0
        np.testing.assert_array_equal(updates["w"], [expected, expected])
    assert int(state.micro_step) == 0 and not np.any(np.asarray(state.grad_sum["w"]))


def test_accumulate_arguments_are_checked():
    with pytest.raises(ValueError, match="every_k must be an integer >= 1"):
        js.accumulate(js.sgd(0.1), 0)
    with pytest.raises(TypeError, match=r"every_k must be an integer, got 2\.5"):
        js.accumulate(js.sgd(0.1), 2.5)
    with pytest.raises(TypeError, match="accumulate's tx must be a GradientTransformation"):
        js.accumulate(0.1, 2)


# --- flax NNX ------------------------------------------------------------------------------------------


def test_nnx_set_hyperparams_survives_save_and_restore():
    nnx = pytest.importorskip("flax.nnx")

    def make():
        return nnx.Optimizer(nnx.Linear(2, 1, rngs=nnx.Rngs(0)), js.sgd(0.1, momentum=0.9), wrt=nnx.Param)

    optimizer = make()
    lr = js.get_hyperparams(optimizer.opt_state)["learning_rate"]
    assert f"{lr:.2e}" == "1.00e-01"  # a plain array, not nnx's OptArray
    optimizer.opt_state = js.set_hyperparams(optimizer.opt_state, learning_rate=0.05)
    saved = nnx.state(optimizer, nnx.OptState)
    restored = make()
    nnx.update(restored, saved)
    assert float(js.get_hyperparams(restored.opt_state)["learning_rate"]) == pytest.approx(0.05)


# --- integral float step counts ----------------------------------------------------------------------


def test_integral_float_step_counts_are_accepted():
    from jaxsched.core._validation import check_int

    assert check_int("warmup_steps", 22.0) == 22 and type(check_int("warmup_steps", np.float64(22.0))) is int
    with pytest.raises(TypeError, match=r"warmup_steps must be an integer, got 22\.5"):
        check_int("warmup_steps", 22.5)
    params = {"w": jnp.zeros(3)}
    assert int(js.accumulate(js.sgd(0.1), 4.0).init(params).micro_step) == 0
    js.lbfgs(max_iter=3.0, history_size=5.0).init(params)  # the history buffers' shape needs the int
    js.flatten(js.adam(), max_leaf_size=8.0).init(params)
    js.skip_non_finite(js.adam(), max_consecutive_skips=3.0).init(params)


def test_schedules_accept_integral_float_steps():
    sched = js.schedules.warmup(js.schedules.constant(1.0), 22.0)
    assert float(sched(11)) == pytest.approx(0.5)
    assert float(js.schedules.per_epoch(js.schedules.step_decay(1.0, 1), 22.0)(44)) == pytest.approx(0.01)


# --- describe ----------------------------------------------------------------------------------------


def test_describe_shows_hyperparameters_and_one_line_per_buffer():
    tx = js.param_groups(
        js.adamw, {"decay": {}, "no_decay": {"weight_decay": 0.0}}, js.label_decay(("vector",)), learning_rate=1e-3
    )
    state = js.set_frozen(tx.init(start_params()), no_decay=True)
    text = js.describe(state)
    assert "group 'no_decay' (frozen): AdamState, step 0" in text
    assert "weight_decay=0 (off)" in text and "learning_rate=0.001" in text
    assert "exp_avg/a_matrix     (4, 3) float32  norm 0" in text or "exp_avg/a_matrix" in text
    assert len(text) < len(repr(state)) / 2


def test_layerwise_example_matches_torch():
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("layerwise_lr_decay", EXAMPLES / "layerwise_lr_decay.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.main(steps=20) < 1e-8  # each side differentiates the model itself: last-bit gradient differences


def test_nnx_param_groups_freeze_and_accumulate():
    nnx = pytest.importorskip("flax.nnx")
    model = nnx.Sequential(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), nnx.Linear(3, 1, rngs=nnx.Rngs(1)))
    groups = js.param_groups(js.adam, {"decay": {}, "no_decay": {}}, js.label_decay(("bias",)), learning_rate=0.1)
    optimizer = nnx.Optimizer(model, js.accumulate(groups, every_k=2), wrt=nnx.Param)
    optimizer.opt_state = js.set_frozen(optimizer.opt_state, no_decay=True)
    restored = nnx.Optimizer(model, js.accumulate(groups, every_k=2), wrt=nnx.Param)
    nnx.update(restored, nnx.state(optimizer, nnx.OptState))  # the flag is in the saved state
    biases = [np.asarray(layer.bias[...]) for layer in model.layers]
    kernel = np.asarray(model.layers[0].kernel[...])

    @nnx.jit
    def micro_step(model, optimizer):
        grads = nnx.grad(lambda m: jnp.sum(m(jnp.ones((4, 2))) ** 2))(model)
        optimizer.update(model, grads)

    for _ in range(2):
        micro_step(model, restored)
    for layer, bias in zip(model.layers, biases, strict=True):
        np.testing.assert_array_equal(layer.bias[...], bias)
    assert not np.array_equal(model.layers[0].kernel[...], kernel)  # the decay group stepped once
    assert "group 'no_decay' (frozen)" in js.describe(restored.opt_state)
