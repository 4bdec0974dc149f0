"""Draw the schedules gallery: ``docs/gallery/*.png`` and the page ``docs/gallery.md`` that shows them.

Run from the repository root after changing a schedule: ``python docs/gallery.py`` (needs matplotlib).
Each curve is labelled with the call that makes it, so the pictures double as examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import jax

import jaxsched as js
from jaxsched import schedules as s

DOCS = Path(__file__).resolve().parent


class Figure(NamedTuple):
    name: str
    title: str
    steps: int
    curves: dict[str, Any]


def labelled(*calls: str) -> dict[str, Any]:
    """``{call: schedule}``: the label is the source of the call, so it cannot drift from the curve."""
    namespace = {"s": s, "key": jax.random.key(0)}
    return {call: eval(call, namespace) for call in calls}  # the calls are the literals below


FIGURES = [
    Figure(
        "step",
        "Step-wise decays (StepLR, MultiStepLR, ConstantLR)",
        100,
        labelled(
            "s.step_decay(0.1, 30, gamma=0.5)",
            "s.multistep_decay(0.1, [20, 50, 80], gamma=0.3)",
            "s.piecewise_constant([24], [0.1 * 0.5, 0.1])",
        ),
    ),
    Figure(
        "exponential",
        "Exponential, inverse-time and natural-exp decays",
        100,
        labelled(
            "s.exponential_decay(0.1, 0.96)",
            "s.exponential_decay(0.1, 0.5, 20, staircase=True)",
            "s.exponential_decay(0.1, 0.9, end_value=0.02)",
            "s.inverse_time_decay(0.1, 0.5, decay_steps=10)",
            "s.natural_exp_decay(0.1, 0.5, decay_steps=20)",
        ),
    ),
    Figure(
        "polynomial",
        "Linear, polynomial and inverse-sqrt decays",
        120,
        labelled(
            "s.linear(0.1, 0.01, 80)",
            "s.polynomial_decay(0.1, 100, power=2.0)",
            "s.polynomial_decay(0.1, 40, 0.01, cycle=True)",
            "s.inverse_sqrt_decay(0.1)",
        ),
    ),
    Figure(
        "cosine_annealing",
        "CosineAnnealingLR and CosineAnnealingWarmRestarts",
        200,
        labelled(
            "s.cosine_annealing(0.1, 80, eta_min=0.01)",
            "s.cosine_annealing_warm_restarts(0.1, 20, t_mult=2)",
        ),
    ),
    Figure(
        "cosine_decay",
        "TensorFlow's cosine decays",
        200,
        labelled(
            "s.cosine_decay(0.1, 150, alpha=0.1)",
            "s.cosine_decay_restarts(0.1, 30, 2.0, 0.8)",
            "s.linear_cosine_decay(0.1, 150, num_periods=3)",
            "s.noisy_linear_cosine_decay(0.1, 150, key, 0.01)",
        ),
    ),
    Figure(
        "cyclic",
        "CyclicLR modes",
        400,
        labelled(
            "s.cyclic(0.01, 0.1, 50)",
            "s.cyclic(0.01, 0.1, 50, mode='triangular2')",
            "s.cyclic(0.01, 0.1, 50, mode='exp_range', gamma=0.995)",
        ),
    ),
    Figure(
        "one_cycle",
        "OneCycleLR",
        300,
        labelled(
            "s.one_cycle(0.1, 300)",
            "s.one_cycle(0.1, 300, anneal_strategy='linear')",
            "s.one_cycle(0.1, 300, three_phase=True)",
        ),
    ),
    Figure(
        "momentum",
        "Momentum schedules (cycled against the learning rate)",
        300,
        labelled(
            "s.one_cycle_momentum(300)",
            "s.cyclic_momentum(0.8, 0.9, step_size_up=50)",
        ),
    ),
    Figure(
        "warmup",
        "Warmup and joined schedules",
        300,
        labelled(
            "s.warmup(s.cosine_decay(0.1, 250), 50)",
            "s.warmup(s.constant(0.1), 30, start_value=0.02)",
            "s.join([s.constant(0.1), s.cosine_decay(0.1, 150)], [150])",
        ),
    ),
    Figure(
        "combinators",
        "product, per_epoch and piecewise_linear",
        200,
        labelled(
            "s.product(s.linear(1.0, 0.2, 200), s.cyclic(0.02, 0.1, 20))",
            "s.per_epoch(s.step_decay(0.1, 3, gamma=0.5), 25)",
            "s.piecewise_linear([0, 50, 200], [0.0, 0.1, 0.0])",
        ),
    ),
    Figure(
        "functional",
        "LambdaLR and MultiplicativeLR",
        100,
        labelled(
            "s.lambda_lr(0.1, lambda step: 1.0 / (1.0 + 0.05 * step))",
            "s.multiplicative(0.1, lambda step: 0.97)",
        ),
    ),
]


def main() -> None:
    gallery = DOCS / "gallery"
    gallery.mkdir(exist_ok=True)
    page = [
        "# Schedules gallery",
        "",
        "Every schedule in `jaxsched.schedules`, drawn with `js.plot` by `docs/gallery.py`",
        "(`s` is `jaxsched.schedules`, `key` is `jax.random.key(0)`). The legend under each plot is the call that draws the curve.",
        "",
    ]
    for figure in FIGURES:
        js.plot(figure.curves, figure.steps, path=str(gallery / f"{figure.name}.png"), title=figure.title)
        page += [f"## {figure.title}", "", f"![{figure.title}](gallery/{figure.name}.png)", ""]
    (DOCS / "gallery.md").write_text("\n".join(page))


if __name__ == "__main__":
    main()
