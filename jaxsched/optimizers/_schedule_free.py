"""Schedule-free SGD and AdamW (``schedulefree.SGDScheduleFree``, ``schedulefree.AdamWScheduleFree``).

The reference keeps three sequences: ``z`` (the SGD/Adam iterate), ``x`` (its weighted average, for
evaluation) and ``y = (1 - beta1) z + beta1 x`` (where gradients are taken). In train mode its
parameters are ``y``; ``.eval()`` turns them into ``x``. jaxsched's parameters are always ``y``, the
train-mode parameters, and :func:`schedule_free_eval_params` computes ``x`` from them and ``z``.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    GradientTransformation,
    OptState,
    PyTree,
    ScalarOrSchedule,
    check_has_params,
    hyperparam_dtype,
    increment_step,
    state_dtype,
    torch_lerp,
    tree_zeros_state,
    zero_step,
)
from jaxsched.core._hyperparams import HyperparamsState, _unwrap
from jaxsched.core._validation import check_int, check_nonnegative, check_number, check_pair, check_unit_interval
from jaxsched.optimizers._adam import bias_correction, step_count, update_second_moment
from jaxsched.optimizers._compose import torch_optimizer


class ScheduleFreeState(NamedTuple):
    """State of :func:`schedule_free_sgd` and :func:`schedule_free_adamw` (``state.inner_state``).

    Attributes:
      k: updates made so far (the reference's ``group['k']``).
      z: the base iterate ``z``, one array per parameter (``state[p]['z']``).
      exp_avg_sq: AdamW's second moment ``v`` (``state[p]['exp_avg_sq']``); ``None`` for SGD.
      lr_max: largest scheduled learning rate so far, -1 before the first update (``group['lr_max']``).
      weight_sum: sum of the averaging weights so far (``group['weight_sum']``).
      scheduled_lr: the last update's learning rate after warmup (``group['scheduled_lr']``).
    """

    k: jax.Array
    z: PyTree
    exp_avg_sq: PyTree | None
    lr_max: jax.Array
    weight_sum: jax.Array
    scheduled_lr: jax.Array


def _init_state(params: PyTree, with_second_moment: bool) -> ScheduleFreeState:
    dtype = hyperparam_dtype()
    return ScheduleFreeState(
        k=zero_step(),
        z=jax.tree.map(lambda p: jnp.asarray(p, state_dtype(p)), params),
        exp_avg_sq=tree_zeros_state(params) if with_second_moment else None,
        lr_max=jnp.asarray(-1.0, dtype),
        weight_sum=jnp.zeros([], dtype),
        scheduled_lr=jnp.zeros([], dtype),
    )


def _schedule_free_step(
    state, params, directions, exp_avg_sq, *, learning_rate, beta1, warmup_steps, r, weight_lr_power
):
    """The step both variants share: warmup, the averaging weight ``ckp1``, then ``y`` and ``z`` move."""
    k = state.k.astype(state.lr_max.dtype)
    sched = jnp.where(k < warmup_steps, (k + 1) / warmup_steps, 1.0)
    lr = learning_rate * sched
    lr_max = jnp.maximum(lr, state.lr_max)
    weight = ((k + 1) ** r) * (lr_max**weight_lr_power)
    weight_sum = state.weight_sum + weight
    # the reference catches the ZeroDivisionError of an all-zero learning rate history
    ckp1 = jnp.where(weight_sum == 0, 0.0, weight / jnp.where(weight_sum == 0, 1.0, weight_sum))

    def move_y(y, z, direction):
        y = jnp.asarray(y, z.dtype)
        return torch_lerp(y, z, ckp1) + lr * (beta1 * (1 - ckp1) - 1) * direction - y

    updates = jax.tree.map(move_y, params, state.z, directions)
    z = jax.tree.map(lambda z, direction: z - lr * direction, state.z, directions)
    dtype = state.lr_max.dtype
    new_state = ScheduleFreeState(
        increment_step(state.k), z, exp_avg_sq, lr_max.astype(dtype), weight_sum.astype(dtype), lr.astype(dtype)
    )
    return updates, new_state


def scale_by_schedule_free_sgd(*, learning_rate, momentum, warmup_steps, r, weight_lr_power) -> GradientTransformation:
    """Schedule-free SGD's whole step, learning rate included (the update is ``y_new - y``).

    ``g`` arrives with the L2 weight decay already added. Raw block: arguments are numbers or arrays.
    """

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "schedule_free_sgd")
        directions = jax.tree.map(lambda g, z: jnp.asarray(g, z.dtype), updates, state.z)
        return _schedule_free_step(
            state, params, directions, None, learning_rate=learning_rate, beta1=momentum,
            warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
        )  # fmt: skip

    return GradientTransformation(functools.partial(_init_state, with_second_moment=False), update)


def scale_by_schedule_free_adamw(
    *, learning_rate, betas, eps, weight_decay, warmup_steps, r, weight_lr_power
) -> GradientTransformation:
    """Schedule-free AdamW's whole step, learning rate and weight decay included (the update is ``y_new - y``).

    Raw block: arguments are numbers or arrays.
    """
    beta1, beta2 = betas

    def update(updates, state, params=None, **extra_args):
        del extra_args
        check_has_params(params, "schedule_free_adamw")
        exp_avg_sq = update_second_moment(updates, state.exp_avg_sq, beta2)
        correction2 = bias_correction(beta2, step_count(state.k))

        def direction(g, v, y):
            # the decay is taken at y and added after the normalisation, as the reference does
            return jnp.asarray(g, v.dtype) / (jnp.sqrt(v / correction2) + eps) + weight_decay * jnp.asarray(y, v.dtype)

        directions = jax.tree.map(direction, updates, exp_avg_sq, params)
        return _schedule_free_step(
            state, params, directions, exp_avg_sq, learning_rate=learning_rate, beta1=beta1,
            warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
        )  # fmt: skip

    return GradientTransformation(functools.partial(_init_state, with_second_moment=True), update)


def _check_schedule_free_args(learning_rate, weight_decay, warmup_steps, r, weight_lr_power) -> None:
    check_nonnegative("learning_rate", learning_rate)
    check_nonnegative("weight_decay", weight_decay)
    check_int("warmup_steps", warmup_steps, low=0)
    check_nonnegative("r", r)
    check_nonnegative("weight_lr_power", weight_lr_power)


def _check_averaging_coefficient(name: str, value: Any) -> None:
    """``0 < value < 1``: ``.eval()`` divides by it, and 1 would leave ``y`` at the average."""
    check_number(name, value, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)


def schedule_free_sgd(
    learning_rate: ScalarOrSchedule = 1.0,
    momentum: ScalarOrSchedule = 0.9,
    weight_decay: ScalarOrSchedule = 0.0,
    warmup_steps: int = 0,
    r: ScalarOrSchedule = 0.0,
    weight_lr_power: ScalarOrSchedule = 2.0,
) -> GradientTransformation:
    """Schedule-free SGD, exactly ``schedulefree.SGDScheduleFree`` (schedulefree 1.4.1) in train mode.

    The parameters are the reference's train-mode parameters ``y``; :func:`schedule_free_eval_params`
    gives its eval-mode ones ``x``. With ``g`` the gradient plus ``weight_decay * y`` (L2), at update
    ``k = 0, 1, ...``::

        lr      = learning_rate * min(1, (k + 1) / warmup_steps)
        lr_max  = max(lr_max, lr)
        weight  = (k + 1)^r * lr_max^weight_lr_power;   weight_sum += weight
        ckp1    = weight / weight_sum                    (0 while weight_sum is 0)
        y = lerp(y, z, ckp1) + lr (momentum (1 - ckp1) - 1) g
        z = z - lr g
        x = lerp(y, z, 1 - 1 / momentum)                 (schedule_free_eval_params)

    Reference: ``schedulefree.SGDScheduleFree(params, lr, momentum, weight_decay, warmup_steps, r,
    weight_lr_power)`` between ``optimizer.train()`` and ``optimizer.eval()``. Its ``foreach`` changes
    no number. Optax: ``optax.contrib.schedule_free_sgd`` (parameters ``y`` too; the same numbers
    without warmup, but its warmup starts from 0 where the reference starts at ``learning_rate /
    warmup_steps``, and it has no ``r``).

    Args:
      learning_rate: peak step size >= 0, a float or a schedule ``step -> value`` (the reference reads
        ``group['lr']`` at every step, so a changed value counts towards ``lr_max`` from then on).
      momentum: interpolation ``beta`` between ``z`` and ``x``, in ``(0, 1)``.
      weight_decay: L2 penalty >= 0 added to the gradient at ``y``. A literal 0 leaves the term out; it
        can then not be changed with ``set_hyperparams``.
      warmup_steps: updates of linear warmup, an integer >= 0.
      r: power of the polynomial weighting of the average, >= 0.
      weight_lr_power: power of ``lr_max`` in the averaging weights, >= 0.

    Example::

        tx = js.schedule_free_sgd(1.0, warmup_steps=100)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
        eval_params = js.schedule_free_eval_params(state, params)
    """
    _check_schedule_free_args(learning_rate, weight_decay, warmup_steps, r, weight_lr_power)
    _check_averaging_coefficient("momentum", momentum)
    return torch_optimizer(
        scale_by_schedule_free_sgd,
        dict(learning_rate=learning_rate, momentum=momentum, weight_decay=weight_decay,
             warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power),
        supports_complex=False,
    )  # fmt: skip


def schedule_free_adamw(
    learning_rate: ScalarOrSchedule = 0.0025,
    betas: tuple[ScalarOrSchedule, ScalarOrSchedule] = (0.9, 0.999),
    eps: ScalarOrSchedule = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    warmup_steps: int = 0,
    r: ScalarOrSchedule = 0.0,
    weight_lr_power: ScalarOrSchedule = 2.0,
) -> GradientTransformation:
    """Schedule-free AdamW, exactly ``schedulefree.AdamWScheduleFree`` (schedulefree 1.4.1) in train mode.

    The parameters are the reference's train-mode parameters ``y``; :func:`schedule_free_eval_params`
    gives its eval-mode ones ``x``. With ``g`` the gradient, ``lr`` and ``ckp1`` as in
    :func:`schedule_free_sgd`, at update ``k = 0, 1, ...``::

        v = beta2 v + (1 - beta2) g^2
        d = g / (sqrt(v / (1 - beta2^(k+1))) + eps) + weight_decay * y
        y = lerp(y, z, ckp1) + lr (beta1 (1 - ckp1) - 1) d
        z = z - lr d
        x = lerp(y, z, 1 - 1 / beta1)                    (schedule_free_eval_params)

    Reference: ``schedulefree.AdamWScheduleFree(params, lr, betas, eps, weight_decay, warmup_steps, r,
    weight_lr_power)`` between ``optimizer.train()`` and ``optimizer.eval()``. Its ``foreach`` changes
    no number. Optax: ``optax.contrib.schedule_free_adamw`` (as :func:`schedule_free_sgd`: equal
    without warmup, different with it, no ``r``).

    Args:
      learning_rate: peak step size >= 0, a float or a schedule ``step -> value``.
      betas: ``(beta1, beta2)``: ``beta1`` interpolates between ``z`` and ``x``, in ``(0, 1)``;
        ``beta2`` in ``[0, 1)``.
      eps: added to the denominator, >= 0.
      weight_decay: decay rate >= 0, taken at ``y`` and added to the normalised gradient.
      warmup_steps: updates of linear warmup, an integer >= 0.
      r: power of the polynomial weighting of the average, >= 0.
      weight_lr_power: power of ``lr_max`` in the averaging weights, >= 0.

    Example::

        tx = js.schedule_free_adamw(0.0025, warmup_steps=1000, weight_decay=0.01)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
        eval_params = js.schedule_free_eval_params(state, params)
    """
    _check_schedule_free_args(learning_rate, weight_decay, warmup_steps, r, weight_lr_power)
    beta1, beta2 = check_pair("betas", betas)
    _check_averaging_coefficient("betas[0]", beta1)
    check_unit_interval("betas[1]", beta2)
    check_nonnegative("eps", eps)
    return torch_optimizer(
        scale_by_schedule_free_adamw,
        dict(learning_rate=learning_rate, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
             warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power),
        off_when_zero=(),
        supports_complex=False,
    )  # fmt: skip


def _is_schedule_free(node: Any) -> bool:
    return isinstance(node, HyperparamsState) and isinstance(node.inner_state, ScheduleFreeState)


def _to_average(z, y, *, beta1):
    """The reference's ``.eval()`` of one parameter ``y`` (unchanged where no state covers it: ``z`` is None)."""
    if z is None:
        return y
    return torch_lerp(jnp.asarray(y, z.dtype), z, 1 - 1 / beta1).astype(jnp.asarray(y).dtype)


def schedule_free_eval_params(state: OptState, params: PyTree) -> PyTree:
    """The parameters to evaluate with: the reference's parameters after ``optimizer.eval()``.

    ``x = lerp(y, z, 1 - 1 / beta1)`` for the train-mode parameters ``y`` (what jaxsched updates),
    with ``beta1`` the current ``momentum`` or ``betas[0]``. Finds the schedule-free states anywhere
    in ``state``: bare, or inside ``chain``, ``masked`` or ``partition`` states; parameters that no
    schedule-free state covers are returned unchanged. Returns arrays in the parameters' dtypes.

    Raises ``ValueError`` if ``state`` holds no schedule-free state.

    Example::

        eval_loss = loss_fn(js.schedule_free_eval_params(opt_state, params), batch)
    """
    nodes = [node for node in jax.tree.leaves(state, is_leaf=_is_schedule_free) if _is_schedule_free(node)]
    if not nodes:
        raise ValueError(
            "schedule_free_eval_params: this state holds no schedule-free state; "
            "pass the state of js.schedule_free_sgd(...) or js.schedule_free_adamw(...)"
        )
    for node in nodes:
        hyperparams = node.hyperparams
        beta1 = _unwrap(hyperparams["momentum"]) if "momentum" in hyperparams else _unwrap(hyperparams["betas"])[0]
        to_average = functools.partial(_to_average, beta1=beta1)
        params = jax.tree.map(to_average, node.inner_state.z, params, is_leaf=lambda x: x is None)
    return params
