"""Property tests of schedule and optimizer math, built from jaxsched.testing (strategies + assertions)."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxsched as js
from jaxsched.testing import (
    assert_continuous_at,
    assert_schedule_bounded,
    assert_schedule_monotone,
    assert_schedule_periodic,
    assert_trees_close,
)
from jaxsched.testing import strategies as jst

STEPS = 600
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each optimizer example compiles new shapes, so fewer examples keep the suite fast.
OPTIMIZER_PROPERTY = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(jst.schedules())
def test_schedules_stay_within_their_bounds(case):
    assert_schedule_bounded(case.schedule, case.lower, case.upper, STEPS, atol=1e-6 * max(1.0, case.upper))


@PROPERTY
@given(jst.monotone_schedules())
def test_monotone_schedules(case):
    assert_schedule_monotone(case.schedule, STEPS, increasing=case.monotone == "increasing", atol=1e-6 * case.upper)


@PROPERTY
@given(jst.periodic_schedules())
def test_periodic_schedules(case):
    assert case.period is not None
    assert_schedule_periodic(case.schedule, case.period, np.arange(0, 3 * case.period + 7), atol=1e-6 * case.upper)


@PROPERTY
@given(jst.combined_schedules(kinds=["warmup"]))
def test_warmup_is_continuous_at_its_end(case):
    assert_continuous_at(case.schedule, case.continuous_at, atol=1e-6 * case.upper)


@OPTIMIZER_PROPERTY
@given(jst.schedules(), st.lists(st.integers(0, 2000), min_size=1, max_size=8))
def test_vectorised_jitted_and_scalar_evaluation_agree(case, steps):
    vectorised = np.asarray(case.schedule(jnp.asarray(steps)))
    jitted = np.asarray(jax.jit(case.schedule)(jnp.asarray(steps, jnp.int32)))
    scalar = np.array([float(case.schedule(s)) for s in steps])
    # float32 kernels may differ by an ulp between vector and scalar evaluation
    np.testing.assert_allclose(vectorised, scalar, rtol=1e-6, atol=1e-6 * case.upper)
    np.testing.assert_allclose(jitted, scalar, rtol=1e-6, atol=1e-6 * case.upper)


@PROPERTY
@given(jst.schedules())
def test_descriptions_rebuild_the_same_schedule(case):
    rebuilt = js.parse_schedule(case.description)
    steps = jnp.arange(0, STEPS, 7)
    np.testing.assert_allclose(rebuilt(steps), case.schedule(steps), rtol=1e-6, atol=1e-12)


# --- optimizers ----------------------------------------------------------------------------------


def fake_grads(params, i):
    return jax.tree.map(
        lambda p: (jnp.sin(p.astype(jnp.float32) * 3 + i) + 0.1 * p.astype(jnp.float32)).astype(p.dtype), params
    )


def run(tx, params, steps=3, update=None):
    update = update or tx.update
    state = tx.init(params)
    for i in range(steps):
        updates, state = update(fake_grads(params, i), state, params)
        params = js.apply_updates(params, updates)
    return params, state


@OPTIMIZER_PROPERTY
@given(jst.optimizers(), jst.pytrees())
def test_update_is_deterministic_and_jit_matches_eager(case, params):
    tx = case.make()
    eager = run(tx, params)
    again = run(tx, params)
    assert all(
        np.array_equal(np.asarray(a, np.float32), np.asarray(b, np.float32))
        for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(again))
    )
    jitted = run(tx, params, update=jax.jit(tx.update))
    assert_trees_close(
        jitted, eager, rtol=2e-2 if any(p.dtype != jnp.float32 for p in jax.tree.leaves(params)) else 1e-5, atol=1e-6
    )


@OPTIMIZER_PROPERTY
@given(jst.optimizers(), jst.pytrees())
def test_state_structure_is_invariant(case, params):
    tx = case.make()
    initial = tx.init(params)
    _, state = run(tx, params)
    assert jax.tree.structure(state) == jax.tree.structure(initial)
    assert [(x.shape, x.dtype) for x in jax.tree.leaves(state)] == [
        (x.shape, x.dtype) for x in jax.tree.leaves(initial)
    ]


@OPTIMIZER_PROPERTY
@given(jst.optimizers(), jst.pytrees(dtypes=(jnp.float32,), max_leaves=3))
def test_vmap_over_learning_rates_equals_loop(case, params):
    tx = case.make()

    def train(lr):
        state = js.set_hyperparams(tx.init(params), learning_rate=lr)
        p = params
        for i in range(2):
            updates, state = tx.update(fake_grads(p, i), state, p)
            p = js.apply_updates(p, updates)
        return p

    lrs = jnp.array([1e-4, 3e-3, 1e-2])
    swept = jax.vmap(train)(lrs)
    for i, lr in enumerate(lrs):
        assert_trees_close(jax.tree.map(lambda x: x[i], swept), train(lr), rtol=1e-5, atol=1e-7)


@OPTIMIZER_PROPERTY
@given(jst.optimizers(), jst.pytrees(dtypes=(jnp.float32,), max_leaves=4))
def test_small_steps_decrease_a_convex_quadratic(case, params):
    tx = case.make()

    def loss(p):
        return sum(jnp.sum(x**2) for x in jax.tree.leaves(p)) / 2

    state, p = tx.init(params), params
    for _ in range(20):
        updates, state = tx.update(jax.grad(loss)(p), state, p)
        p = js.apply_updates(p, updates)
    assert float(loss(p)) < float(loss(params))


# --- plateau -------------------------------------------------------------------------------------


@PROPERTY
@given(jst.metric_sequences(), st.sampled_from(["min", "max"]), st.sampled_from(["rel", "abs"]), st.integers(0, 3))
def test_plateau_lr_never_increases_and_respects_min_lr(metrics, mode, threshold_mode, patience):
    plateau = js.reduce_on_plateau(mode=mode, threshold_mode=threshold_mode, patience=patience, factor=0.5, min_lr=1e-3)
    state = plateau.init(0.1)
    update = jax.jit(plateau.update)
    previous = float(state.lr)
    for metric in metrics:
        state = update(state, metric)
        lr = float(state.lr)
        assert 1e-3 - 1e-9 <= lr <= previous + 1e-9
        previous = lr
