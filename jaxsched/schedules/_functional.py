"""Schedules defined by a user function of the step: torch's LambdaLR and MultiplicativeLR."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxsched.core._base import Schedule
from jaxsched.schedules._step import as_float, as_step, check_callable, check_real


def lambda_lr(init_value: Any, lr_lambda: Callable[[jax.Array], Any]) -> Schedule:
    """``init_value * lr_lambda(step)``.

    PyTorch: ``LambdaLR(opt(init_value), lr_lambda)``. ``lr_lambda`` receives an integer array and
    must be written with jax.numpy operations (``0.95 ** step`` and ``jnp.where`` work; Python
    ``if step < 10`` does not under ``jit``).

    Args:
      init_value: the base value.
      lr_lambda: factor as a function of the step.

    Example::

        js.schedules.lambda_lr(0.1, lambda step: 0.95 ** step)(2)   # 0.09025
    """
    check_real("init_value", init_value)
    check_callable("lr_lambda", lr_lambda)

    def schedule(step):
        step = as_step(step)
        return as_float(init_value) * as_float(lr_lambda(step))

    return schedule


def multiplicative(init_value: Any, lr_lambda: Callable[[jax.Array], Any]) -> Schedule:
    """``init_value * lr_lambda(1) * lr_lambda(2) * ... * lr_lambda(step)``.

    PyTorch: ``MultiplicativeLR(opt(init_value), lr_lambda)``.

    Cost: a schedule has no memory of earlier steps, so each call runs a ``lax.fori_loop`` of
    ``step`` iterations on the device (one trace, no Python work per step); an array of steps costs
    ``max(step)`` vectorised iterations. Over long runs prefer a closed form: a constant factor is
    :func:`exponential_decay`, any product you can write out is :func:`lambda_lr`.

    Args:
      init_value: value at step 0.
      lr_lambda: factor applied at step ``i`` (from 1), a function of an integer array.

    Example::

        js.schedules.multiplicative(1.0, lambda i: 0.5)(3)   # 0.125
    """
    check_real("init_value", init_value)
    check_callable("lr_lambda", lr_lambda)

    def schedule(step):
        step = as_step(step)

        def multiply(i, factors):
            factor = as_float(lr_lambda(jnp.asarray(i, step.dtype)))
            return jnp.where(i <= step, factors * factor, factors)

        # The loop only depends on the step, so gradients reach init_value (a loop with a traced
        # trip count cannot be differentiated in reverse mode).
        ones = jnp.ones(step.shape, as_float(0.0).dtype)
        return as_float(init_value) * jax.lax.fori_loop(1, jnp.max(step, initial=0) + 1, multiply, ones)

    return schedule
