"""Stochastic weight averaging of a Flax model with batch norm, next to torch's recipe on the same data.

The PyTorch original (``torch.optim.swa_utils``)::

    swa_model = AveragedModel(model)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
    update_bn(loader, swa_model)

In jaxsched the two schedulers are one schedule (``join`` of ``cosine_annealing`` and ``swa_lr``,
read per update through ``per_epoch``) and ``AveragedModel`` is ``js.swa()`` over the parameters.

``update_bn`` has no model-independent meaning in JAX: batch-norm statistics are whatever
collection your model keeps (here Flax linen's ``batch_stats``), and only the model knows how a
forward pass produces them. For this model it is: a forward pass per batch in training mode with
momentum 0, so each pass returns that batch's statistics, and their equally weighted mean, which is
``js.swa()`` again (torch's ``momentum=None`` cumulative average; the first batch replaces the reset
values). Expect close, not equal, numbers: float32 training diverges slowly, and torch keeps the
unbiased batch variance in ``running_var`` where Flax keeps the biased one.

Run: pip install flax torch && python examples/swa.py   (about 15 s on 2 CPU cores)
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxsched as js

FEATURES, HIDDEN, CLASSES = 16, 64, 2
BATCH = 64
LR, SWA_LR, ANNEAL_EPOCHS, MOMENTUM = 0.1, 0.05, 5, 0.9


class Classifier(nn.Module):
    momentum: float = 0.9  # Flax's batch-norm momentum is torch's 1 - momentum (0.1)

    @nn.compact
    def __call__(self, x, train: bool):
        x = nn.Dense(HIDDEN)(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=self.momentum, epsilon=1e-5)(x)
        return nn.Dense(CLASSES)(nn.relu(x))


def make_data(seed: int = 0, train: int = 1024, test: int = 1024):
    """Two classes split by a curved boundary; features on different scales and offsets."""
    rng = np.random.RandomState(seed)
    z = rng.standard_normal((train + test, FEATURES)).astype(np.float32)
    y = (z[:, 0] + z[:, 1] - 0.5 * z[:, 2] * z[:, 3] > 0).astype(np.int32)
    x = z * np.logspace(-0.5, 0.5, FEATURES, dtype=np.float32) + np.linspace(-3, 3, FEATURES, dtype=np.float32)
    return (x[:train], y[:train]), (x[train:], y[train:])


def epoch_batches(x, y, epoch: int):
    """The same shuffled batches for both frameworks."""
    order = np.random.RandomState(1000 + epoch).permutation(len(x))
    return [(x[order[i : i + BATCH]], y[order[i : i + BATCH]]) for i in range(0, len(x), BATCH)]


def lr_schedule(epochs: int, swa_start: int):
    """CosineAnnealingLR(T_max=epochs) stepped after epochs 0..swa_start, SWALR after the later ones."""
    cosine = js.schedules.cosine_annealing(LR, epochs)
    annealing = js.schedules.swa_lr(SWA_LR, ANNEAL_EPOCHS, start_value=cosine(swa_start + 1))
    return js.schedules.join([cosine, annealing], [swa_start + 1])


def evaluate(model, variables, x, y):
    logits = model.apply(variables, x, train=False)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return float(loss), float(jnp.mean(jnp.argmax(logits, -1) == y))


def update_bn(params, batch_stats, batches):
    """torch's ``update_bn`` for :class:`Classifier`: the mean of the per-batch statistics over one pass."""
    per_batch = Classifier(momentum=0.0)

    @jax.jit
    def statistics(x):
        variables = {"params": params, "batch_stats": batch_stats}
        _, updated = per_batch.apply(variables, x, train=True, mutable=["batch_stats"])
        return updated["batch_stats"]

    average = js.swa()
    update = jax.jit(average.update)
    astate = average.init(batch_stats)
    for x, _ in batches:
        astate = update(astate, statistics(x))
    return astate.params


def train_jax(variables, data, epochs: int, swa_start: int):
    (x, y), (x_test, y_test) = data
    model = Classifier()
    steps_per_epoch = len(epoch_batches(x, y, 0))
    tx = js.sgd(js.schedules.per_epoch(lr_schedule(epochs, swa_start), steps_per_epoch), momentum=MOMENTUM)
    params, batch_stats = variables["params"], variables["batch_stats"]
    opt_state = tx.init(params)

    @jax.jit
    def train_step(params, batch_stats, opt_state, x, y):
        def loss_fn(params):
            logits, updated = model.apply(
                {"params": params, "batch_stats": batch_stats}, x, train=True, mutable=["batch_stats"]
            )
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), updated["batch_stats"]

        (_, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return js.apply_updates(params, updates), batch_stats, opt_state

    average = js.swa()
    update_average = jax.jit(average.update)
    swa_state = average.init(params)
    for epoch in range(epochs):
        for xb, yb in epoch_batches(x, y, epoch):
            params, batch_stats, opt_state = train_step(params, batch_stats, opt_state, xb, yb)
        if epoch > swa_start:
            swa_state = update_average(swa_state, params)
    swa_params = swa_state.params  # float32 params: already in their dtype
    swa_batch_stats = update_bn(swa_params, batch_stats, epoch_batches(x, y, epochs))
    return {
        "sgd": evaluate(model, {"params": params, "batch_stats": batch_stats}, x_test, y_test),
        "swa": evaluate(model, {"params": swa_params, "batch_stats": swa_batch_stats}, x_test, y_test),
    }


def train_torch(variables, data, epochs: int, swa_start: int):
    """torch's recipe from the module docstring, starting from the same weights (one CPU thread)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batches this small only pay for synchronizing more threads
    try:
        return _torch_recipe(variables, data, epochs, swa_start)
    finally:
        torch.set_num_threads(threads)


def _torch_recipe(variables, data, epochs, swa_start):
    import torch
    from torch.optim.swa_utils import SWALR, AveragedModel
    from torch.optim.swa_utils import update_bn as torch_update_bn

    (x, y), (x_test, y_test) = data
    params = jax.tree.map(lambda a: torch.tensor(np.asarray(a)), variables["params"])
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN),
        torch.nn.BatchNorm1d(HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, CLASSES),
    )
    with torch.no_grad():
        for layer, dense in ((model[0], params["Dense_0"]), (model[3], params["Dense_1"])):
            layer.weight.copy_(dense["kernel"].T)
            layer.bias.copy_(dense["bias"])
        model[1].weight.copy_(params["BatchNorm_0"]["scale"])
        model[1].bias.copy_(params["BatchNorm_0"]["bias"])
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    swa_model = AveragedModel(model)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    swa_scheduler = SWALR(optimizer, swa_lr=SWA_LR, anneal_epochs=ANNEAL_EPOCHS)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for xb, yb in epoch_batches(x, y, epoch):
            optimizer.zero_grad()
            loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb).long()).backward()
            optimizer.step()
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
    torch_update_bn([torch.from_numpy(xb) for xb, _ in epoch_batches(x, y, epochs)], swa_model)

    def evaluate_torch(net):
        net.eval()
        with torch.no_grad():
            logits = net(torch.from_numpy(x_test))
            loss = loss_fn(logits, torch.from_numpy(y_test).long())
        return float(loss), float((logits.argmax(-1).numpy() == y_test).mean())

    return {"sgd": evaluate_torch(model), "swa": evaluate_torch(swa_model)}


def main(epochs: int = 30, swa_start: int = 15, with_torch: bool = True):
    data = make_data()
    variables = Classifier().init(jax.random.key(0), data[0][0][:BATCH], train=False)
    results = {"jax": train_jax(variables, data, epochs, swa_start)}
    if with_torch:
        results["torch"] = train_torch(variables, data, epochs, swa_start)
    for framework, metrics in results.items():
        for model, (loss, accuracy) in metrics.items():
            print(f"{framework:5s} {model}: test loss {loss:.4f}  accuracy {accuracy:.4f}")
    return results


if __name__ == "__main__":
    main()
