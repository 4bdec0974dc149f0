"""jaxsched with Equinox: filter the model's arrays, update them, `eqx.apply_updates`.

Run: pip install equinox && python examples/equinox_mlp.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp

import jaxsched as js


def main(steps: int = 300):
    x = jax.random.uniform(jax.random.PRNGKey(0), (512, 2), minval=-1, maxval=1)
    y = jnp.sin(2 * x[:, :1]) + x[:, 1:] ** 2
    model = eqx.nn.MLP(2, 1, width_size=32, depth=2, key=jax.random.PRNGKey(1))
    schedule = js.schedules.warmup(js.schedules.cosine_annealing(3e-3, t_max=steps - 30), warmup_steps=30)
    tx = js.chain(js.clip_by_global_norm(1.0), js.radam(schedule))
    state = tx.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def train_step(model, state):
        loss, grads = eqx.filter_value_and_grad(lambda m: jnp.mean((jax.vmap(m)(x) - y) ** 2))(model)
        updates, state = tx.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), state, loss

    losses = []
    for step in range(steps):
        model, state, loss = train_step(model, state)
        losses.append(float(loss))
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:3d}  lr {float(js.get_hyperparams(state)['learning_rate']):.2e}  loss {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    main()
