"""jaxsched in the JAX ecosystem: Flax (TrainState, NNX), Equinox, Orbax. Each skips if its package is absent."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js


def regression_data():
    x = jnp.linspace(-1.0, 1.0, 24).reshape(8, 3)
    return x, jnp.sum(x * jnp.array([1.0, -2.0, 0.5]), axis=1, keepdims=True)


def test_flax_train_state():
    train_state = pytest.importorskip("flax.training.train_state")
    x, y = regression_data()
    params = {"w": jnp.zeros((3, 1)), "b": jnp.zeros(1)}

    def loss(p):
        return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

    state = train_state.TrainState.create(apply_fn=None, params=params, tx=js.adam(0.05))
    first = float(loss(state.params))
    step = jax.jit(lambda s: s.apply_gradients(grads=jax.grad(loss)(s.params)))
    for _ in range(50):
        state = step(state)
    assert float(loss(state.params)) < 0.1 * first
    # the same as driving the optimizer by hand
    tx, p, opt = js.adam(0.05), params, js.adam(0.05).init(params)
    for _ in range(50):
        updates, opt = tx.update(jax.grad(loss)(p), opt, p)
        p = js.apply_updates(p, updates)
    np.testing.assert_allclose(state.params["w"], p["w"], rtol=1e-6)
    state = state.replace(opt_state=js.set_hyperparams(state.opt_state, learning_rate=0.0))
    assert float(js.get_hyperparams(state.opt_state)["learning_rate"]) == 0.0
    np.testing.assert_array_equal(step(state).params["w"], state.params["w"])


def test_flax_nnx_optimizer():
    nnx = pytest.importorskip("flax.nnx")
    x, y = regression_data()
    model = nnx.Linear(3, 1, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, js.adamw(0.05, weight_decay=1e-4), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer):
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        optimizer.update(model, grads)
        return loss

    losses = [float(train_step(model, optimizer)) for _ in range(60)]
    assert losses[-1] < 0.1 * losses[0]
    assert float(js.get_hyperparams(optimizer.opt_state)["learning_rate"]) == pytest.approx(0.05)


def test_equinox_filtered_model():
    eqx = pytest.importorskip("equinox")
    x, y = regression_data()
    model = eqx.nn.MLP(3, 1, width_size=8, depth=1, key=jax.random.PRNGKey(0))
    tx = js.chain(js.clip_by_global_norm(1.0), js.sgd(0.05, momentum=0.9))
    state = tx.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def train_step(model, state):
        loss, grads = eqx.filter_value_and_grad(lambda m: jnp.mean((jax.vmap(m)(x) - y) ** 2))(model)
        updates, state = tx.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), state, loss

    losses = []
    for _ in range(80):
        model, state, loss = train_step(model, state)
        losses.append(float(loss))
    assert losses[-1] < 0.2 * losses[0]


def test_orbax_round_trip(tmp_path):
    ocp = pytest.importorskip("orbax.checkpoint")
    params = {"w": jnp.linspace(0.0, 1.0, 6).reshape(2, 3), "b": jnp.ones(3)}
    tx = js.partition({"w": js.adam(1e-2, amsgrad=True), "b": js.sgd(0.1, momentum=0.9)}, lambda p: {k: k for k in p})
    state = tx.init(params)
    for i in range(3):
        _, state = tx.update(jax.tree.map(lambda p: jnp.sin(p + i), params), state, params)
    plateau = js.reduce_on_plateau(patience=0)
    pstate = plateau.update(plateau.init(0.1), 1.0)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(tmp_path / "ckpt", {"opt": state, "plateau": pstate})
    checkpointer.wait_until_finished()
    restored = checkpointer.restore(tmp_path / "ckpt", {"opt": tx.init(params), "plateau": plateau.init(0.1)})
    for a, b in zip(jax.tree.leaves({"opt": state, "plateau": pstate}), jax.tree.leaves(restored)):
        np.testing.assert_array_equal(a, b)
    assert jax.tree.structure(restored["opt"]) == jax.tree.structure(state)
