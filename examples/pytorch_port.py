"""Porting the classic PyTorch loop: SGD with momentum, StepLR stepped per epoch, two parameter groups.

The PyTorch original:

    optimizer = torch.optim.SGD([{"params": model.features.parameters()},
                                 {"params": model.classifier.parameters(), "lr": 0.1}],
                                lr=0.01, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.1)
    for epoch in range(epochs):
        for x, y in batches:
            optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()
        scheduler.step()

In jaxsched each group gets its own SGD; `per_epoch` turns the StepLR schedule (in epochs) into one
that the per-batch update reads. Run: python examples/pytorch_port.py
"""

import jax
import jax.numpy as jnp

import jaxsched as js


def make_data(key, n=1024, classes=4):
    kx, kw = jax.random.split(key)
    x = jax.random.normal(kx, (n, 8))
    y = jnp.argmax(x @ jax.random.normal(kw, (8, classes)), axis=1)
    return x, y


def init_model(key, classes=4):
    k1, k2 = jax.random.split(key)
    return {
        "features": {"w": jax.random.normal(k1, (8, 32)) * 0.3, "b": jnp.zeros(32)},
        "classifier": {"w": jax.random.normal(k2, (32, classes)) * 0.3, "b": jnp.zeros(classes)},
    }


def loss_fn(params, x, y):
    hidden = jnp.tanh(x @ params["features"]["w"] + params["features"]["b"])
    logits = hidden @ params["classifier"]["w"] + params["classifier"]["b"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def main(epochs: int = 9, batch_size: int = 64):
    x, y = make_data(jax.random.PRNGKey(0))
    params = init_model(jax.random.PRNGKey(1))
    # torch's DataLoader(drop_last=True) length: the last partial batch is dropped. With drop_last=False
    # (the default) len(loader) is math.ceil(n / batch_size), and the loop must take that partial batch too.
    steps_per_epoch = x.shape[0] // batch_size

    def group(lr):  # SGD(lr, momentum=0.9, weight_decay=5e-4) + StepLR(step_size=3, gamma=0.1), per epoch
        schedule = js.schedules.per_epoch(js.schedules.step_decay(lr, step_size=3, gamma=0.1), steps_per_epoch)
        return js.sgd(schedule, momentum=0.9, weight_decay=5e-4)

    tx = js.partition(
        {"features": group(0.01), "classifier": group(0.1)},
        js.label_by_path({"classifier": "classifier"}, default="features"),
    )
    state = tx.init(params)

    @jax.jit
    def train_step(params, state, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state, loss

    history = []
    for epoch in range(epochs):
        lrs = {g: float(h["learning_rate"]) for g, h in js.get_hyperparams(state).items()}
        for i in range(steps_per_epoch):
            xb, yb = x[i * batch_size : (i + 1) * batch_size], y[i * batch_size : (i + 1) * batch_size]
            params, state, _loss = train_step(params, state, xb, yb)
        history.append((lrs, float(loss_fn(params, x, y))))
        print(
            f"epoch {epoch}  lr features {lrs['features']:.0e}  classifier {lrs['classifier']:.0e}  loss {history[-1][1]:.4f}"
        )
    return history


if __name__ == "__main__":
    main()
