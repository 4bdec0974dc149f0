"""Warmup, then ReduceLROnPlateau on the validation loss: something torch's SequentialLR cannot do.

    python examples/plateau.py [--epochs 40]

A small MLP regresses a noisy function of generated data with SGD + momentum. The learning rate
ramps up linearly over the first epochs (step level), then a plateau controller watches the
validation loss once per epoch (like torch's ``scheduler.step(val_loss)``) and cuts the learning
rate when it stalls. A whole epoch, including the plateau decision, is one jitted function; the
learning rate reaches the optimizer through ``js.set_hyperparams``, so nothing recompiles when it
changes. Runs in a few seconds on 2 CPU cores.
"""

import argparse
import time

import jax
import jax.numpy as jnp

import jaxsched as js


def make_data(key, n_train=2048, n_val=512, noise=0.1):
    """y = sin(3 x0) + x1 ** 2 plus Gaussian noise, so the validation loss has a floor to plateau on."""
    kx, kn = jax.random.split(key)
    x = jax.random.uniform(kx, (n_train + n_val, 2), minval=-1.0, maxval=1.0)
    y = jnp.sin(3 * x[:, :1]) + x[:, 1:] ** 2 + noise * jax.random.normal(kn, (n_train + n_val, 1))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def init_mlp(key, sizes=(2, 32, 32, 1)):
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), "b": jnp.zeros(n)}
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]


def loss_fn(params, x, y):
    for layer in params[:-1]:
        x = jnp.tanh(x @ layer["w"] + layer["b"])
    return jnp.mean((x @ params[-1]["w"] + params[-1]["b"] - y) ** 2)


def main(epochs: int = 40, batch_size: int = 64, warmup_epochs: int = 3, log: bool = True) -> dict:
    """Train; return the lr drops ``[(epoch, old_lr, new_lr)]``, first/final validation loss and seconds."""
    key_data, key_init, key_shuffle = jax.random.split(jax.random.PRNGKey(0), 3)
    (x_train, y_train), (x_val, y_val) = make_data(key_data)
    params = init_mlp(key_init)
    steps_per_epoch = x_train.shape[0] // batch_size
    warmup_steps = warmup_epochs * steps_per_epoch

    # The warmup is a factor 0 -> 1 times the plateau-controlled lr, which starts at 0.05 and is
    # bounded below by min_lr; the plateau ignores validation losses measured during the warmup.
    ctrl = js.schedule_with_plateau(
        js.schedules.linear(0.0, 1.0, warmup_steps),
        js.reduce_on_plateau(mode="min", factor=0.3, patience=2, threshold=1e-2, min_lr=1e-4),
        start_step=warmup_steps,
    )
    tx = js.sgd(0.0, momentum=0.9)
    opt_state, cstate = tx.init(params), ctrl.init(0.05)

    @jax.jit
    def train_epoch(params, opt_state, cstate, epoch_key, first_step):
        order = jax.random.permutation(epoch_key, x_train.shape[0])[: steps_per_epoch * batch_size]

        def train_step(carry, batch):
            params, opt_state, step = carry
            opt_state = js.set_hyperparams(opt_state, learning_rate=ctrl.lr(cstate, step))
            loss, grads = jax.value_and_grad(loss_fn)(params, x_train[batch], y_train[batch])
            updates, opt_state = tx.update(grads, opt_state, params)
            return (js.apply_updates(params, updates), opt_state, step + 1), loss

        (params, opt_state, next_step), losses = jax.lax.scan(
            train_step, (params, opt_state, first_step), order.reshape(steps_per_epoch, batch_size)
        )
        val_loss = loss_fn(params, x_val, y_val)
        cstate = ctrl.update(cstate, val_loss, next_step - 1)  # measured after the epoch's last step
        return params, opt_state, cstate, jnp.mean(losses), val_loss

    drops, val_losses = [], []
    start = time.perf_counter()
    for epoch in range(epochs):
        lr_before = float(cstate.lr)
        first_step = jnp.asarray(epoch * steps_per_epoch, jnp.int32)
        last_lr = float(ctrl.lr(cstate, first_step + steps_per_epoch - 1))  # the lr of this epoch's last step
        params, opt_state, cstate, train_loss, val_loss = train_epoch(
            params, opt_state, cstate, jax.random.fold_in(key_shuffle, epoch), first_step
        )
        val_losses.append(float(val_loss))
        note = ""
        if float(cstate.lr) < lr_before:
            drops.append((epoch, lr_before, float(cstate.lr)))
            note = f"  <- plateau: lr {lr_before:.3g} -> {float(cstate.lr):.3g}"
        if log:
            print(f"epoch {epoch:3d}  lr {last_lr:.4g}  train {float(train_loss):.4f}  val {float(val_loss):.4f}{note}")
    seconds = time.perf_counter() - start
    if log:
        print(f"{len(drops)} lr drop(s); best val loss {float(cstate.best):.4f}; {seconds:.1f} s")
    return {"drops": drops, "first_val_loss": val_losses[0], "final_val_loss": val_losses[-1], "seconds": seconds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    main(epochs=args.epochs, batch_size=args.batch_size)
