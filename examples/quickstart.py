"""Quickstart: train a small MLP on generated data with AdamW and a warmup + cosine schedule.

    python examples/quickstart.py [--steps 600]

Everything is one jitted train step; the learning rate comes from the schedule and is read back from
the optimizer state for the progress display. Runs in a few seconds on 2 CPU cores.
"""

import argparse
import time

import jax
import jax.numpy as jnp

import jaxsched as js


def make_data(key, n=2048):
    """A noisy 2-D regression target: y = sin(3 x0) * cos(2 x1)."""
    kx, kn = jax.random.split(key)
    x = jax.random.uniform(kx, (n, 2), minval=-1.0, maxval=1.0)
    y = jnp.sin(3 * x[:, :1]) * jnp.cos(2 * x[:, 1:]) + 0.05 * jax.random.normal(kn, (n, 1))
    return x, y


def init_mlp(key, sizes=(2, 64, 64, 1)):
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), "b": jnp.zeros(n)}
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]


def mlp(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, x, y):
    return jnp.mean((mlp(params, x) - y) ** 2)


def main(steps: int = 600, batch_size: int = 128, log_every: int = 100) -> float:
    key_data, key_init, key_batches = jax.random.split(jax.random.PRNGKey(0), 3)
    x, y = make_data(key_data)
    params = init_mlp(key_init)

    schedule = js.schedules.warmup(js.schedules.cosine_decay(3e-3, steps - 50, alpha=0.01), warmup_steps=50)
    tx = js.chain(js.clip_by_global_norm(1.0), js.adamw(schedule, weight_decay=1e-4))
    state = tx.init(params)

    @jax.jit
    def train_step(params, state, key):
        idx = jax.random.randint(key, (batch_size,), 0, x.shape[0])
        loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx])
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state, loss

    start = time.perf_counter()
    for step, key in enumerate(jax.random.split(key_batches, steps)):
        lr = js.get_hyperparams(state)["learning_rate"]  # the value this step uses
        params, state, loss = train_step(params, state, key)
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step:4d}  lr {float(lr):.2e}  batch loss {float(loss):.4f}")
    final = float(loss_fn(params, x, y))
    print(f"full-data loss {final:.4f} after {steps} steps in {time.perf_counter() - start:.1f} s")
    return final


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    main(parser.parse_args().steps)
