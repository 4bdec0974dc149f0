"""torch.optim.LBFGS parity (fixed step and strong Wolfe), jit behaviour and the example.

Each case runs several ``update`` calls (torch: ``optimizer.step(closure)`` calls) on Rosenbrock and
checks parameters, returned loss and torch's ``n_iter``/``func_evals`` counters after every call,
against live torch and against ``tests/golden/lbfgs.npz`` (``python tests/golden/generate_lbfgs.py``).
The loss and its explicit gradient are one formula evaluated op by op by both libraries (autodiff
would order the gradient's operations differently), so they agree to rounding for equal parameters
and the comparison is about the optimizers' arithmetic.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_parity import follow_schedules, torch_kwargs

GOLDEN = pathlib.Path(__file__).parent / "golden" / "lbfgs.npz"
HAS_TORCH = importlib.util.find_spec("torch") is not None
ROOT = pathlib.Path(__file__).resolve().parent.parent
ATOL = 1e-8
RTOL = 1e-8


# --- the problem, written once for both libraries --------------------------------------------------


def _sequential_sum(v):
    """Left-to-right sum, so both libraries add the terms in the same order."""
    total = v[0]
    for i in range(1, v.shape[0]):
        total = total + v[i]
    return total


def rosenbrock_value(x):
    return _sequential_sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x, concatenate, zeros):
    a = x[1:] - x[:-1] ** 2
    z = zeros(1)
    return concatenate([-400 * x[:-1] * a - 2 * (1 - x[:-1]), z]) + concatenate([z, 200 * a])


@jax.custom_vjp
def jax_rosenbrock(x):
    return rosenbrock_value(x)


def _jax_rosenbrock_bwd(x, cotangent):
    return (cotangent * rosenbrock_grad(x, jnp.concatenate, lambda n: jnp.zeros(n, x.dtype)),)


jax_rosenbrock.defvjp(lambda x: (rosenbrock_value(x), x), _jax_rosenbrock_bwd)


def torch_rosenbrock(x):
    import torch

    class Rosenbrock(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return rosenbrock_value(x)

        @staticmethod
        def backward(ctx, cotangent):
            (x,) = ctx.saved_tensors
            return cotangent * rosenbrock_grad(x, torch.cat, lambda n: torch.zeros(n, dtype=x.dtype))

    return Rosenbrock.apply(x)


def flat_params(params: dict[str, Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(params[k], np.float64)) for k in sorted(params)])


@dataclasses.dataclass
class Case:
    """``js.lbfgs(**kwargs)`` against ``torch.optim.LBFGS`` with the same arguments, for ``calls`` steps.

    ``params0`` is a dict of leaves (the loss sees them concatenated in key order). torch's
    arguments are derived as for every parity case (``tests/optim_parity.py``): a schedule's value
    is assigned to torch's param group before each call.
    """

    kwargs: dict
    params0: dict[str, np.ndarray]
    calls: int = 5
    pass_value: bool = False  # give update() the loss too (else it evaluates value_fn)


_X2 = {"x": np.array([-1.5, 2.0])}
_TREE6 = {"a": np.array([-1.2, 1.0]), "b": np.array([[0.5, -0.3], [0.8, 1.5]])}


def _decaying_lr(step):
    return 0.5 * 0.8**step


CASES = {
    "rosen2d_fixed_step": Case(dict(learning_rate=0.25), _X2),
    "rosen2d_strong_wolfe": Case(dict(line_search_fn="strong_wolfe"), _X2),
    "rosen6d_tree_fixed_step_history3": Case(dict(learning_rate=0.1, max_iter=10, history_size=3), _TREE6, 6),
    "rosen6d_tree_strong_wolfe_history3": Case(
        dict(max_iter=10, history_size=3, line_search_fn="strong_wolfe"),
        _TREE6,
        calls=3,  # rounding differences grow ~10x per call on this trajectory: 4e-11 after 3 calls
        pass_value=True,
    ),
    "rosen6d_strong_wolfe_short_steps_extrapolate": Case(
        dict(learning_rate=0.01, line_search_fn="strong_wolfe"), _TREE6, 3
    ),
    "rosen6d_strong_wolfe_long_steps_zoom": Case(dict(learning_rate=30.0, line_search_fn="strong_wolfe"), _TREE6, 3),
    "rosen6d_max_eval_strong_wolfe": Case(dict(max_eval=7, line_search_fn="strong_wolfe"), _TREE6, 4),
    "rosen6d_max_eval_fixed_step": Case(dict(learning_rate=0.1, max_iter=10, max_eval=4), _TREE6, 4),
    "rosen6d_one_iteration_strong_wolfe": Case(dict(max_iter=1, line_search_fn="strong_wolfe"), _TREE6, 6),
    "rosen2d_lr_schedule": Case(dict(learning_rate=_decaying_lr, max_iter=5), _X2, 6),
    "rosen2d_converges_then_returns_early": Case(
        dict(tolerance_grad=1e-3, line_search_fn="strong_wolfe"), _X2, 5, pass_value=True
    ),
    "rosen6d_tolerance_change_stall": Case(dict(learning_rate=0.05, tolerance_change=1e-2), _TREE6, 4),
}


# --- the two runners: one row per update call -----------------------------------------------------


def run_torch(case: Case) -> dict[str, np.ndarray]:
    """Per-call params, returned loss, ``n_iter`` and ``func_evals`` of ``torch.optim.LBFGS``, in float64."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # LBFGS's scalars (t, H_diag) follow the default dtype
    try:
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in sorted(case.params0.items())}
        optimizer = torch.optim.LBFGS(list(tensors.values()), **torch_kwargs(case.kwargs))
        schedules = follow_schedules(optimizer, case.kwargs)

        def closure():
            optimizer.zero_grad()
            loss = torch_rosenbrock(torch.cat([t.reshape(-1) for t in tensors.values()]))
            loss.backward()
            return loss

        rows = dict(params=[], loss=[], n_iter=[], func_evals=[])
        for _ in range(case.calls):
            loss = optimizer.step(closure)
            if schedules is not None:
                schedules.step()
            state = optimizer.state[next(iter(tensors.values()))]
            rows["params"].append(flat_params({k: t.detach().numpy() for k, t in tensors.items()}))
            rows["loss"].append(loss.item())
            rows["n_iter"].append(state["n_iter"])
            rows["func_evals"].append(state["func_evals"])
    finally:
        torch.set_default_dtype(previous)
    return {k: np.asarray(v) for k, v in rows.items()}


def _jax_loss(params):
    return jax_rosenbrock(jnp.concatenate([params[k].reshape(-1) for k in sorted(params)]))


def run_jax(case: Case) -> dict[str, np.ndarray]:
    """The same rows from ``js.lbfgs`` under one jitted update, in float64."""
    with jax.enable_x64(True):
        tx = js.lbfgs(**case.kwargs)
        params = {k: jnp.asarray(v, jnp.float64) for k, v in case.params0.items()}
        state = tx.init(params)

        @jax.jit
        def step(params, state):
            loss, grads = jax.value_and_grad(_jax_loss)(params)
            value = dict(value=loss) if case.pass_value else {}
            updates, state = tx.update(grads, state, params, value_fn=_jax_loss, **value)
            return js.apply_updates(params, updates), state

        rows = dict(params=[], loss=[], n_iter=[], func_evals=[])
        for _ in range(case.calls):
            params, state = step(params, state)
            memory = state.inner_state
            rows["params"].append(flat_params(params))
            rows["loss"].append(float(memory.loss))
            rows["n_iter"].append(int(memory.n_iter))
            rows["func_evals"].append(int(memory.func_evals))
    return {k: np.asarray(v) for k, v in rows.items()}


def assert_rows_close(actual: dict, expected: dict, what: str) -> None:
    for call in range(len(expected["params"])):
        where = f"{what}: call {call}"
        np.testing.assert_allclose(actual["params"][call], expected["params"][call], rtol=0, atol=ATOL, err_msg=where)
        np.testing.assert_allclose(actual["loss"][call], expected["loss"][call], rtol=RTOL, atol=ATOL, err_msg=where)
        assert actual["n_iter"][call] == expected["n_iter"][call], f"{where}: n_iter"
        assert actual["func_evals"][call] == expected["func_evals"][call], f"{where}: func_evals"


def golden(key: str, fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        if f"{key}/{fields[0]}" not in data:
            raise KeyError(f"no golden values for {key!r}: run `python tests/golden/generate_lbfgs.py`")
        return {k: data[f"{key}/{k}"] for k in fields}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden_torch_values(name):
    assert_rows_close(run_jax(CASES[name]), golden(name, ("params", "loss", "n_iter", "func_evals")), name)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_live_torch(name):
    assert_rows_close(run_jax(CASES[name]), run_torch(CASES[name]), name)


# --- the strong-Wolfe line search alone, on 1-D problems that reach its rarer branches -------------


def line_objective(kind: str, w: float, v: float, u: float, xp) -> Callable:
    """``x -> (value, grad)`` of a 1-element vector ``x``; ``xp`` is ``jax.numpy`` or ``torch``."""
    if kind == "kink":  # a smoothed |x|: nearly linear away from 0, sharply curved at it
        return lambda x: ((w * xp.sqrt(x * x + v) + u * x)[0], w * x / xp.sqrt(x * x + v) + u)
    return lambda x: ((w * x**4 - v * x**2 + u * x)[0], 4 * w * x**3 - 2 * v * x + u)


@dataclasses.dataclass
class LineSearchCase:
    kind: str
    coefficients: tuple[float, float, float]
    x0: float
    direction: float
    t0: float
    max_ls: int = 25


LINE_SEARCH_CASES = {  # each comment names the torch branch the case reaches
    "interpolate_from_right_and_shift_bracket": LineSearchCase(
        "poly",
        (1.337652336482753, 0.4003844128048033, 0.4107928560248979),
        0.00793896944904128,
        -0.4893434893039465,
        119.7245941147558,
    ),
    "cubic_without_minimum_bisects": LineSearchCase(
        "kink",
        (0.3763659026972276, 0.000961417024889696, 0.5598559810944801),
        -0.6868836306058543,
        -0.02875546634078583,
        40.615985115716434,
        max_ls=3,
    ),
    "extrapolate": LineSearchCase(
        "kink",
        (1.9046971663479686, 0.0003136185566783563, 0.033655416097440494),
        0.3097482558165964,
        -0.42516314921550213,
        0.09329039208083965,
    ),
    "trial_moved_off_bracket_end": LineSearchCase(
        "kink",
        (1.5549614801963112, 0.08374577084808013, -0.4033108597958335),
        1.2494504993103106,
        -8.138032399728388,
        289.4057993577198,
    ),
    "insufficient_progress": LineSearchCase(
        "kink",
        (2.01828450395595, 0.0003284662674848098, -1.1847934526133015),
        1.2960784507464718,
        -0.9314635148369211,
        0.10187070784064105,
    ),
    "armijo_fails_in_zoom": LineSearchCase(
        "poly",
        (0.6950692130889445, 0.17013893195232954, -0.0865347981574526),
        -2.64247750175327,
        212.58114970593238,
        0.43638965636310917,
    ),
    "one_zoom_step": LineSearchCase(
        "kink",
        (0.6769528740970573, 0.01467034441620616, -0.2894543931198044),
        2.140422825954518,
        -2.394050204145072,
        3.2663740698167953,
        max_ls=1,
    ),
    "no_evaluation_budget": LineSearchCase(
        "poly",
        (0.6950692130889445, 0.17013893195232954, -0.0865347981574526),
        -2.64247750175327,
        212.58114970593238,
        0.43638965636310917,
        max_ls=0,
    ),
}


def run_torch_line_search(case: LineSearchCase) -> dict[str, np.ndarray]:
    """``torch.optim.lbfgs._strong_wolfe`` from ``x0`` along ``direction``: accepted t, its loss, evaluations."""
    import torch
    from torch.optim.lbfgs import _strong_wolfe

    objective = line_objective(case.kind, *case.coefficients, torch)

    def directional_evaluate(x, t, d):  # as LBFGS._directional_evaluate: x + t d, then the closure
        value, grad = objective(x.clone().add_(d, alpha=t))
        return float(value), grad

    x = torch.tensor([case.x0], dtype=torch.float64)
    d = torch.tensor([case.direction], dtype=torch.float64)
    f, g = directional_evaluate(x, 0.0, d)
    f_new, _, t, evals = _strong_wolfe(directional_evaluate, x, case.t0, d, f, g, g.dot(d), max_ls=case.max_ls)
    return {"t": np.asarray(float(t)), "loss": np.asarray(f_new), "evals": np.asarray(evals)}


def run_jax_line_search(case: LineSearchCase) -> dict[str, np.ndarray]:
    from jaxsched.optimizers._lbfgs import _strong_wolfe

    with jax.enable_x64(True):
        objective = line_objective(case.kind, *case.coefficients, jnp)
        x, d = jnp.array([case.x0]), jnp.array([case.direction])
        f, g = objective(x)
        search = jax.jit(lambda t0: _strong_wolfe(objective, x, t0, d, f, g, jnp.dot(g, d), case.max_ls))
        f_new, _, t, evals = search(jnp.asarray(case.t0))
        return {"t": np.asarray(t), "loss": np.asarray(f_new), "evals": np.asarray(evals)}


def assert_line_search_close(actual: dict, expected: dict, what: str) -> None:
    np.testing.assert_allclose(actual["t"], expected["t"], rtol=1e-10, err_msg=f"{what}: step length")
    np.testing.assert_allclose(actual["loss"], expected["loss"], rtol=1e-10, err_msg=f"{what}: loss")
    assert int(actual["evals"]) == int(expected["evals"]), f"{what}: evaluations"


@pytest.mark.parametrize("name", sorted(LINE_SEARCH_CASES))
def test_line_search_matches_golden_torch_values(name):
    expected = golden(f"line_search/{name}", ("t", "loss", "evals"))
    assert_line_search_close(run_jax_line_search(LINE_SEARCH_CASES[name]), expected, name)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
@pytest.mark.parametrize("name", sorted(LINE_SEARCH_CASES))
def test_line_search_matches_live_torch(name):
    case = LINE_SEARCH_CASES[name]
    assert_line_search_close(run_jax_line_search(case), run_torch_line_search(case), name)


# --- jit, hyperparameters in the state, float32, validation, the example ---------------------------


def _tree_loss(params):
    return jax_rosenbrock(jnp.concatenate([params["a"], params["b"].reshape(-1)]))


def test_jitted_update_traces_once_across_calls_and_hyperparameter_changes(x64):
    tx = js.lbfgs(0.5, max_iter=5, history_size=3, line_search_fn="strong_wolfe")
    params = {k: jnp.asarray(v) for k, v in _TREE6.items()}
    state = tx.init(params)
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(1)
        updates, state = tx.update(jax.grad(_tree_loss)(params), state, params, value_fn=_tree_loss)
        return js.apply_updates(params, updates), state

    losses = []
    for call in range(6):
        if call == 3:
            state = js.set_hyperparams(state, learning_rate=0.25, tolerance_change=1e-12)
        params, state = step(params, state)
        losses.append(float(_tree_loss(params)))
    assert len(traces) == 1
    assert losses[-1] < losses[0] < float(_tree_loss({k: jnp.asarray(v) for k, v in _TREE6.items()}))
    hyperparams = js.get_hyperparams(state)
    assert float(hyperparams["learning_rate"]) == 0.25
    assert float(hyperparams["tolerance_change"]) == 1e-12
    assert float(hyperparams["tolerance_grad"]) == 1e-7


def test_state_holds_history_in_fixed_buffers_and_counts(x64):
    tx = js.lbfgs(max_iter=10, history_size=3, line_search_fn="strong_wolfe")
    params = {k: jnp.asarray(v) for k, v in _TREE6.items()}
    state = tx.init(params)
    memory = state.inner_state
    assert memory.old_dirs.shape == memory.old_stps.shape == (3, 6)
    updates, state = jax.jit(lambda p, s: tx.update(jax.grad(_tree_loss)(p), s, p, value_fn=_tree_loss))(params, state)
    memory = state.inner_state
    assert int(memory.history_count) == 3  # 9 iterations, at most 3 pairs kept
    assert float(memory.loss) == float(_tree_loss(params))  # torch's step returns the initial loss
    assert jax.tree.structure(updates) == jax.tree.structure(params)


def test_float32_params_run_in_float32():
    tx = js.lbfgs(line_search_fn="strong_wolfe")
    params = {k: jnp.asarray(v, jnp.float32) for k, v in _TREE6.items()}
    state = tx.init(params)
    loss0 = float(_tree_loss(params))
    updates, state = jax.jit(lambda p, s: tx.update(jax.grad(_tree_loss)(p), s, p, value_fn=_tree_loss))(params, state)
    params = js.apply_updates(params, updates)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(params))
    assert state.inner_state.old_dirs.dtype == jnp.float32
    assert float(_tree_loss(params)) < loss0


def test_update_needs_value_fn_and_params():
    tx = js.lbfgs()
    params = jnp.ones(2)
    state = tx.init(params)
    with pytest.raises(ValueError, match="value_fn"):
        tx.update(params, state, params)
    with pytest.raises(ValueError, match="params"):
        tx.update(params, state, value_fn=jnp.sum)


def test_zero_learning_rate_is_accepted_as_in_torch():
    js.lbfgs(0.0)  # torch.optim.LBFGS checks only lr >= 0


def test_example_fits_the_logistic_regression(capsys):
    spec = importlib.util.spec_from_file_location("lbfgs_fit", ROOT / "examples" / "lbfgs_fit.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    final_loss = example.main(steps=2, points=200)
    assert final_loss < 0.6  # from log(2) = 0.693 at the zero start
    assert "update 1: loss" in capsys.readouterr().out
