"""Fit a logistic regression with L-BFGS (strong Wolfe line search), one jitted step per update.

    python examples/lbfgs_fit.py [--steps 4] [--points 2000]

Each ``update`` is one ``torch.optim.LBFGS.step(closure)``: up to 20 inner iterations that call the
loss through ``value_fn``. Runs in a few seconds on 2 CPU cores.
"""

import argparse

import jax
import jax.numpy as jnp

import jaxsched as js


def make_data(key, points, features=5):
    """Linearly separable-ish labels from a random hyperplane, with 10% of the labels flipped."""
    kx, kw, kflip = jax.random.split(key, 3)
    x = jax.random.normal(kx, (points, features))
    y = (x @ jax.random.normal(kw, (features,)) > 0).astype(jnp.float32)
    flip = jax.random.bernoulli(kflip, 0.1, (points,))
    return x, jnp.where(flip, 1 - y, y)


def main(steps=4, points=2000):
    x, y = make_data(jax.random.PRNGKey(0), points)

    def loss_fn(params):
        logits = x @ params["w"] + params["b"]
        return jnp.mean(jnp.logaddexp(0.0, logits) - y * logits) + 1e-3 * jnp.sum(params["w"] ** 2)

    tx = js.lbfgs(line_search_fn="strong_wolfe", history_size=10)
    params = {"w": jnp.zeros(x.shape[1]), "b": jnp.zeros(())}
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = tx.update(grads, state, params, value_fn=loss_fn, value=loss)
        return js.apply_updates(params, updates), state, loss

    for i in range(steps):
        params, state, loss = step(params, state)
        lbfgs_state = state.inner_state
        print(f"update {i}: loss {float(loss):.6f}  (evaluations so far {int(lbfgs_state.func_evals)})")
    final = float(loss_fn(params))
    accuracy = float(jnp.mean(((x @ params["w"] + params["b"]) > 0) == (y > 0.5)))
    print(f"final loss {final:.6f}, training accuracy {accuracy:.3f}")
    return final


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--points", type=int, default=2000)
    args = parser.parse_args()
    main(args.steps, args.points)
