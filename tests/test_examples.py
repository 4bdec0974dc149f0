"""The examples run end to end and do what they say."""

import importlib.util
import pathlib

import jax
import numpy as np
import pytest

import jaxsched as js

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_learns(capsys):
    quickstart = load_example("quickstart")
    final_loss = quickstart.main(steps=300, log_every=100)
    out = capsys.readouterr().out
    assert "step    0" in out and "full-data loss" in out
    # The target's variance is about 0.19; a model that learned nothing stays near it.
    assert final_loss < 0.05


def test_pytorch_port_steps_lr_per_epoch_per_group():
    history = load_example("pytorch_port").main(epochs=7)
    lrs = [h[0] for h in history]
    for epoch, lr in enumerate(lrs):  # StepLR(step_size=3, gamma=0.1) per group
        assert lr["features"] == pytest.approx(0.01 * 0.1 ** (epoch // 3), rel=1e-5)
        assert lr["classifier"] == pytest.approx(0.1 * 0.1 ** (epoch // 3), rel=1e-5)
    losses = [h[1] for h in history]
    assert losses[-1] < 0.7 * losses[0]


def test_pytorch_port_matches_torch_param_groups():
    torch = pytest.importorskip("torch")
    port = load_example("pytorch_port")
    x, y = port.make_data(jax.random.PRNGKey(0))
    params = port.init_model(jax.random.PRNGKey(1))
    # One epoch of the torch original on the same data and initial weights (float32 both sides).
    tensors = {
        g: {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in layer.items()} for g, layer in params.items()
    }
    optimizer = torch.optim.SGD(
        [{"params": list(tensors["features"].values())}, {"params": list(tensors["classifier"].values()), "lr": 0.1}],
        lr=0.01,
        momentum=0.9,
        weight_decay=5e-4,
    )
    x_t, y_t = torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y)).long()
    for i in range(4):
        xb, yb = x_t[i * 64 : (i + 1) * 64], y_t[i * 64 : (i + 1) * 64]
        hidden = torch.tanh(xb @ tensors["features"]["w"] + tensors["features"]["b"])
        logits = hidden @ tensors["classifier"]["w"] + tensors["classifier"]["b"]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(logits, yb).backward()
        optimizer.step()
    group = lambda lr: js.sgd(lr, momentum=0.9, weight_decay=5e-4)  # noqa: E731
    tx = js.partition(
        {"features": group(0.01), "classifier": group(0.1)},
        js.label_by_path({"classifier": "classifier"}, default="features"),
    )
    state = tx.init(params)
    for i in range(4):
        grads = jax.grad(port.loss_fn)(params, x[i * 64 : (i + 1) * 64], y[i * 64 : (i + 1) * 64])
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    for g in params:
        for k in params[g]:
            np.testing.assert_allclose(params[g][k], tensors[g][k].detach().numpy(), rtol=1e-4, atol=1e-6)


def test_lr_sweep_compiles_once():
    _lrs, losses, compiles = load_example("lr_sweep").main(num_lrs=16, steps=50)
    assert compiles == 1 and losses.shape == (16,)
    assert float(np.nanmin(losses)) < 0.5 * float(losses[0])


def test_flax_nnx_example():
    pytest.importorskip("flax.nnx")
    losses = load_example("flax_nnx").main(steps=150)
    assert losses[-1] < 0.3 * losses[0]


def test_equinox_example():
    pytest.importorskip("equinox")
    losses = load_example("equinox_mlp").main(steps=150)
    assert losses[-1] < 0.5 * losses[0]


def test_property_tests_example_runs():
    example = load_example("property_tests")
    check = example.test_warmup_cosine_properties.hypothesis.inner_test  # the body, on chosen edge cases
    for peak, warmup, decay in [(1e-5, 1, 1), (0.1, 300, 3000), (1.0, 17, 5)]:
        check(peak=peak, warmup=warmup, decay=decay)
    example.test_changing_the_peak_does_not_recompile_a_train_step()


def test_muon_adamw_learns(capsys):
    final_loss = load_example("muon_adamw").main(steps=100, log_every=50)
    assert "step    0" in capsys.readouterr().out
    assert final_loss < 0.05  # from about 0.95


def test_resume_from_torch_follows_torchs_own_continuation():
    pytest.importorskip("torch")
    rows = load_example("resume_from_torch").main(torch_epochs=3, epochs=2)
    assert [epoch for epoch, _, _ in rows] == [3, 4]
    for _, torch_loss, ours in rows:  # float32 on both sides
        assert ours == pytest.approx(torch_loss, rel=1e-5)
