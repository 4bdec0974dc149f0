"""Torch-style momentum buffer (``torch.optim.SGD``'s ``momentum_buffer``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from jaxsched.core._base import GradientTransformation, PyTree, increment_step, tree_zeros_state, zero_step


class TraceState(NamedTuple):
    """State of :func:`trace` (``js.sgd(momentum>0)``'s ``state.inner_state``).

    Attributes:
      step: updates made so far (the first one starts the buffer undampened).
      momentum_buffer: torch's ``momentum_buffer``, one array per parameter.
    """

    step: jax.Array
    momentum_buffer: PyTree


def update_momentum_buffer(updates: PyTree, buffer: PyTree, momentum, gradient_coefficient: Any = 1) -> PyTree:
    """``buf = momentum * buf + gradient_coefficient * u``, in the buffer's dtype (torch's ``buf.mul_().add_()``)."""
    return jax.tree.map(lambda u, buf: (momentum * buf + gradient_coefficient * u).astype(buf.dtype), updates, buffer)


def _gradient_coefficient(state: TraceState, dampening) -> jax.Array:
    # torch starts the buffer at the first gradient, undampened: with the buffer at zero that is a
    # gradient coefficient of 1 on the first step and 1 - dampening after (one scalar, no select).
    return 1 - dampening * (state.step > 0)


def trace_kernel_scalars(state: TraceState, *, momentum, dampening=0.0) -> tuple:
    """The scalars of the one-pass kernel's ``Sgd`` (``jaxsched/_kernel/ops.h``), as :func:`trace` computes them."""
    return momentum, _gradient_coefficient(state, dampening)


def trace(momentum, dampening=0.0, nesterov: bool = False) -> GradientTransformation:
    """Momentum as in ``torch.optim.SGD``::

        buf = u                                    (first step: no dampening)
        buf = momentum * buf + (1 - dampening) * u (later steps)
        u   = u + momentum * buf if nesterov else buf

    The learning rate is applied afterwards, at use time, so changing it does not rescale past
    momentum (unlike the "v = m v + lr g" convention). RMSprop's momentum is this with
    ``dampening=0``.
    """

    def init(params):
        return TraceState(zero_step(), tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del params, extra_args
        gradient_coefficient = _gradient_coefficient(state, dampening)
        buffer = update_momentum_buffer(updates, state.momentum_buffer, momentum, gradient_coefficient)
        updates = jax.tree.map(lambda u, b: u + momentum * b, updates, buffer) if nesterov else buffer
        return updates, TraceState(increment_step(state.step), buffer)

    return GradientTransformation(init, update)
