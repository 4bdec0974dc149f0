"""Layer-wise learning-rate decay (the BERT/ViT fine-tuning recipe), next to its torch original.

Layer ``i`` of ``num_layers`` trains at ``lr * decay ** (num_layers - i)``: the head at ``lr``, each
layer below it ``decay`` times slower. One scheduler (warmup, then linear decay) scales every group's
own base lr. The PyTorch original:

    groups = [{"params": layer.parameters(), "lr": lr * decay ** (num_layers - i)} for i, layer in enumerate(layers)]
    optimizer = torch.optim.AdamW(groups, lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear)

In jaxsched it is one `param_groups` call. Both run here in float64 on the same data and weights, and
the largest difference between their parameter trajectories is printed (about 2e-9 after 40 steps:
each framework differentiates the model itself, and Adam's normalization magnifies their last-bit
differences in the gradients; fed identical gradients, the trajectories agree to 1e-12, see
tests/test_training_loop.py).
Run: python examples/layerwise_lr_decay.py  (needs torch for the comparison)
"""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js

NUM_LAYERS, WIDTH, LR, DECAY, WARMUP = 4, 16, 1e-2, 0.65, 5


def layer_lr(layer: int) -> float:
    return LR * DECAY ** (NUM_LAYERS - layer)


def factor_jax(total_steps):
    """Warmup over WARMUP steps, then linear decay to 0 at total_steps (jax.numpy, for js.schedules.lambda_lr)."""
    return lambda step: jnp.where(
        step < WARMUP, step / WARMUP, jnp.maximum(0.0, (total_steps - step) / (total_steps - WARMUP))
    )


def factor_torch(total_steps):
    """The same factor in Python, for torch's LambdaLR."""
    return lambda step: step / WARMUP if step < WARMUP else max(0.0, (total_steps - step) / (total_steps - WARMUP))


def make_problem(seed: int = 0):
    rng = np.random.RandomState(seed)
    x, y = rng.randn(64, WIDTH), rng.randn(64, 1)
    # layer 0 .. NUM_LAYERS - 1 are hidden layers, layer NUM_LAYERS is the head
    params = {f"layer{i}": {"w": rng.randn(WIDTH, WIDTH) / 4, "b": np.zeros(WIDTH)} for i in range(NUM_LAYERS)}
    params[f"layer{NUM_LAYERS}"] = {"w": rng.randn(WIDTH, 1) / 4, "b": np.zeros(1)}
    return x, y, params


def forward(params, x, tanh):
    for i in range(NUM_LAYERS):
        x = tanh(x @ params[f"layer{i}"]["w"] + params[f"layer{i}"]["b"])
    return x @ params[f"layer{NUM_LAYERS}"]["w"] + params[f"layer{NUM_LAYERS}"]["b"]


def run_jaxsched(steps: int):
    x, y, params = make_problem()
    with jax.enable_x64(True):
        params = jax.tree.map(jnp.asarray, params)
        layers = [f"layer{i}" for i in range(NUM_LAYERS + 1)]
        tx = js.param_groups(
            js.adamw,
            {name: {"learning_rate": layer_lr(i)} for i, name in enumerate(layers)},
            js.label_by_path({name: name for name in layers}),
            schedule=lambda base_lr: js.schedules.lambda_lr(base_lr, factor_jax(steps)),
            weight_decay=0.01,
        )
        state = tx.init(params)

        @jax.jit
        def train_step(params, state):
            grads = jax.grad(lambda p: jnp.mean((forward(p, x, jnp.tanh) - y) ** 2))(params)
            updates, state = tx.update(grads, state, params)
            return js.apply_updates(params, updates), state

        trajectory = []
        for _ in range(steps):
            params, state = train_step(params, state)
            trajectory.append(np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(params)]))
    return np.stack(trajectory)


def run_torch(steps: int):
    import torch

    x, y, params = make_problem()
    tensors = jax.tree.map(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True), params)
    groups = [{"params": list(tensors[f"layer{i}"].values()), "lr": layer_lr(i)} for i in range(NUM_LAYERS + 1)]
    optimizer = torch.optim.AdamW(groups, lr=LR, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor_torch(steps))
    x, y = torch.tensor(x), torch.tensor(y)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        torch.mean((forward(tensors, x, torch.tanh) - y) ** 2).backward()
        optimizer.step()
        scheduler.step()
        # the leaf order of jax.tree.leaves: layers, then "b" before "w"
        trajectory.append(np.concatenate([t.detach().numpy().ravel() for t in jax.tree.leaves(tensors)]))
    return np.stack(trajectory)


def main(steps: int = 40) -> float:
    ours, theirs = run_jaxsched(steps), run_torch(steps)
    difference = float(np.max(np.abs(ours - theirs)))
    print(
        f"{steps} steps, {NUM_LAYERS + 1} groups (lr {layer_lr(0):.2e} .. {LR:.0e}): "
        f"max |jaxsched - torch| = {difference:.2e}"
    )
    return difference


if __name__ == "__main__":
    main()
