"""jaxsched with Flax NNX: `nnx.Optimizer` takes any jaxsched optimizer as its `tx`.

Run: pip install flax && python examples/flax_nnx.py
"""

import jax
import jax.numpy as jnp
from flax import nnx

import jaxsched as js


class MLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(2, 32, rngs=rngs)
        self.out = nnx.Linear(32, 1, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.hidden(x)))


def main(steps: int = 300):
    x = jax.random.uniform(jax.random.PRNGKey(0), (512, 2), minval=-1, maxval=1)
    y = jnp.sin(2 * x[:, :1]) + x[:, 1:] ** 2
    model = MLP(nnx.Rngs(0))
    schedule = js.schedules.one_cycle(1e-2, total_steps=steps)
    optimizer = nnx.Optimizer(model, js.adamw(schedule, weight_decay=1e-4), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer):
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        optimizer.update(model, grads)
        return loss

    losses = []
    for step in range(steps):
        losses.append(float(train_step(model, optimizer)))
        if step % 100 == 0 or step == steps - 1:
            lr = js.get_hyperparams(optimizer.opt_state)["learning_rate"]  # a plain array, not nnx's OptArray
            print(f"step {step:3d}  lr {lr:.2e}  loss {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    main()
