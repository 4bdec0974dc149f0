"""The parity harness: one problem, a jaxsched runner and a torch runner, stored golden values.

A :class:`ParityCase` names only jaxsched's arguments; torch's are derived from them (see
:func:`torch_kwargs`). ``python tests/golden/generate.py`` runs the torch side of every case in
``tests/optim_db.py`` and stores the trajectories in ``tests/golden/optimizers.npz``; tests compare
jaxsched against that file always, and against live torch too when torch is installed. Gradients
come from one numpy formula on both sides, so they are bit-identical for equal params.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

GOLDEN = pathlib.Path(__file__).parent / "golden" / "optimizers.npz"
HAS_TORCH = importlib.util.find_spec("torch") is not None
STEPS = 30
RTOL = 1e-10
ATOL = 1e-12
# jaxsched argument name -> torch's, where they differ.
TORCH_NAMES = {"learning_rate": "lr"}

_rng = np.random.RandomState(0)
# A multi-leaf "model": matrix, vector, scalar and a nested leaf (order = sorted names).
PARAMS0 = {
    "a_matrix": _rng.randn(4, 3),
    "b_vector": _rng.randn(5),
    "c_scalar": np.array(0.7),
    "d_nested": _rng.randn(2, 2, 2),
}
_TARGET = {k: _rng.randn(*v.shape) for k, v in PARAMS0.items()}
_NOISE = {k: _rng.randn(64, *v.shape) for k, v in PARAMS0.items()}
# The leaves of a case's ``second_group`` (a second torch param group, a js.partition label).
SECOND_GROUP = ("c_scalar", "d_nested")


def grads_at(params: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
    """Gradient of a non-convex polynomial loss plus per-step noise (numpy float64)."""
    return {
        k: 0.8 * (p - _TARGET[k]) + 0.1 * p * p * p + 0.3 * _NOISE[k][step % 64]
        for k, p in ((k, np.asarray(v, np.float64)) for k, v in params.items())
    }


def flatten(params: dict[str, Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(params[k], np.float64)) for k in sorted(params)])


def is_scheduled(value: Any) -> bool:
    """A schedule is a callable of the step; a pair (``betas``, ``etas``) may schedule either member."""
    return callable(value) or (isinstance(value, tuple) and any(map(callable, value)))


def value_at(value: Any, step: int) -> Any:
    """An argument's value at ``step``: schedules evaluated, constants as they are."""
    if callable(value):
        return float(value(step))
    if isinstance(value, tuple):
        return tuple(value_at(member, step) for member in value)
    return value


def torch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """torch's constructor arguments for jaxsched's: renamed, and each schedule's value at step 0."""
    return {TORCH_NAMES.get(name, name): value_at(value, 0) for name, value in kwargs.items()}


class ScheduledGroups:
    """torch's side of schedules that no torch scheduler drives: every group's value set each epoch.

    torch has no built-in scheduler for hyperparameters such as ``betas``; users assign
    ``param_groups[i][key]`` between steps, which is what this does on each ``step()`` (and for
    epoch 0 at once).
    """

    def __init__(self, optimizer, scheduled: dict[str, Any]):
        self.optimizer, self.scheduled, self.epoch = optimizer, scheduled, 0
        self.apply()

    def step(self):
        self.epoch += 1
        self.apply()

    def apply(self):
        values = {TORCH_NAMES.get(name, name): value_at(value, self.epoch) for name, value in self.scheduled.items()}
        for group in self.optimizer.param_groups:
            group.update(values)


def follow_schedules(optimizer, kwargs: dict[str, Any]) -> ScheduledGroups | None:
    """Assign the schedules among ``kwargs`` to ``optimizer``'s param groups each epoch (None if there are none)."""
    scheduled = {name: value for name, value in kwargs.items() if is_scheduled(value)}
    return ScheduledGroups(optimizer, scheduled) if scheduled else None


def torch_scheduler(name: str, *args, **kwargs) -> Callable[[Any], Any]:
    """``optimizer -> torch.optim.lr_scheduler.<name>(optimizer, *args, **kwargs)``, importing torch lazily."""

    def make(optimizer):
        import torch

        return getattr(torch.optim.lr_scheduler, name)(optimizer, *args, **kwargs)

    return make


@dataclasses.dataclass(frozen=True)
class ParityCase:
    """One parity case: jaxsched's keyword arguments, from which torch's are derived.

    ``kwargs`` may hold schedules (callables of the step, or pairs with one). torch starts from
    their values at step 0 and follows them with ``torch_scheduler`` (e.g. ``StepLR``) when the
    case names one, which then drives every schedule of the case; otherwise each scheduled value
    is assigned to torch's param groups every step (:class:`ScheduledGroups`).
    ``second_group`` overrides arguments for the leaves ``second_group_keys`` (a second torch
    param group; ``js.partition`` on the jaxsched side, or ``make_jax_groups()`` when the case builds
    its groups itself, e.g. with ``js.param_groups``). ``grad_mask(step)`` zeroes gradient
    entries; ``jax_grads``/``torch_grads`` convert each gradient leaf into what the optimizer
    receives (e.g. a BCOO for jaxsched or ``tensor.to_sparse()`` for SparseAdam).
    ``make`` and ``torch_optimizer`` come from the case's entry in ``tests/optim_db.py``.
    ``rtol`` loosens the comparison for a case whose reference itself rounds (the case says why).
    """

    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    torch_scheduler: Callable[[Any], Any] | None = None
    second_group: dict[str, Any] | None = None
    grad_mask: Callable[[int], dict] | None = None
    jax_grads: Callable[[Any], Any] | None = None
    torch_grads: Callable[[Any], Any] | None = None
    steps: int = STEPS
    make: Callable[..., Any] | None = None
    torch_optimizer: str | None = None
    second_group_keys: tuple[str, ...] = SECOND_GROUP
    make_jax_groups: Callable[[], Any] | None = None
    rtol: float = RTOL

    def make_jax(self):
        import jaxsched as js

        if self.make_jax_groups is not None:  # e.g. js.param_groups, which builds the groups itself
            return self.make_jax_groups()
        if self.second_group is None:
            return self.make(**self.kwargs)
        labels = js.label_by_path(dict.fromkeys(self.second_group_keys, "second"), default="first")
        groups = {"first": self.make(**self.kwargs), "second": self.make(**{**self.kwargs, **self.second_group})}
        return js.partition(groups, labels)

    def torch_param_groups(self, tensors: dict[str, Any]) -> list:
        if self.second_group is None:
            return [tensors[k] for k in sorted(tensors)]
        first = [tensors[k] for k in sorted(tensors) if k not in self.second_group_keys]
        second = [tensors[k] for k in self.second_group_keys]
        return [{"params": first}, {"params": second, **torch_kwargs(self.second_group)}]

    def make_torch_scheduler(self, optimizer):
        if self.torch_scheduler is not None:
            return self.torch_scheduler(optimizer)
        values = [*self.kwargs.values(), *(self.second_group or {}).values()]
        if self.second_group is not None and any(map(is_scheduled, values)):
            raise ValueError("schedules with a second param group need a named torch_scheduler")
        return follow_schedules(optimizer, self.kwargs)


def masked_grads(case: ParityCase, params, step):
    grads = grads_at(params, step)
    if case.grad_mask is not None:
        grads = {k: g * case.grad_mask(step)[k] for k, g in grads.items()}
    return grads


def jitted_step(tx) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """``(params, state, grads) -> (params, state)``: one jitted ``tx.update`` and ``apply_updates``."""
    import jaxsched as js

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    return step


def run_jax(case: ParityCase, wrap: Callable[[Any], Any] = lambda tx: tx) -> np.ndarray:
    """Trajectory of flattened params (steps + 1 rows) under jaxsched (``wrap(optimizer)``), in float64."""

    with jax.enable_x64(True):
        tx = wrap(case.make_jax())
        params = {k: jnp.asarray(v, jnp.float64) for k, v in PARAMS0.items()}
        state = tx.init(params)
        step_fn = jitted_step(tx)
        rows = [flatten(params)]
        for step in range(case.steps):
            grads = {k: (case.jax_grads or jnp.asarray)(g) for k, g in masked_grads(case, params, step).items()}
            params, state = step_fn(params, state, grads)
            rows.append(flatten(params))
    return np.stack(rows)


def reference_package(torch_optimizer: str) -> str:
    """The package holding ``torch_optimizer``: ``torch`` for a ``torch.optim`` class name, else ``"package.Class"``'s."""
    return torch_optimizer.split(".")[0] if "." in torch_optimizer else "torch"


def has_reference(torch_optimizer: str) -> bool:
    """torch and the package of ``torch_optimizer`` are installed (golden values are checked without them)."""
    return HAS_TORCH and importlib.util.find_spec(reference_package(torch_optimizer)) is not None


def optimizer_class_of(torch_optimizer: str):
    """``torch.optim.<name>``, or ``package.Class`` for a reference package's optimizer (``"lion_pytorch.Lion"``)."""
    import importlib

    import torch

    if "." not in torch_optimizer:
        return getattr(torch.optim, torch_optimizer)
    module_name, class_name = torch_optimizer.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), class_name)


def torch_step(case: ParityCase, optimizer, tensors: dict[str, Any], scheduler, step: int) -> None:
    """One torch step of ``case``: the gradients at the current ``tensors``, ``optimizer.step()``, the scheduler."""
    import torch

    grads = masked_grads(case, {k: t.detach().numpy() for k, t in tensors.items()}, step)
    for k, t in tensors.items():
        t.grad = (case.torch_grads or (lambda x: x))(torch.from_numpy(np.array(grads[k], np.float64)))
    optimizer.step()
    if scheduler is not None:
        scheduler.step()


def run_torch(case: ParityCase) -> np.ndarray:
    """Trajectory of flattened params under the matching torch (or reference package) optimizer, in float64."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # ASGD/NAdam keep internal scalars in the default dtype
    try:
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in PARAMS0.items()}
        optimizer_class = optimizer_class_of(case.torch_optimizer)
        optimizer = optimizer_class(case.torch_param_groups(tensors), **torch_kwargs(case.kwargs))
        scheduler = case.make_torch_scheduler(optimizer)
        rows = [flatten({k: t.detach().numpy() for k, t in tensors.items()})]
        for step in range(case.steps):
            torch_step(case, optimizer, tensors, scheduler, step)
            rows.append(flatten({k: t.detach().numpy() for k, t in tensors.items()}))
    finally:
        torch.set_default_dtype(previous)
    return np.stack(rows)


def golden(name: str) -> np.ndarray:
    with np.load(GOLDEN) as data:
        if name not in data:
            raise KeyError(f"no golden trajectory {name!r}: run `python tests/golden/generate.py`")
        return data[name]


def assert_trajectories_close(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float = RTOL) -> None:
    assert actual.shape == expected.shape, f"{what}: shapes {actual.shape} vs {expected.shape}"
    for step, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=ATOL, err_msg=f"{what}: differs at step {step}")
