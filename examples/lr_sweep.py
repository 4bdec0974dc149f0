"""A learning-rate sweep in one compile: `vmap` a whole training run over 64 learning rates.

The learning rate lives in the optimizer state, so `set_hyperparams` inside the vmapped function
turns it into a batched value; the training loop is a `lax.scan`. Run: python examples/lr_sweep.py
"""

import time

import jax
import jax.numpy as jnp

import jaxsched as js


def make_problem(key, n=256, dim=16):
    kx, kw = jax.random.split(key)
    x = jax.random.normal(kx, (n, dim))
    y = x @ jax.random.normal(kw, (dim,)) + 0.1 * jax.random.normal(key, (n,))
    return x, y


def main(num_lrs: int = 64, steps: int = 200):
    x, y = make_problem(jax.random.PRNGKey(0))
    params = jnp.zeros(x.shape[1])
    tx = js.adam(1e-3)  # the value is replaced per run
    loss = lambda w: jnp.mean((x @ w - y) ** 2)  # noqa: E731
    compiles = []

    def train(lr):
        compiles.append(None)  # runs once per trace
        state = js.set_hyperparams(tx.init(params), learning_rate=lr)

        def step(carry, _):
            w, state = carry
            updates, state = tx.update(jax.grad(loss)(w), state, w)
            return (js.apply_updates(w, updates), state), None

        (w, _), _ = jax.lax.scan(step, (params, state), None, length=steps)
        return loss(w)

    lrs = jnp.logspace(-4, 0, num_lrs)
    start = time.perf_counter()
    final_losses = jax.jit(jax.vmap(train))(lrs)
    final_losses.block_until_ready()
    best = int(jnp.nanargmin(final_losses))
    print(f"{num_lrs} runs x {steps} steps in {time.perf_counter() - start:.2f} s, {len(compiles)} compile(s)")
    for i in range(0, num_lrs, max(1, num_lrs // 8)):
        print(f"  lr {float(lrs[i]):.1e}  final loss {float(final_losses[i]):.4f}")
    print(f"best lr {float(lrs[best]):.2e} with loss {float(final_losses[best]):.4f}")
    return lrs, final_losses, len(compiles)


if __name__ == "__main__":
    main()
