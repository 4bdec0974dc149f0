"""ReduceLROnPlateau as an explicit, jittable state machine, and schedules under plateau control.

``torch.optim.lr_scheduler.ReduceLROnPlateau`` mutates the optimizer from Python. Here the
scheduler is a pure pair ``(init, update)`` over a :class:`PlateauState` NamedTuple that holds the
current learning rate(s), so it runs inside ``jax.jit``, ``jax.vmap`` and ``lax.scan``, checkpoints
like any other state, and drives any jaxsched optimizer through :func:`jaxsched.set_hyperparams`
(the learning rate lives in the optimizer state as an array, so changing it never recompiles)::

    plateau = js.reduce_on_plateau(patience=5)
    pstate = plateau.init(0.1)

    @jax.jit
    def train_step(params, opt_state, pstate, batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        pstate = plateau.update(pstate, loss)          # torch: scheduler.step(loss)
        opt_state = js.set_hyperparams(opt_state, learning_rate=pstate.lr)
        return js.apply_updates(params, updates), opt_state, pstate

:func:`schedule_with_plateau` goes beyond torch, whose ``SequentialLR`` cannot contain
``ReduceLROnPlateau`` (pytorch#68978): a warmup followed by plateau control, or any schedule
multiplied by a plateau-controlled factor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import STEP_DTYPE, PyTree, hyperparam_dtype, increment_step, record_components
from jaxsched.core._validation import check_choice, check_int, check_nonnegative, check_number
from jaxsched.schedules._step import check_step_count

_COUNTER_MAX = int(jnp.iinfo(STEP_DTYPE).max)
# A learning rate that is still being reduced after this many reductions (a factor very close to 1
# with eps = 0) gets its eps test in the state's precision instead of a precomputed count.
_MAX_COUNTED_REDUCTIONS = 1_000_000
_UNCOUNTED = -1


def _torch_reductions(lr: float, floor: float, factor: float, eps: float) -> int:
    """How many reductions torch's ``_reduce_lr`` applies to ``lr`` before it refuses one, in float64."""
    for count in range(_MAX_COUNTED_REDUCTIONS):
        new_lr = max(lr * factor, floor)
        if not lr - new_lr > eps:
            return count
        lr = new_lr
    return _UNCOUNTED


class PlateauState(NamedTuple):
    """State of :func:`reduce_on_plateau`; the fields mirror torch's scheduler attributes.

    Attributes:
      lr: the current learning rate(s), float arrays with the structure given to ``init``.
      best: best metric seen so far (``+inf`` in ``"min"`` mode, ``-inf`` in ``"max"`` before any).
      num_bad_epochs: consecutive metrics that were not better than ``best`` (int32).
      cooldown_counter: metrics left during which bad epochs are ignored after a reduction (int32).
      last_epoch: number of metrics seen (int32), torch's ``last_epoch``.
      reductions_left: per learning rate (the structure of ``lr``, int32), how many more reductions
        torch applies before its ``lr - new_lr > eps`` test first refuses one. ``init`` works it out
        in float64 as torch does, so the decision is torch's even when ``lr`` is float32 (where
        ``0.01 - 0.01 * 0.9 > 1e-3`` holds, although it does not in float64). ``-1`` when ``init``
        was given traced values (or torch would go on for more than a million reductions): the
        test is then evaluated in ``lr``'s own precision.
    """

    lr: PyTree
    best: jax.Array
    num_bad_epochs: jax.Array
    cooldown_counter: jax.Array
    last_epoch: jax.Array
    reductions_left: PyTree


class Plateau(NamedTuple):
    """The pure pair returned by :func:`reduce_on_plateau`.

    ``init(lr) -> PlateauState`` and ``update(state, metric) -> PlateauState``.
    """

    init: Callable[[PyTree], PlateauState]
    update: Callable[[PlateauState, Any], PlateauState]


def _is_structured(tree: Any) -> bool:
    return not jax.tree_util.treedef_is_leaf(jax.tree.structure(tree))


def _check_leaves_nonnegative(name: str, tree: Any) -> None:
    leaves = jax.tree.leaves_with_path(tree)
    if not leaves:
        raise ValueError(f"{name} must hold at least one value, got {tree!r}")
    for path, leaf in leaves:
        check_nonnegative(f"{name}{jax.tree_util.keystr(path)}", leaf, allow_schedule=False)


def reduce_on_plateau(
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float | PyTree = 0.0,
    eps: float = 1e-8,
) -> Plateau:
    """Reduce the learning rate when a metric stops improving, as pure jittable state.

    ``update(state, metric)`` makes exactly the decisions of torch's ``scheduler.step(metric)``::

        better  = metric < best * (1 - threshold)   (min, rel)    metric < best - threshold  (min, abs)
                  metric > best * (1 + threshold)   (max, rel)    metric > best + threshold  (max, abs)
        if better: best = metric; num_bad_epochs = 0  else: num_bad_epochs += 1
        if cooldown_counter > 0: cooldown_counter -= 1; num_bad_epochs = 0
        if num_bad_epochs > patience:
            each lr: new = max(lr * factor, min_lr); lr = new if lr - new > eps
            cooldown_counter = cooldown; num_bad_epochs = 0

    So with ``patience=p`` the lr drops on the (p+1)-th consecutive bad metric (optax's
    ``reduce_on_plateau`` drops on the p-th). A NaN metric is never better and counts as a bad
    epoch. ``best`` starts at ``+inf`` (min) or ``-inf`` (max), so the first finite metric is better.

    Torch's flaw, reproduced on purpose: in ``"rel"`` mode the bar is ``best * (1 -/+ threshold)``,
    which for a *negative* ``best`` lies on the worse side of ``best``. In ``"min"`` mode with
    ``best = -1`` and ``threshold = 0.1`` the bar is ``-0.9``: a worse metric ``-0.95`` counts as an
    improvement (and becomes ``best``), and a constant negative metric counts as improving forever,
    so the lr is never reduced. ``"max"`` mode has the mirror flaw. For metrics that can be negative
    use ``threshold_mode="abs"``.

    Decisions equal torch's exactly under ``jax_enable_x64`` (torch compares Python floats); in
    float32 they can differ only for metrics within float32 rounding of the threshold.

    PyTorch: ``torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode, factor, patience,
    threshold, threshold_mode, cooldown, min_lr, eps)``; optax: ``optax.contrib.reduce_on_plateau``
    (which reduces on the patience-th bad value and has no mode, threshold_mode, min_lr or eps).

    Args:
      mode: ``"min"`` (the metric should decrease, e.g. a loss) or ``"max"`` (e.g. an accuracy).
      factor: multiplier applied on a reduction, ``0 <= factor < 1``.
      patience: number of bad metrics tolerated before reducing, an integer >= 0.
      threshold: minimal improvement counted as one, >= 0 (relative or absolute, see ``threshold_mode``).
      threshold_mode: ``"rel"`` or ``"abs"``.
      cooldown: metrics to wait after a reduction before counting bad ones again, an integer >= 0.
      min_lr: lower bound on the learning rate(s), >= 0: a float for every group, or a structure
        matching the ``lr`` given to ``init`` (torch's per-group list), e.g. ``{"base": 1e-4, "head": 1e-5}``.
      eps: a reduction smaller than ``eps`` (``lr - new_lr <= eps``) is not applied, >= 0.

    Returns:
      A :class:`Plateau` ``(init, update)``; ``init(lr)`` takes a float or a pytree of floats (e.g.
      a dict keyed by :func:`jaxsched.partition` labels) and ``state.lr`` keeps that structure.

    Example::

        plateau = js.reduce_on_plateau(mode="min", factor=0.5, patience=2)
        pstate = plateau.init({"base": 0.1, "head": 0.01})
        for epoch in range(epochs):
            ...                                           # train with pstate.lr
            pstate = plateau.update(pstate, val_loss)     # torch: scheduler.step(val_loss)
            opt_state = js.set_hyperparams(opt_state, learning_rate=pstate.lr)
    """
    check_choice("mode", mode, ("min", "max"))
    check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
    check_number("factor", factor, low=0.0, high=1.0, high_inclusive=False, allow_schedule=False)
    patience = check_int("patience", patience, low=0)
    check_nonnegative("threshold", threshold, allow_schedule=False)
    cooldown = check_int("cooldown", cooldown, low=0)
    _check_leaves_nonnegative("min_lr", min_lr)
    check_nonnegative("eps", eps, allow_schedule=False)
    factor, threshold, eps = float(factor), float(threshold), float(eps)
    per_group_min_lr = _is_structured(min_lr)
    # Counters are int32 and saturate: a patience or cooldown beyond 2**31 - 1 metrics is never reached anyway.
    patience, cooldown = min(patience, _COUNTER_MAX), min(cooldown, _COUNTER_MAX)

    def is_better(metric, best):
        # The bars are computed as torch does (Python-float factor times best), so ties and the
        # negative-metric flaw come out identical.
        if mode == "min":
            return metric < (best * (1.0 - threshold) if threshold_mode == "rel" else best - threshold)
        return metric > (best * (1.0 + threshold) if threshold_mode == "rel" else best + threshold)

    def reduced(lr, floor, reductions_left, reduce):
        new_lr = jnp.maximum(lr * factor, floor).astype(lr.dtype)
        applied = reduce & jnp.where(reductions_left == _UNCOUNTED, lr - new_lr > eps, reductions_left > 0)
        return jnp.where(applied, new_lr, lr), jnp.where(
            applied & (reductions_left > 0), reductions_left - 1, reductions_left
        )

    def reductions_left(lr, floor):
        try:
            lr, floor = float(lr), float(floor)
        except jax.errors.ConcretizationTypeError:
            return jnp.asarray(_UNCOUNTED, STEP_DTYPE)
        return jnp.asarray(_torch_reductions(lr, floor, factor, eps), STEP_DTYPE)

    def floors_like(lr):
        return min_lr if per_group_min_lr else jax.tree.map(lambda _: min_lr, lr)

    def init(lr: PyTree) -> PlateauState:
        _check_leaves_nonnegative("lr", lr)
        if per_group_min_lr and jax.tree.structure(min_lr) != jax.tree.structure(lr):
            raise ValueError(
                f"min_lr must be a float or have the same structure as lr; min_lr has structure "
                f"{jax.tree.structure(min_lr)} but lr has {jax.tree.structure(lr)}"
            )
        dtype = hyperparam_dtype()
        zero = jnp.zeros([], STEP_DTYPE)
        return PlateauState(
            lr=jax.tree.map(lambda value: jnp.asarray(value, dtype), lr),
            best=jnp.asarray(math.inf if mode == "min" else -math.inf, dtype),
            num_bad_epochs=zero,
            cooldown_counter=zero,
            last_epoch=zero,
            reductions_left=jax.tree.map(reductions_left, lr, floors_like(lr)),
        )

    def update(state: PlateauState, metric: Any) -> PlateauState:
        if metric is None or isinstance(metric, (str, bytes)):
            raise TypeError(f"metric must be a real number (the monitored quantity), got {metric!r}")
        try:
            metric = jnp.asarray(metric, state.best.dtype)
        except OverflowError:  # a Python int beyond any float (torch's float(metric) fails alike)
            raise ValueError(f"metric must be a real number within the float range, got {metric!r}") from None
        if metric.ndim != 0:
            raise ValueError(
                f"metric must be a scalar, got shape {metric.shape}; vmap update over a batch of plateau states"
            )
        better = is_better(metric, state.best)
        best = jnp.where(better, metric, state.best)
        num_bad_epochs = jnp.where(better, 0, increment_step(state.num_bad_epochs))
        in_cooldown = state.cooldown_counter > 0
        cooldown_counter = jnp.where(in_cooldown, state.cooldown_counter - 1, state.cooldown_counter)
        num_bad_epochs = jnp.where(in_cooldown, 0, num_bad_epochs)
        reduce = num_bad_epochs > patience
        lr_and_left = jax.tree.map(
            lambda lr, floor, left: reduced(lr, floor, left, reduce),
            state.lr,
            floors_like(state.lr),
            state.reductions_left,
        )
        lr_structure = jax.tree.structure(state.lr)
        lr, left = jax.tree.transpose(lr_structure, jax.tree.structure((0, 0)), lr_and_left)
        return PlateauState(
            lr=lr,
            reductions_left=left,
            best=best,
            num_bad_epochs=jnp.where(reduce, 0, num_bad_epochs).astype(STEP_DTYPE),
            cooldown_counter=jnp.where(reduce, cooldown, cooldown_counter).astype(STEP_DTYPE),
            last_epoch=increment_step(state.last_epoch),
        )

    settings = dict(
        mode=mode,
        factor=factor,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_lr=min_lr,
        eps=eps,
    )
    return record_components(Plateau(init, update), **settings)


class PlateauSchedule(NamedTuple):
    """The triple returned by :func:`schedule_with_plateau`.

    ``init(value=1.0) -> PlateauState``, ``update(state, metric, step) -> PlateauState`` and
    ``lr(state, step) -> learning rate(s)`` (the structure of ``value``).
    """

    init: Callable[..., PlateauState]
    update: Callable[[PlateauState, Any, Any], PlateauState]
    lr: Callable[[PlateauState, Any], PyTree]


def schedule_with_plateau(schedule: Any, plateau: Plateau, start_step: int = 0) -> PlateauSchedule:
    """A schedule multiplied by a plateau-controlled value, the plateau counting from ``start_step``.

    Semantics, with ``s`` the step (or epoch) index of the training loop::

        lr(state, s)             = schedule(s) * state.lr       (leaf by leaf for per-group values)
        update(state, metric, s) = plateau.update(state, metric)  if s >= start_step
                                   state (unchanged)               otherwise

    ``state.lr`` is the plateau-controlled value given to ``init``; ``min_lr`` and ``eps`` of the
    plateau bound *that value*, not the product. Metrics passed with ``s < start_step`` are ignored
    entirely (``best``, the counters and ``last_epoch`` do not move), so the plateau starts counting
    at the first metric reported at step ``start_step`` or later, exactly as if torch's
    ``ReduceLROnPlateau`` received its first ``step(metric)`` there. Pass the step at which the
    metric was measured, i.e. the step whose learning rate produced it.

    Two recipes (torch cannot express either: ``SequentialLR`` rejects ``ReduceLROnPlateau``,
    pytorch#68978):

    * **Warmup, then plateau control** (torch's ``SequentialLR([LinearLR(...), ReduceLROnPlateau(...)])``
      if it worked): ``schedule`` is a warmup *factor* that reaches 1 at ``start_step`` and stays
      there, and ``init(base_lr)``. After the warmup ``lr == state.lr`` is exactly torch's plateau lr,
      and ``min_lr`` bounds the learning rate::

          ramp = js.schedules.linear(0.0, 1.0, warmup_steps)      # or lambda s: jnp.minimum(s / w, 1.0)
          ctrl = js.schedule_with_plateau(ramp, js.reduce_on_plateau(patience=3), start_step=warmup_steps)
          cstate = ctrl.init(0.1)                                 # the lr after warmup

    * **Schedule times a plateau factor**: ``schedule`` gives learning rates and ``init()`` starts a
      factor at 1.0 that the plateau multiplies by ``factor`` on each plateau; ``min_lr`` then
      bounds the *factor* (``lr >= schedule(s) * min_lr``)::

          ctrl = js.schedule_with_plateau(js.schedules.cosine_decay(0.1, 10_000), js.reduce_on_plateau(factor=0.5))
          cstate = ctrl.init()                                    # factor 1.0

    Args:
      schedule: a function ``step -> value`` (jittable), applied to every group, or a pytree of
        such functions with the structure of the ``value`` given to ``init`` (one per group).
      plateau: a :func:`reduce_on_plateau` pair.
      start_step: first step whose metric the plateau counts, an integer >= 0.

    Returns:
      A :class:`PlateauSchedule` ``(init, update, lr)``; all three are pure and jittable.

    Example::

        @jax.jit
        def train_step(params, opt_state, cstate, step, batch):
            opt_state = js.set_hyperparams(opt_state, learning_rate=ctrl.lr(cstate, step))
            loss, grads = jax.value_and_grad(loss_fn)(params, batch)
            updates, opt_state = tx.update(grads, opt_state, params)
            cstate = ctrl.update(cstate, loss, step)
            return js.apply_updates(params, updates), opt_state, cstate
    """
    schedule_leaves = jax.tree.leaves(schedule, is_leaf=callable)
    if not schedule_leaves or not all(callable(f) for f in schedule_leaves):
        raise TypeError(f"schedule must be a function step -> value or a pytree of such functions, got {schedule!r}")
    if not isinstance(plateau, Plateau):
        raise TypeError(f"plateau must be the result of js.reduce_on_plateau(...), got {plateau!r}")
    start_step = check_step_count("start_step", start_step, low=0)
    per_group_schedule = not callable(schedule)

    def init(value: PyTree = 1.0) -> PlateauState:
        state = plateau.init(value)
        schedule_structure = jax.tree.structure(schedule, is_leaf=callable)
        if per_group_schedule and schedule_structure != jax.tree.structure(value):
            raise ValueError(
                f"schedule must be one function or have the same structure as the initial value; schedule has "
                f"structure {schedule_structure} but the value has {jax.tree.structure(value)}"
            )
        return state

    def update(state: PlateauState, metric: Any, step: Any) -> PlateauState:
        counted = jnp.asarray(step) >= start_step
        stepped = plateau.update(state, metric)
        return jax.tree.map(lambda new, old: jnp.where(counted, new, old), stepped, state)

    def scaled(fn, value, step):
        return (fn(step) * value).astype(value.dtype)

    def lr(state: PlateauState, step: Any) -> PyTree:
        if per_group_schedule:
            return jax.tree.map(lambda fn, value: scaled(fn, value, step), schedule, state.lr, is_leaf=callable)
        return jax.tree.map(lambda value: scaled(schedule, value, step), state.lr)

    return PlateauSchedule(init, update, lr)
