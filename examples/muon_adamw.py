"""Muon for the weight matrices, AdamW for the biases: the usual pairing, through js.partition.

    python examples/muon_adamw.py [--steps 300]

torch's Muon takes only 2-D parameters; everything else (biases here, embeddings and norms in a
transformer) goes to AdamW. A labels function by ``ndim`` splits the tree; each group keeps its own
state and hyperparameters (``js.get_hyperparams(state)["muon"]``). Runs in a few seconds on 2 CPU cores.
"""

import argparse

import jax
import jax.numpy as jnp

import jaxsched as js


def make_data(key, n=1024):
    """A noisy 8-D regression target."""
    kx, kw, kn = jax.random.split(key, 3)
    x = jax.random.normal(kx, (n, 8))
    y = jnp.tanh(x @ jax.random.normal(kw, (8, 1))) + 0.05 * jax.random.normal(kn, (n, 1))
    return x, y


def init_mlp(key, sizes=(8, 64, 64, 1)):
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (m, n)) / jnp.sqrt(m), "b": jnp.zeros(n)}
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]


def mlp(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, x, y):
    return jnp.mean((mlp(params, x) - y) ** 2)


def by_ndim(params):
    return jax.tree.map(lambda p: "muon" if p.ndim == 2 else "adamw", params)


def main(steps: int = 300, log_every: int = 50) -> float:
    x, y = make_data(jax.random.PRNGKey(0))
    params = init_mlp(jax.random.PRNGKey(1))
    tx = js.partition(
        {
            "muon": js.muon(js.schedules.cosine_annealing(0.02, t_max=steps), weight_decay=0.01),
            "adamw": js.adamw(js.schedules.cosine_annealing(3e-3, t_max=steps), weight_decay=0.0),
        },
        by_ndim,
    )
    state = tx.init(params)

    @jax.jit
    def train_step(params, state):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state, loss

    loss = loss_fn(params, x, y)
    for step in range(steps):
        params, state, loss = train_step(params, state)
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {float(loss):.4f}")
    final_loss = float(loss_fn(params, x, y))
    print(f"final loss {final_loss:.4f}")
    return final_loss


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    main(parser.parse_args().steps)
