"""Resume a half-trained PyTorch run in jaxsched: moments, step count and schedule position carried over.

    python examples/resume_from_torch.py [--torch-epochs 3] [--epochs 3]

Needs torch (the code being ported). A small MLP trains for a few epochs in torch with AdamW and a
per-epoch StepLR, and the checkpoint (model, optimizer and scheduler state dicts) is saved. Then
the run continues twice from that checkpoint: in torch, and in jaxsched through
``js.from_torch_state_dict``. The per-epoch losses are printed side by side: the jaxsched
continuation follows torch's own (float32 on both sides, so they agree to about 1e-6), where a
restarted optimizer would not (Adam's moments and bias correction would start again).
"""

import argparse
import copy
import io

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched as js

BATCH, LEARNING_RATE, STEP_SIZE, GAMMA = 64, 1e-2, 2, 0.5


def make_data(n=512, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
    y = (np.sin(3 * x[:, :1]) + x[:, 1:] ** 2).astype(np.float32)
    return x, y


def torch_setup():
    """The torch side as the user wrote it: model, AdamW, StepLR stepped once per epoch."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.AdamW(model.named_parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=STEP_SIZE, gamma=GAMMA)
    return model, optimizer, scheduler


def torch_epoch(model, optimizer, scheduler, x, y) -> float:
    import torch

    losses = []
    for i in range(0, len(x), BATCH):
        xb, yb = torch.from_numpy(x[i : i + BATCH]), torch.from_numpy(y[i : i + BATCH])
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    return float(np.mean(losses))


def jax_loss(params, x, y):
    """The same MLP on torch's parameter layout (``Linear`` keeps weight as out x in)."""
    hidden = jnp.tanh(x @ params["0"]["weight"].T + params["0"]["bias"])
    return jnp.mean((hidden @ params["2"]["weight"].T + params["2"]["bias"] - y) ** 2)


def main(torch_epochs: int = 3, epochs: int = 3) -> list[tuple[int, float, float]]:
    import torch

    x, y = make_data()
    steps_per_epoch = len(x) // BATCH

    # 1. The torch run, interrupted after torch_epochs and saved as usual.
    model, optimizer, scheduler = torch_setup()
    for _ in range(torch_epochs):
        torch_epoch(model, optimizer, scheduler, x, y)
    buffer = io.BytesIO()
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, buffer
    )

    # 2. torch's own continuation, for comparison.
    torch_losses = [torch_epoch(model, optimizer, scheduler, x, y) for _ in range(epochs)]

    # 3. The jaxsched continuation from the same checkpoint.
    buffer.seek(0)
    checkpoint = torch.load(buffer)
    params: dict = {}
    for name, tensor in checkpoint["model"].items():  # "0.weight" -> params["0"]["weight"]
        layer, field = name.split(".")
        params.setdefault(layer, {})[field] = jnp.asarray(tensor.numpy())
    # StepLR(step_size=2, gamma=0.5) stepped once per epoch, as a function of the optimizer step
    schedule = js.schedules.per_epoch(js.schedules.step_decay(LEARNING_RATE, STEP_SIZE, GAMMA), steps_per_epoch)
    tx = js.adamw(learning_rate=schedule, weight_decay=0.01)
    # moments, step count (which places the schedule) and lr come from torch's state dict; the
    # scheduler's last_epoch must be that step in epochs, and the schedule must give the group's lr
    # now and the scheduler's base_lrs at step 0
    state = js.from_torch_state_dict(
        tx, params, copy.deepcopy(checkpoint["optimizer"]), scheduler_state_dict=checkpoint["scheduler"]
    )
    print(
        f"resumed at optimizer step {int(state.step)} (torch scheduler epoch {checkpoint['scheduler']['last_epoch']})"
    )

    @jax.jit
    def train_step(params, state, xb, yb):
        loss, grads = jax.value_and_grad(jax_loss)(params, xb, yb)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state, loss

    def epoch_loss(params, state):
        losses = []
        for i in range(0, len(x), BATCH):
            params, state, loss = train_step(params, state, x[i : i + BATCH], y[i : i + BATCH])
            losses.append(float(loss))
        return params, state, float(np.mean(losses))

    # what porting without the optimizer state gives: the same weights, a fresh AdamW at step 0
    restarted_params, restarted_state = params, tx.init(params)
    rows = []
    print(f"{'epoch':>5}  {'lr':>8}  {'torch loss':>12}  {'jaxsched loss':>14}  {'rel. diff':>9}  {'restarted':>10}")
    for epoch, torch_loss in enumerate(torch_losses, start=torch_epochs):
        lr = float(js.get_hyperparams(state)["learning_rate"])
        params, state, ours = epoch_loss(params, state)
        restarted_params, restarted_state, restarted = epoch_loss(restarted_params, restarted_state)
        rows.append((epoch, torch_loss, ours))
        difference = abs(ours - torch_loss) / torch_loss
        print(f"{epoch:>5}  {lr:>8.4g}  {torch_loss:>12.6f}  {ours:>14.6f}  {difference:>9.1e}  {restarted:>10.6f}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.torch_epochs, arguments.epochs)
