"""Weight averaging (js.ema, js.swa) and the SWA learning rate vs torch.optim.swa_utils.

Parity with torch in float64 at rtol 1e-10, against live torch and against values stored from torch
in ``tests/golden/swa.npz`` by ``tests/golden/generate_swa.py`` (cases and torch runners shared).
"""

from __future__ import annotations

import importlib.util
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.golden.generate_swa import (
    AVERAGING_CASES,
    EPOCHS,
    GOLDEN,
    LR_CASES,
    PARAM_SHAPES,
    AveragingCase,
    LrCase,
    parameter_walk,
    run_averaging,
    run_lr,
)

S = js.schedules
HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
RTOL = 1e-10
STEPS_PER_EPOCH = 3


def golden(key: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        if key not in data:
            pytest.fail(f"no golden values for {key!r}: run `python tests/golden/generate_swa.py`")
        return data[key]


# --- averaging ------------------------------------------------------------------------------------


def unflatten(row: np.ndarray) -> dict[str, jax.Array]:
    """One flattened torch parameter row as a dict pytree keyed by torch's parameter names."""
    tree, offset = {}, 0
    for name, shape in PARAM_SHAPES.items():
        size = math.prod(shape)
        tree[name] = jnp.asarray(row[offset : offset + size].reshape(shape))
        offset += size
    return tree


def flatten(tree: dict[str, jax.Array]) -> np.ndarray:
    return np.concatenate([np.ravel(tree[name]) for name in PARAM_SHAPES])


def averager(case: AveragingCase) -> js.Averager:
    return js.swa() if case.decay is None else js.ema(case.decay)


def run_jax_averaging(case: AveragingCase, inputs: np.ndarray) -> np.ndarray:
    with jax.enable_x64(True):
        avg = averager(case)
        # init from other values than the first update: the first update must copy, as torch's.
        astate = avg.init(unflatten(inputs[0] + 1.0))
        update = jax.jit(avg.update)
        rows = []
        for row in inputs:
            astate = update(astate, unflatten(row))
            rows.append(flatten(astate.params))
        assert int(astate.n_averaged) == len(inputs)
        return np.array(rows)


@pytest.mark.parametrize("name", sorted(AVERAGING_CASES))
def test_averaging_matches_golden_torch_values(name):
    inputs = golden(f"{name}.inputs")
    np.testing.assert_allclose(
        run_jax_averaging(AVERAGING_CASES[name], inputs), golden(f"{name}.averages"), rtol=RTOL, atol=0, err_msg=name
    )


@needs_torch
@pytest.mark.parametrize("name", sorted(AVERAGING_CASES))
def test_averaging_matches_live_torch(name):
    case = AVERAGING_CASES[name]
    inputs = parameter_walk(case.seed)
    np.testing.assert_allclose(run_jax_averaging(case, inputs), run_averaging(case, inputs), rtol=RTOL, atol=0)


def test_first_update_copies_and_later_updates_average(x64):
    avg = js.swa()
    astate = avg.init({"w": jnp.zeros(3)})
    assert int(astate.n_averaged) == 0
    for value in (1.0, 2.0, 6.0):
        astate = avg.update(astate, {"w": jnp.full(3, value)})
    np.testing.assert_array_equal(astate.params["w"], [3.0, 3.0, 3.0])
    assert int(astate.n_averaged) == 3


def test_low_precision_params_are_averaged_in_float32():
    params = {"w": jnp.ones(4, jnp.bfloat16), "b": jnp.zeros((), jnp.float16)}
    avg = js.ema(0.999)
    astate = avg.update(avg.init(params), params)
    assert {k: v.dtype for k, v in astate.params.items()} == {"w": jnp.float32, "b": jnp.float32}
    next_up = jnp.nextafter(jnp.bfloat16(1), jnp.bfloat16(2))  # 1 + 2**-7
    for _ in range(10):
        astate = avg.update(astate, {"w": jnp.full(4, next_up), "b": params["b"]})
    # An average kept in bfloat16 would round every one of these increments away and stay at 1.
    expected = 1 + float(next_up - 1) * (1 - 0.999**10)
    np.testing.assert_allclose(astate.params["w"], expected, rtol=1e-5)
    assert np.all(astate.params["w"] > 1)
    back = jax.tree.map(lambda a, p: a.astype(p.dtype), astate.params, params)
    assert back["w"].dtype == jnp.bfloat16 and back["b"].dtype == jnp.float16


@pytest.mark.parametrize("make", [js.swa, lambda: js.ema(0.9)], ids=["swa", "ema"])
def test_jit_with_donated_state(make):
    avg = make()
    params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
    update = jax.jit(avg.update, donate_argnums=0)
    reference = jax.jit(avg.update)
    astate, expected = avg.init(params), avg.init(params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "donated buffers were not usable" would mean a copy per step
        for factor in (2.0, 3.0, 4.0):
            current = jax.tree.map(lambda p, factor=factor: p * factor, params)
            previous = astate
            astate = update(astate, current)
            expected = reference(expected, current)
            assert all(leaf.is_deleted() for leaf in jax.tree.leaves(previous.params))
    assert not any(leaf.is_deleted() for leaf in jax.tree.leaves(params))  # init copied the caller's params
    jax.tree.map(np.testing.assert_array_equal, astate, expected)


def test_changing_decay_does_not_recompile(x64):
    traces = []

    def step(astate, params):
        traces.append(None)
        return avg.update(astate, params)

    avg = js.ema(0.9)
    update = jax.jit(step)
    params = {"w": jnp.ones(3)}
    astate = update(avg.init(params), params)
    assert float(js.get_hyperparams(astate)["decay"]) == 0.9
    for decay in (0.5, 0.25):
        astate = update(js.set_hyperparams(astate, decay=decay), {"w": 3 * params["w"]})
    assert len(traces) == 1
    # 1 -> lerp(1, 3, 0.5) = 2 -> lerp(2, 3, 0.75) = 2.75
    np.testing.assert_array_equal(astate.params["w"], 2.75)


def test_swa_has_no_hyperparameters():
    astate = js.swa().init({"w": jnp.ones(2)})
    assert js.get_hyperparams(astate) == {}
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        js.set_hyperparams(astate, decay=0.5)


def test_update_with_other_params_names_the_difference():
    avg = js.ema()
    astate = avg.init({"w": jnp.ones(2)})
    with pytest.raises(ValueError, match=r"shape differs at \['w'\]"):
        avg.update(astate, {"w": jnp.ones(3)})


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: js.ema(1.5), ValueError, r"decay must be a finite number in \[0, 1\]"),
        (lambda: js.ema(-0.1), ValueError, r"decay must be a finite number in \[0, 1\]"),
        (lambda: js.ema(float("nan")), ValueError, "decay"),
        (lambda: js.ema("0.9"), TypeError, "decay must be a real number"),
        (lambda: S.swa_lr(-0.1, start_value=0.1), ValueError, "swa_lr"),
        (lambda: S.swa_lr(0.05, -1, start_value=0.1), ValueError, "anneal_epochs must be an integer >= 0"),
        (lambda: S.swa_lr(0.05, 2.5, start_value=0.1), TypeError, "anneal_epochs must be an integer"),
        (lambda: S.swa_lr(0.05, 5, "exp", start_value=0.1), ValueError, "anneal_strategy must be one of 'cos'"),
        (lambda: S.swa_lr(0.05, 5, start_value=float("inf")), ValueError, "start_value"),
        (lambda: S.swa_lr(0.05, 5), TypeError, "start_value"),
    ],
)
def test_bad_arguments_raise_at_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --- the SWA learning rate --------------------------------------------------------------------------


def jax_lr(case: LrCase):
    """The per-epoch schedule for a case: SWALR alone from ``case.lr``, or the cosine-then-SWALR recipe."""
    if case.t_max is None:
        return S.swa_lr(case.swa_lr, case.anneal_epochs, case.anneal_strategy, start_value=case.lr)
    cosine = S.cosine_annealing(case.lr, case.t_max)
    first_swalr_epoch = case.swa_start + 1  # torch steps the cosine after epochs 0..swa_start
    start_value = cosine(first_swalr_epoch)
    annealing = S.swa_lr(case.swa_lr, case.anneal_epochs, case.anneal_strategy, start_value=start_value)
    return S.join([cosine, annealing], [first_swalr_epoch])


def assert_lr_matches(case: LrCase, torch_lrs: np.ndarray, name: str) -> None:
    """Per update, with every epoch ``STEPS_PER_EPOCH`` updates long (torch's schedulers step per epoch)."""
    assert torch_lrs.shape == (EPOCHS,)
    with jax.enable_x64(True):
        schedule = S.per_epoch(jax_lr(case), STEPS_PER_EPOCH)
        ours = np.asarray(jax.jit(schedule)(jnp.arange(EPOCHS * STEPS_PER_EPOCH)))
    np.testing.assert_allclose(ours, np.repeat(torch_lrs, STEPS_PER_EPOCH), rtol=RTOL, atol=0, err_msg=name)


@pytest.mark.parametrize("name", sorted(LR_CASES))
def test_swa_lr_matches_golden_torch_values(name):
    assert_lr_matches(LR_CASES[name], golden(f"{name}.lr"), name)


@needs_torch
@pytest.mark.parametrize("name", sorted(LR_CASES))
def test_swa_lr_matches_live_torch(name):
    assert_lr_matches(LR_CASES[name], run_lr(LR_CASES[name]), name)


def test_swa_lr_docstring_example(x64):
    values = S.swa_lr(0.05, 4, "linear", start_value=0.1)(jnp.arange(6))
    np.testing.assert_allclose(values, [0.1, 0.0875, 0.075, 0.0625, 0.05, 0.05], rtol=1e-15)


def test_swa_lr_gradient_is_the_annealing_weight(x64):
    def value_at(step, swa_lr):
        return S.swa_lr(swa_lr, 4, "cos", start_value=0.1)(step)

    for step in range(6):
        alpha = (1 - math.cos(math.pi * min(step, 4) / 4)) / 2
        assert float(jax.grad(value_at, argnums=1)(step, 0.05)) == pytest.approx(alpha, abs=1e-15)


# --- examples/swa.py ---------------------------------------------------------------------------------


@needs_torch
def test_swa_example_is_close_to_torchs_recipe():
    from tests.test_examples import load_example

    results = load_example("swa").main()
    for model in ("sgd", "swa"):
        (jax_loss, jax_accuracy), (torch_loss, torch_accuracy) = results["jax"][model], results["torch"][model]
        assert jax_loss == pytest.approx(torch_loss, abs=0.01), model
        assert jax_accuracy == pytest.approx(torch_accuracy, abs=0.01), model
        assert jax_accuracy > 0.85, model
