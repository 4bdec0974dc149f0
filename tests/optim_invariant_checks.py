"""Invariants checked on one optimizer at a time: one compile across hyperparameter changes, vmap sweeps.

``tests/test_optimizer_invariants.py`` checks them on the ``torch.optim`` optimizers together; these
are for optimizers tested in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js


def _grads_at(params, step: int):
    return jax.tree.map(lambda p: jnp.cos(p + step) + 0.1, params)


def assert_one_compile_across_hyperparameter_changes(tx, **changes: Callable[[int], Any]) -> None:
    """Jitted steps with ``set_hyperparams(name=value_at(i))`` before step ``i`` trace once."""
    params = {"kernel": jnp.linspace(-1.0, 1.0, 6).reshape(2, 3), "bias": jnp.zeros(3)}
    state = tx.init(params)
    traces = []

    @jax.jit
    def step(params, state, grads):
        traces.append(None)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    for i in range(4):
        state = js.set_hyperparams(state, **{name: value_at(i) for name, value_at in changes.items()})
        params, state = step(params, state, _grads_at(params, i))
    assert len(traces) == 1
    for name, value_at in changes.items():
        np.testing.assert_allclose(js.get_hyperparams(state)[name], value_at(3), rtol=1e-6)


def assert_vmap_over_learning_rates_equals_loop(tx, learning_rates) -> None:
    """``jax.vmap`` over ``set_hyperparams(learning_rate=...)`` gives each learning rate's own run."""
    params = {"w": jnp.linspace(-1.0, 1.0, 5), "b": jnp.asarray(0.3)}

    def train(learning_rate):
        p = params
        state = js.set_hyperparams(tx.init(p), learning_rate=learning_rate)
        for i in range(3):
            updates, state = tx.update(_grads_at(p, i), state, p)
            p = js.apply_updates(p, updates)
        return p

    swept = jax.jit(jax.vmap(train))(jnp.asarray(learning_rates))
    for leaves, learning_rate in zip(zip(*map(list, jax.tree.leaves(swept))), learning_rates):
        for a, b in zip(leaves, jax.tree.leaves(train(learning_rate))):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
