"""Behaviour checks shared by the optimizer test modules (besides torch parity in optim_parity.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js
from tests.optim_parity import PARAMS0, flatten, grads_at


def run_updates(
    tx, steps: int, set_before: int | None = None, params: dict = PARAMS0, **values
) -> tuple[list[np.ndarray], object]:
    """Flattened updates of ``steps`` jitted float64 steps on the parity problem, and the final state.

    ``params`` are all or some of ``PARAMS0``; ``values`` are passed to ``set_hyperparams`` just
    before update number ``set_before`` (0-based).
    """
    with jax.enable_x64(True):
        params = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
        state = tx.init(params)
        step_fn = jax.jit(tx.update)
        updates_per_step = []
        for step in range(steps):
            if step == set_before:
                state = js.set_hyperparams(state, **values)
            updates, state = step_fn(grads_at(params, step), state, params)
            params = js.apply_updates(params, updates)
            updates_per_step.append(flatten(updates))
    return updates_per_step, state


def first_changed_update(tx, set_before: int, steps: int = 4, **values) -> int | None:
    """Index of the first update that setting ``values`` before update ``set_before`` changes."""
    base, _ = run_updates(tx, steps)
    changed, _ = run_updates(tx, steps, set_before, **values)
    for step, (b, c) in enumerate(zip(base, changed)):
        if not np.array_equal(b, c):
            return step
    return None


def assert_mixed_pytree_keeps_dtypes(tx) -> None:
    """Jitted steps on float32/bfloat16/nested/None leaves: updates in the grads' dtypes, state dtypes fixed."""
    params = {
        "f32": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32).reshape(2, 3),
        "bf16": jnp.array([0.5, -0.25, 2.0], jnp.bfloat16),
        "nested": [jnp.array(0.3, jnp.float32), None],
    }
    state = tx.init(params)
    dtypes = jax.tree.map(lambda x: jnp.asarray(x).dtype, state)
    step_fn = jax.jit(tx.update)
    for step in range(3):
        grads = jax.tree.map(lambda p: (p * (step + 1) - 0.1).astype(p.dtype), params)
        updates, state = step_fn(grads, state, params)
        assert jax.tree.structure(updates) == jax.tree.structure(params)
        for g, u in zip(jax.tree.leaves(grads), jax.tree.leaves(updates)):
            assert u.dtype == g.dtype and u.shape == g.shape
            assert bool(jnp.all(jnp.isfinite(u)))
        params = js.apply_updates(params, updates)
        assert jax.tree.map(lambda x: jnp.asarray(x).dtype, state) == dtypes


def optimizer_state(state):
    """The optimizer's own state (``AdamState``, ``TraceState``, ...) in a constructor's state: ``state.inner_state``."""
    return state.inner_state


def replace_optimizer_state(state, **fields):
    """``state`` with ``fields`` of :func:`optimizer_state` replaced."""
    return state._replace(inner_state=state.inner_state._replace(**fields))
