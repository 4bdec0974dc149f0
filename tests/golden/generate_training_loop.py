"""Regenerate tests/golden/training_loop.npz from torch (needs torch==2.13.0).

    python tests/golden/generate_training_loop.py

The torch side of tests/test_training_loop.py: parameter groups with one scheduler over every group's
own base lr, no-decay groups with AdamW, groups frozen with ``requires_grad_(False)`` (``grad = None``)
for some steps, and gradient accumulation (``(loss / k).backward()`` per micro-batch, a step every k)
under StepLR and ReduceLROnPlateau. Values come from torch only, never from jaxsched.
"""

from __future__ import annotations

import pathlib
import sys
import warnings

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.optim_parity import PARAMS0, STEPS, ParityCase, flatten, grads_at, run_torch, torch_scheduler  # noqa: E402

GOLDEN = HERE / "training_loop.npz"
BASE, HEAD = ("a_matrix", "d_nested"), ("b_vector", "c_scalar")
ACCUMULATE_LR = 0.05
ACCUMULATE_K = (1, 3, 4)
# steps at which each group is frozen (torch: requires_grad_(False), so its .grad is None)
FROZEN_STEPS = {"head": range(5, 13), "base": range(18, 23)}


def two_groups(head_options: dict):
    """``tensors -> torch param groups``: base (a_matrix, d_nested) with the defaults, head with ``head_options``."""
    return lambda t: [{"params": [t[k] for k in BASE]}, {"params": [t[k] for k in HEAD], **head_options}]


def _jax_param_groups(optimizer_name: str, groups: dict, labels, **kwargs):
    def make():
        import jaxsched as js

        return js.param_groups(getattr(js, optimizer_name), groups, labels(js), **kwargs)

    return make


def _head_labels(js):
    return js.label_by_path({k: "head" for k in HEAD}, default="base")


def _cosine(lr):
    import jaxsched as js

    return js.schedules.cosine_annealing(lr, t_max=12)


CASES = {
    # one CosineAnnealingLR over two groups: each follows its own base lr; head overrides lr and weight_decay
    "param_groups_cosine": ParityCase(
        dict(learning_rate=0.1, momentum=0.9, weight_decay=0.001),
        second_group=dict(learning_rate=0.02, weight_decay=0.01),
        second_group_keys=HEAD,
        torch_scheduler=torch_scheduler("CosineAnnealingLR", T_max=12),
        torch_optimizer="SGD",
        make_jax_groups=_jax_param_groups(
            "sgd",
            {"base": {}, "head": {"learning_rate": 0.02, "weight_decay": 0.01}},
            _head_labels,
            schedule=_cosine,
            learning_rate=0.1,
            momentum=0.9,
            weight_decay=0.001,
        ),
    ),
    # transformers' no_decay groups: the vector and the scalar stand in for bias and LayerNorm
    "no_decay_adamw": ParityCase(
        dict(learning_rate=0.05, weight_decay=0.1),
        second_group=dict(weight_decay=0.0),
        second_group_keys=HEAD,
        torch_optimizer="AdamW",
        make_jax_groups=_jax_param_groups(
            "adamw",
            {"decay": {}, "no_decay": {"weight_decay": 0.0}},
            lambda js: js.label_decay(("vector", "scalar")),
            learning_rate=0.05,
            weight_decay=0.1,
        ),
    ),
}


def plateau_metric(step: int) -> float:
    """The metric each optimizer step reports: flat for six steps, then better (so plateaus cut the lr)."""
    return 1.0 / (1 + step // 6)


def is_frozen(group: str, step: int) -> bool:
    return step in FROZEN_STEPS[group]


def _tensors(torch):
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in PARAMS0.items()}


def _numpy(tensors):
    return {k: t.detach().numpy() for k, t in tensors.items()}


def run_torch_freeze() -> np.ndarray:
    """Adam over two groups (head at lr 0.02) with StepLR; groups frozen during FROZEN_STEPS."""
    import torch

    tensors = _tensors(torch)
    optimizer = torch.optim.Adam(two_groups(dict(lr=0.02))(tensors), lr=0.05, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.5)
    rows = [flatten(_numpy(tensors))]
    for step in range(STEPS):
        grads = grads_at(_numpy(tensors), step)
        for group, names in (("base", BASE), ("head", HEAD)):
            for k in names:
                tensors[k].grad = None if is_frozen(group, step) else torch.from_numpy(np.array(grads[k], np.float64))
        optimizer.step()
        scheduler.step()
        rows.append(flatten(_numpy(tensors)))
    return np.stack(rows)


def run_torch_accumulate(every_k: int) -> np.ndarray:
    """Adam, ``(loss / k).backward()`` on each of k micro-batches, a step every k; StepLR then ReduceLROnPlateau."""
    import torch

    tensors = _tensors(torch)
    optimizer = torch.optim.Adam([tensors[k] for k in sorted(tensors)], lr=ACCUMULATE_LR, weight_decay=0.01)
    step_lr = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.5)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    rows = [flatten(_numpy(tensors))]
    for step in range(STEPS):
        for micro in range(every_k):
            grads = grads_at(_numpy(tensors), step * every_k + micro)
            for k, t in tensors.items():
                micro_grad = torch.from_numpy(np.array(grads[k] / every_k, np.float64))
                if t.grad is None:
                    t.grad = micro_grad
                else:
                    t.grad.add_(micro_grad)  # what backward() does to .grad
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step_lr.step()
        plateau.step(plateau_metric(step))
        rows.append(flatten(_numpy(tensors)))
    return np.stack(rows)


def torch_trajectories() -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's advice on chaining schedulers
        arrays = {name: run_torch(case) for name, case in CASES.items()}
        arrays["freeze_adam"] = run_torch_freeze()
        for every_k in ACCUMULATE_K:
            arrays[f"accumulate_k{every_k}"] = run_torch_accumulate(every_k)
    return arrays


def main() -> None:
    import torch

    print(f"torch {torch.__version__}")
    arrays = torch_trajectories()
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {len(arrays)} trajectories to {GOLDEN}")


if __name__ == "__main__":
    main()
