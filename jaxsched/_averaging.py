"""Weight averaging: torch's ``AveragedModel`` with SWA (running mean) or EMA, as pure functions.

An :class:`Averager` is an ``(init, update)`` pair over any pytree::

    astate = avg.init(params)             # the average starts as a copy of params (torch's deepcopy)
    astate = avg.update(astate, params)   # after an optimizer step; the first update copies params
    astate.params                         # the average, in the state dtype (see AveragerState)

It is independent of the optimizer: average whatever pytree you like (parameters only, or
parameters and batch-norm statistics, torch's ``use_buffers=True``). ``update`` is pure, so it runs
inside a jitted train step or on its own as ``jax.jit(avg.update, donate_argnums=0)``, reusing the
average's buffers (``init`` copies ``params``, so donating the state never touches them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxsched.core._base import (
    PyTree,
    first_difference,
    hyperparam_dtype,
    increment_step,
    state_dtype,
    torch_lerp,
    zero_step,
)
from jaxsched.core._validation import check_number


class AveragerState(NamedTuple):
    """State of :func:`ema` and :func:`swa`.

    Attributes:
      params: the average, leaf by leaf in :func:`~jaxsched.core._base.state_dtype` (float32 for
        bfloat16/float16 leaves, so small increments are not rounded away; float64 stays float64;
        integer leaves are averaged as float32, where torch truncates them back every update).
        Cast back to the parameters' dtypes with
        ``jax.tree.map(lambda a, p: a.astype(p.dtype), astate.params, params)``.
      n_averaged: how many updates have been averaged (torch's ``AveragedModel.n_averaged``), int32.
      hyperparams: ``{"decay": array}`` for :func:`ema`, ``{}`` for :func:`swa`; read and set with
        :func:`jaxsched.get_hyperparams` / :func:`jaxsched.set_hyperparams` (no recompilation).
    """

    params: PyTree
    n_averaged: jax.Array
    hyperparams: dict[str, jax.Array]


class Averager(NamedTuple):
    """A pure pair: ``init(params) -> AveragerState`` and ``update(astate, params) -> AveragerState``."""

    init: Callable[[PyTree], AveragerState]
    update: Callable[[AveragerState, PyTree], AveragerState]


# combine(average, current, n_averaged, hyperparams) -> new average, for one leaf in the state dtype.
Combine = Callable[[jax.Array, jax.Array, jax.Array, dict[str, jax.Array]], jax.Array]


def _averager(hyperparams: dict[str, Any], combine: Combine) -> Averager:
    """torch's ``AveragedModel.update_parameters``: copy on the first update, ``combine`` afterwards."""

    def init(params):
        # jnp.array copies: a donated state must never alias the caller's parameters.
        return AveragerState(
            jax.tree.map(lambda p: jnp.array(p, dtype=state_dtype(p)), params),
            zero_step(),
            {name: jnp.asarray(value, dtype=hyperparam_dtype()) for name, value in hyperparams.items()},
        )

    def update(astate, params):
        difference = first_difference(astate.params, params, compare_dtypes=False)
        if difference:
            raise ValueError(f"params do not match the averaged params: {difference} (average vs params)")
        first = astate.n_averaged == 0

        def average(averaged, param):
            current = jnp.asarray(param).astype(averaged.dtype)
            return jnp.where(first, current, combine(averaged, current, astate.n_averaged, astate.hyperparams))

        return AveragerState(
            jax.tree.map(average, astate.params, params), increment_step(astate.n_averaged), astate.hyperparams
        )

    return Averager(init, update)


def _ema_combine(averaged, current, n_averaged, hyperparams):
    del n_averaged
    return torch_lerp(averaged, current, (1 - hyperparams["decay"]).astype(averaged.dtype))


def _swa_combine(averaged, current, n_averaged, hyperparams):
    del hyperparams
    return averaged + (current - averaged) / (n_averaged.astype(averaged.dtype) + 1)


def ema(decay: float = 0.999) -> Averager:
    """Exponential moving average of a pytree: ``average = lerp(average, params, 1 - decay)``.

    That is ``decay * average + (1 - decay) * params`` with torch.lerp's rounding (its formula
    switches at weight 0.5); the first :meth:`~Averager.update` copies ``params``. PyTorch:
    ``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))``.

    ``decay`` lives in the state (``astate.hyperparams["decay"]``), so changing it inside a jitted
    step never recompiles: ``astate = js.set_hyperparams(astate, decay=0.99)``. Without
    ``jax_enable_x64`` it is stored in float32, so ``1 - decay`` carries float32 rounding.

    Args:
      decay: weight of the old average, in ``[0, 1]``.

    Example::

        avg = js.ema(0.999)
        astate = avg.init(params)
        # in the train step, after the optimizer update:
        astate = avg.update(astate, params)
        # parameters and batch-norm statistics together (torch's use_buffers=True):
        both = avg.init({"params": params, "batch_stats": batch_stats})
        both = avg.update(both, {"params": params, "batch_stats": batch_stats})
    """
    check_number("decay", decay, low=0.0, high=1.0, allow_schedule=False)
    return _averager({"decay": decay}, _ema_combine)


def swa() -> Averager:
    """Equally weighted running mean of a pytree (stochastic weight averaging).

    ``average = average + (params - average) / (n_averaged + 1)``; the first :meth:`~Averager.update`
    copies ``params``. PyTorch: ``AveragedModel(model)`` with its default average, which on CPU is
    ``get_swa_avg_fn``, this operation order (on CUDA torch uses ``get_swa_multi_avg_fn``, a ``lerp``
    with weight ``1 / (n_averaged + 1)``; XLA computes the division as a multiplication by
    ``1 / (n_averaged + 1)``: all three agree to about an ulp).

    Pair it with :func:`jaxsched.schedules.swa_lr` for the learning rate; recompute batch-norm
    statistics for the averaged weights afterwards (torch's ``update_bn``, see ``examples/swa.py``),
    or average them too.

    Example::

        avg = js.swa()
        astate = avg.init(params)
        for epoch in range(epochs):
            params, opt_state = train_one_epoch(params, opt_state)
            if epoch >= swa_start:
                astate = avg.update(astate, params)
        swa_params = astate.params
    """
    return _averager({}, _swa_combine)
