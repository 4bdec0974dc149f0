"""Pictures and tables of schedules (matplotlib is the optional ``plot`` extra)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

Schedules = Callable[[Any], Any] | Sequence[Callable[[Any], Any]] | Mapping[str, Callable[[Any], Any]]
MAX_STEPS = 10_000_000


def _labelled(schedules: Schedules, labels: Sequence[str] | None) -> dict[str, Callable[[Any], Any]]:
    if callable(schedules):
        schedules = [schedules]
    if isinstance(schedules, Mapping):
        return dict(schedules)
    schedules = list(schedules)
    labels = list(labels) if labels is not None else [f"schedule {i}" for i in range(len(schedules))]
    if len(labels) != len(schedules):
        raise ValueError(f"labels has {len(labels)} entries for {len(schedules)} schedules")
    return dict(zip(labels, schedules))


def _check_steps(steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in [1, {MAX_STEPS}], got {steps!r}")


def schedule_values(schedules: Schedules, steps: int, labels: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``{label: values at steps 0..steps-1}``, evaluated vectorised."""
    _check_steps(steps)
    grid = jnp.arange(steps)
    return {label: np.asarray(fn(grid), np.float64) for label, fn in _labelled(schedules, labels).items()}


def plot(
    schedules: Schedules,
    steps: int,
    *,
    labels: Sequence[str] | None = None,
    path: str | None = None,
    title: str | None = None,
    log_scale: bool = False,
):
    """Draw one or several schedules over ``steps`` and optionally save a PNG to ``path``.

    Args:
      schedules: a schedule, a list of schedules, or ``{label: schedule}``.
      steps: number of steps to draw (0 .. steps-1).
      labels: legend labels for a list of schedules.
      path: where to save the figure (PNG); ``None`` only returns it.
      title: figure title.
      log_scale: logarithmic y axis.

    Returns the matplotlib ``Figure``.

    Example::

        js.plot({"warmup+cosine": js.schedules.warmup(js.schedules.cosine_decay(0.1, 900), 100)}, 1000,
                path="lr.png")
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("js.plot needs matplotlib: pip install 'jaxsched[plot]'") from error
    values = schedule_values(schedules, steps, labels)
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for label, ys in values.items():
        axis.plot(np.arange(steps), ys, label=label)
    axis.set_xlabel("step")
    axis.set_ylabel("value")
    if log_scale:
        axis.set_yscale("log")
    if title:
        axis.set_title(title)
    if len(values) > 1 or labels is not None or isinstance(schedules, Mapping):
        # below the axes, so long spec labels never cover the curves
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize="small", frameon=False)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    plt.close(figure)
    return figure


def format_table(values: Mapping[str, np.ndarray]) -> str:
    """A plain-text table: one row per step, one column per schedule."""
    labels = list(values)
    widths = [max(12, len(label)) for label in labels]
    lines = ["step  " + "  ".join(label.rjust(w) for label, w in zip(labels, widths))]
    for step in range(len(next(iter(values.values())))):
        lines.append(f"{step:<4d}  " + "  ".join(f"{values[label][step]:{w}.6g}" for label, w in zip(labels, widths)))
    return "\n".join(lines)
