"""Regression tests for the hostile probe's causes in the optimizers and the core (one test per face).

Numbers refer to the reliability issue's list: 5 float32 step scalars, 6 overflow in squaring,
7 float16 state, 8 silent partial sets, 12 update-time input torch refuses, 13 set_hyperparams
under jit, 14 Python-float leaves, 15 values that never reached a clear error.
"""

import importlib.util
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsched as js

HAS_TORCH = importlib.util.find_spec("torch") is not None
PARAMS = {"w": jnp.ones(3)}


def torch_rho(beta2: float, t: int) -> float:
    """torch's RAdam ``rho_t``, as its ``_single_tensor_radam`` computes it (Python floats, float64)."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (1 - beta2**t)


# --- 5: float32 step scalars -----------------------------------------------------------------------


@pytest.mark.parametrize("beta2", [0.999, 0.9985827635, 0.9999, 0.99999, 0.99, 0.5])
def test_radam_rho_in_float32_is_torchs_to_float32_precision(beta2):
    from jaxsched.optimizers._radam import rho

    steps = np.arange(1, 2001)
    ours = np.asarray(rho(jnp.float32(beta2), jnp.asarray(steps, jnp.float32))[1], np.float64)
    expected = np.array([torch_rho(beta2, int(t)) for t in steps])
    np.testing.assert_allclose(ours, expected, rtol=2e-5)
    assert np.array_equal(ours > 5, expected > 5)  # the rectification decision is torch's at every step


def test_radam_float32_does_not_rectify_where_torch_does_not():
    beta2 = 0.9985827635  # torch: rho_5 = 4.9943, no rectification; the float32 formula gave 5.0002
    assert torch_rho(beta2, 5) < 5
    tx = js.radam(0.1, betas=(0.9, beta2))
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for _ in range(5):
        updates, state = tx.update({"w": jnp.ones(2)}, state, params)
    # unrectified, the update is the bias-corrected momentum alone: -lr * m / (1 - beta1^t) = -lr
    np.testing.assert_allclose(updates["w"], -0.1, rtol=1e-6)


# --- 6: squaring order -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [js.adam, js.adamw, js.radam], ids=["adam", "adamw", "radam"])
@pytest.mark.parametrize("gradient", [1.9e19, 1e20, 5.8e20])
def test_huge_gradients_still_move_the_parameter(make, gradient):
    tx = make(1e-3)
    updates, _ = tx.update({"w": jnp.full(3, gradient, jnp.float32)}, tx.init(PARAMS), PARAMS)
    assert np.all(np.isfinite(updates["w"])) and np.all(updates["w"] < -1e-4)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta"])
def test_huge_gradients_match_torch_in_float32(name):
    # NAdam divides the second moment by its bias correction before the square root, as torch does:
    # both overflow (and freeze the parameter) from |g| ~ 1.9e19 on; the others move it.
    import torch

    tensor = torch.ones(3, requires_grad=True)
    optimizer = getattr(torch.optim, name)([tensor], lr=1e-3)
    tx = getattr(js, name.lower())(1e-3)
    params, state = PARAMS, tx.init(PARAMS)
    for step in range(3):
        tensor.grad = torch.full((3,), 1e20 * (step + 1))
        optimizer.step()
        updates, state = tx.update({"w": jnp.full(3, 1e20 * (step + 1), jnp.float32)}, state, params)
        params = js.apply_updates(params, updates)
    np.testing.assert_allclose(params["w"], tensor.detach().numpy(), rtol=1e-6)


# --- 7: float16 state ------------------------------------------------------------------------------


def test_low_precision_state_refuses_float16_with_the_reason():
    with pytest.raises(ValueError, match=r"underflow.*bfloat16"):
        js.low_precision_state(js.adam(), jnp.float16)
    js.low_precision_state(js.adam(), jnp.bfloat16)  # float32's range: accepted


@pytest.mark.parametrize("dtype", ["bf17", None, jnp.int8])
def test_low_precision_state_names_the_dtype(dtype):
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        js.low_precision_state(js.adam(), dtype)


# --- 8: silent partial sets ------------------------------------------------------------------------


def test_set_hyperparams_refuses_a_name_several_transformations_hold():
    state = js.chain(js.add_weight_decay(0.1), js.adamw(weight_decay=0.01)).init(PARAMS)
    with pytest.raises(ValueError, match=r"'weight_decay' is held by more than one.*state\[0\] and state\[1\]"):
        js.set_hyperparams(state, weight_decay=0.5)
    state = js.set_hyperparams(state, learning_rate=0.5)  # unambiguous names still work
    assert float(js.get_hyperparams(state)["learning_rate"]) == 0.5
    assert float(js.get_hyperparams(js.set_hyperparams(state[1], weight_decay=0.5))["weight_decay"]) == 0.5


def test_get_hyperparams_reads_unambiguous_names_and_explains_the_others():
    state = js.chain(js.clip_by_global_norm(1.0), js.add_weight_decay(1e-4), js.sgd(0.1, weight_decay=1e-3)).init(
        PARAMS
    )
    values = js.get_hyperparams(state)
    assert float(values["learning_rate"]) == pytest.approx(0.1) and float(values["max_norm"]) == 1.0
    with pytest.raises(KeyError, match=r"state\[1\] and state\[2\]"):
        values["weight_decay"]
    masked = js.chain(js.masked(js.add_weight_decay(5e-4), {"w": True}), js.sgd(0.1, momentum=0.9)).init(PARAMS)
    assert float(js.get_hyperparams(masked)["learning_rate"]) == pytest.approx(0.1)


def test_inject_hyperparams_refuses_a_jaxsched_optimizer():
    # the outer copy of the lr would be reported and set, but the inner optimizer's own would be used
    with pytest.raises(TypeError, match="already keeps its hyperparameters"):
        js.inject_hyperparams(js.sgd)(learning_rate=0.1).init(PARAMS)
    state = js.inject_hyperparams(optax.sgd)(learning_rate=0.1).init(PARAMS)
    assert float(js.get_hyperparams(state)["learning_rate"]) == pytest.approx(0.1)


def test_get_hyperparams_of_an_optax_state_says_how_to_fix_it():
    with pytest.raises(ValueError, match="inject_hyperparams"):
        js.get_hyperparams(optax.sgd(0.1).init(PARAMS))


# --- 12: update-time input torch refuses -----------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.int32, jnp.bool_])
def test_integer_and_bool_parameters_are_refused(dtype):
    with pytest.raises(TypeError, match=r"parameter \['w'\] has dtype"):
        js.sgd(0.1).init({"w": jnp.ones(3, dtype)})


def test_low_precision_gradients_do_not_round_a_float32_update():
    tx = js.adam(1e-3)
    grads = {"w": jnp.asarray([1.0, 3.0, 7.0], jnp.bfloat16)}
    low, _ = tx.update(grads, tx.init(PARAMS), PARAMS)
    high, _ = tx.update({"w": grads["w"].astype(jnp.float32)}, tx.init(PARAMS), PARAMS)
    assert low["w"].dtype == jnp.float32
    np.testing.assert_array_equal(low["w"], high["w"])


def test_apply_updates_refuses_to_reshape_a_parameter():
    with pytest.raises(ValueError, match=r"\['w'\] has shape \(3,\), the parameter \(\)"):
        js.apply_updates({"w": jnp.ones(())}, {"w": jnp.ones(3)})


def test_path_labels_inside_flatten_are_refused():
    labels = js.label_by_path({"head": "head"}, default="base")
    params = {"body": jnp.ones(3), "head": jnp.ones(2)}
    with pytest.raises(ValueError, match="put flatten inside partition"):
        js.flatten(js.partition({"head": js.sgd(0.1), "base": js.sgd(0.0)}, labels)).init(params)
    with pytest.raises(ValueError, match="put flatten inside partition"):  # labels given as a tree
        js.flatten(js.partition({"head": js.sgd(0.1), "base": js.sgd(0.0)}, {"body": "base", "head": "head"})).init(
            params
        )
    state = js.partition({"head": js.flatten(js.sgd(0.1)), "base": js.sgd(0.0)}, labels).init(params)
    assert set(js.get_hyperparams(state)) == {"head", "base"}


# --- 13: set_hyperparams under jit -----------------------------------------------------------------


def test_set_hyperparams_with_literals_inside_jit():
    state = js.adam(1e-3).init(PARAMS)
    state = jax.jit(lambda s: js.set_hyperparams(s, learning_rate=1e-4))(state)
    assert float(js.get_hyperparams(state)["learning_rate"]) == pytest.approx(1e-4)
    state = jax.jit(lambda s, b: js.set_hyperparams(s, betas=(b, 0.99)))(state, 0.8)
    assert [float(b) for b in js.get_hyperparams(state)["betas"]] == pytest.approx([0.8, 0.99])
    state = js.set_hyperparams(state, eps=np.float32(1e-6))
    assert float(js.get_hyperparams(state)["eps"]) == pytest.approx(1e-6)


# --- 14: Python-float leaves -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [js.adam, js.adamw, js.adamax, js.nadam, js.radam, js.sparse_adam, js.sgd, lambda: js.clip_by_global_norm(1.0)],
    ids=["adam", "adamw", "adamax", "nadam", "radam", "sparse_adam", "sgd", "clip_by_global_norm"],
)
def test_python_float_leaves(make):
    tx = make()
    updates, _ = tx.update({"w": 0.5}, tx.init({"w": 1.0}), {"w": 1.0})
    assert jnp.shape(updates["w"]) == () and np.isfinite(updates["w"])


# --- 15: values that never reached a clear error ---------------------------------------------------


@pytest.mark.parametrize(
    "make,error,texts",
    [
        (lambda: js.adam(10**400), ValueError, ("learning_rate", "finite")),
        (lambda: js.sgd(1e39), ValueError, ("learning_rate", "float32")),
        (lambda: js.clip(float("nan")), ValueError, ("max_delta",)),
        (lambda: js.clip("a"), TypeError, ("max_delta", "'a'")),
        (lambda: js.clip_by_global_norm(float("nan")), ValueError, ("max_norm",)),
        (lambda: js.add_weight_decay(float("nan")), ValueError, ("weight_decay",)),
        (lambda: js.scale_by_learning_rate(float("inf")), ValueError, ("learning_rate",)),
        (lambda: js.partition([js.sgd()], {"w": "a"}), TypeError, ("partition", "dict")),
        (lambda: js.partition({"a": None}, {"w": "a"}), TypeError, ("label 'a'", "GradientTransformation")),
        (lambda: js.masked(None, {"w": True}), TypeError, ("masked", "GradientTransformation")),
        (lambda: js.flatten(None), TypeError, ("flatten", "GradientTransformation")),
        (lambda: js.skip_non_finite(None), TypeError, ("skip_non_finite", "GradientTransformation")),
        (lambda: js.low_precision_state(None), TypeError, ("low_precision_state", "GradientTransformation")),
        (lambda: js.inject_hyperparams(None), TypeError, ("inject_hyperparams", "None")),
        (lambda: js.label_by_path("a"), TypeError, ("label_by_path", "rules")),
        (lambda: js.sgd(lambda: 0.1), TypeError, ("learning_rate", "one argument")),
        (lambda: js.schedules.warmup(lambda a, b: 0.1, 10), TypeError, ("schedule", "one argument")),
        (lambda: js.schedules.lambda_lr(0.1, lambda: 1.0), TypeError, ("lr_lambda", "one argument")),
        (lambda: js.partition({"a": js.sgd()}, None), TypeError, ("labels", "None")),
        (lambda: js.masked(js.sgd(), None), TypeError, ("mask", "None")),
        (lambda: js.partition({"a": js.sgd()}, {"v": "a"}).init(PARAMS), ValueError, ("labels", "structure")),
        (lambda: js.masked(js.sgd(), [True]).init(PARAMS), ValueError, ("mask", "structure")),
        (lambda: js.sgd(lambda t: jnp.ones(3)).init(PARAMS), ValueError, ("learning_rate", "scalar", "(3,)")),
    ],
)
def test_construction_errors_name_the_argument(make, error, texts):
    with pytest.raises(error) as info:
        make()
    for text in texts:
        assert text in str(info.value)


@pytest.mark.parametrize(
    "values,error,texts",
    [
        (dict(learning_rate=jnp.ones(3)), TypeError, ("learning_rate", "scalar")),
        (dict(learning_rate="0.1"), TypeError, ("learning_rate", "'0.1'")),
        (dict(learning_rate=None), TypeError, ("learning_rate", "None")),
        (dict(learning_rate=1j), TypeError, ("learning_rate", "1j")),
        (dict(learning_rate=-0.1), ValueError, ("learning_rate", "[0, inf)")),
        (dict(betas=(1.0, 0.999)), ValueError, ("betas[0]", "[0, 1)")),
        (dict(eps=-1), ValueError, ("eps", "[0, inf)")),
        (dict(learning_rate=float("nan")), ValueError, ("learning_rate", "finite")),
    ],
)
def test_set_hyperparams_checks_values_as_construction_does(values, error, texts):
    state = js.adam(1e-3).init(PARAMS)
    with pytest.raises(error) as info:
        js.set_hyperparams(state, **values)
    for text in texts:
        assert text in str(info.value)


# --- 9, 10: the schedules' step rule and step counts -----------------------------------------------

S = js.schedules


@pytest.mark.parametrize(
    "schedule,step,expected",
    [
        (S.step_decay(1.0, 10, 0.5), np.int64(2**40), 0.0),  # saturates at the int32 maximum, never wraps
        (S.cyclic(0.1, 1.0, 200), jnp.int8(5), S.cyclic(0.1, 1.0, 200)(5)),  # widened before the periods
        (S.cyclic(0.1, 1.0, 200), np.uint16(300), S.cyclic(0.1, 1.0, 200)(300)),
        (S.warmup(S.constant(1.0), 10), -5, 0.0),  # negative steps are step 0
        (S.inverse_sqrt_decay(1.0), -5, 1.0),
        (S.linear(1.0, 0.0, 10), jnp.asarray([-3, 0, 5]), [1.0, 1.0, 0.5]),
    ],
)
def test_one_step_rule_for_every_schedule(schedule, step, expected):
    np.testing.assert_allclose(schedule(step), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "make,name",
    [
        (lambda n: S.step_decay(0.1, n), "step_size"),
        (lambda n: S.exponential_decay(0.1, 0.5, n), "decay_steps"),
        (lambda n: S.polynomial_decay(0.1, n), "decay_steps"),
        (lambda n: S.linear(0.1, 0.0, n), "total_steps"),
        (lambda n: S.cosine_decay(0.1, n), "decay_steps"),
        (lambda n: S.cosine_annealing(0.1, n), "t_max"),
        (lambda n: S.cosine_annealing_warm_restarts(0.1, n), "t_0"),
        (lambda n: S.cyclic(0.1, 1.0, n), "step_size_up"),
        (lambda n: S.one_cycle(0.1, n), "total_steps"),
        (lambda n: S.multistep_decay(0.1, [5, n]), "milestones[1]"),
        (lambda n: S.piecewise_constant([5, n], [1.0, 0.5, 0.1]), "boundaries[1]"),
        (lambda n: S.join([S.constant(1.0), S.constant(0.5)], [n]), "boundaries[0]"),
        (lambda n: S.warmup(S.constant(1.0), n), "warmup_steps"),
        (lambda n: S.per_epoch(S.constant(1.0), n), "steps_per_epoch"),
    ],
)
def test_step_counts_beyond_the_int32_step_range_are_refused_and_the_largest_works(make, name):
    with pytest.raises(ValueError, match=rf"{re.escape(name)} must be an integer .*<= 2147483647"):
        make(2**31)
    values = make(2**31 - 1)(jnp.asarray([0, 2**30, 2**31 - 1]))
    assert np.all(np.isfinite(values))


def test_cosine_annealing_with_a_half_period_beyond_half_the_step_range():
    np.testing.assert_allclose(
        S.cosine_annealing(1.0, 2**30)(jnp.asarray([0, 2**29, 2**30])), [1.0, 0.5, 0.0], atol=1e-6
    )


def test_counts_that_meet_an_int32_counter_are_bounded():
    with pytest.raises(ValueError, match="max_consecutive_skips must be an integer >= 1 and <= 2147483647"):
        js.skip_non_finite(js.sgd(0.1), max_consecutive_skips=2**31)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1 and <= 2147483647"):
        js.lbfgs(max_iter=2**31)


# --- 12: skip_non_finite counts what it skipped ----------------------------------------------------


def test_a_step_given_up_on_is_not_counted_as_skipped():
    tx = js.skip_non_finite(js.sgd(0.1), max_consecutive_skips=2)
    state = tx.init(PARAMS)
    for _ in range(4):  # skipped, skipped, then applied (given up on) twice
        _, state = tx.update({"w": jnp.full(3, jnp.nan)}, state, PARAMS)
    assert int(state.total_skips) == 2


# --- 15, 16: the plateau's metric and the command line ---------------------------------------------


def test_plateau_refuses_a_missing_metric():
    plateau = js.reduce_on_plateau()
    with pytest.raises(TypeError, match="metric must be a real number"):
        plateau.update(plateau.init(0.1), None)
    with pytest.raises(ValueError, match="metric must be a real number within the float range"):
        plateau.update(plateau.init(0.1), 10**400)
    scheduled = js.schedule_with_plateau(js.schedules.constant(0.1), plateau)
    with pytest.raises(ValueError, match="metric must be a real number within the float range"):
        scheduled.update(scheduled.init(0.1), 10**400, 0)


def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    from jaxsched.__main__ import main

    assert main(["plot", "step_decay(0.1, 5)", "--steps", "10", "-o", str(tmp_path / "missing" / "x.png")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["table", "step_decay(0.1, 1000000000000)", "--steps", "3"]) == 2
    assert "step_size must be an integer" in capsys.readouterr().err


def test_cli_reports_the_file_it_writes(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from jaxsched.__main__ import main

    assert main(["plot", "step_decay(0.1, 5)", "--steps", "10", "-o", str(tmp_path / "lr")]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'lr.png'}"
    assert (tmp_path / "lr.png").exists()


# --- 11: one_cycle's linear anneal ends where torch's does -----------------------------------------


def test_linear_one_cycle_ends_at_its_final_value_in_float32():
    final = 0.1 / 25.0 / 1e4  # torch: initial_lr / final_div_factor
    values = S.one_cycle(0.1, 1000, anneal_strategy="linear")(jnp.asarray([999, 5000]))
    np.testing.assert_allclose(values, final, rtol=1e-6)  # the plain formula gave 4.0233e-7
