"""jaxsched.testing assertions: each passes on a correct case and fails on a deliberately wrong one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from jaxsched.testing import (
    assert_continuous_at,
    assert_no_recompile,
    assert_schedule_bounded,
    assert_schedule_monotone,
    assert_schedule_periodic,
    assert_trees_close,
)


def cosine(step):
    return 0.05 * (1 + jnp.cos(jnp.pi * jnp.asarray(step) / 100))


def sawtooth(step):
    return (jnp.asarray(step) % 10) / 10.0


def warmup_with_jump(step):
    """A broken warmup: reaches 0.5 at the boundary, then jumps to 1.0."""
    step = jnp.asarray(step)
    return jnp.where(step < 10, 0.05 * step, 1.0)


def test_bounded():
    assert_schedule_bounded(cosine, 0.0, 0.1, 100)
    with pytest.raises(AssertionError, match=r"schedule\(0\) = 0.1\d* is outside"):
        assert_schedule_bounded(cosine, 0.0, 0.09, 100)


def test_monotone():
    assert_schedule_monotone(cosine, 101)
    assert_schedule_monotone(lambda s: -cosine(s), 101, increasing=True)
    with pytest.raises(AssertionError, match="increases from step 100"):
        assert_schedule_monotone(cosine, 150)


def test_periodic():
    assert_schedule_periodic(sawtooth, 10, np.arange(0, 50))
    with pytest.raises(AssertionError, match=r"period 7"):
        assert_schedule_periodic(sawtooth, 7, 20)


def test_continuous_at():
    assert_continuous_at(lambda s: jnp.where(jnp.asarray(s) < 10, 0.1 * jnp.asarray(s), 1.0), [10])
    with pytest.raises(AssertionError, match="jumps at boundary 10"):
        assert_continuous_at(warmup_with_jump, [10])


def test_no_recompile():
    tx = js.sgd(0.1)
    params = jnp.ones(3)

    def step(state):
        return tx.update(params, state, params)

    states = [js.set_hyperparams(tx.init(params), learning_rate=lr) for lr in (0.1, 0.2, 0.3)]
    assert_no_recompile(step, *[(s,) for s in states])
    with pytest.raises(AssertionError, match="traced 2 times"):
        assert_no_recompile(lambda x: x * 2, (jnp.ones(2),), (jnp.ones(3),))


def test_trees_close_names_first_differing_path():
    a = {"layer": [jnp.ones(2), jnp.zeros(3)]}
    assert_trees_close(a, jax.tree.map(lambda x: x * (1 + 1e-9), a))
    with pytest.raises(AssertionError, match=r"\['layer'\]\[1\]\[2\]: 0.0 vs 0.5"):
        assert_trees_close(a, {"layer": [jnp.ones(2), jnp.array([0.0, 0.0, 0.5])]})
    with pytest.raises(AssertionError, match=r"shape differs at \['layer'\]\[0\]"):
        assert_trees_close(a, {"layer": [jnp.ones(3), jnp.zeros(3)]})
    with pytest.raises(AssertionError, match="dtype differs"):
        assert_trees_close(a, {"layer": [jnp.ones(2, jnp.bfloat16), jnp.zeros(3)]})
    with pytest.raises(AssertionError, match="structure differs"):
        assert_trees_close(a, {"other": [jnp.ones(2), jnp.zeros(3)]})
