"""SGD with momentum, dampening and Nesterov (``torch.optim.SGD``)."""

from __future__ import annotations

import functools

from jaxsched.core._base import GradientTransformation, ScalarOrSchedule
from jaxsched.core._validation import check_bool, check_nonnegative, is_schedule, is_zero
from jaxsched.optimizers._compose import KernelOp, torch_optimizer
from jaxsched.transforms._momentum import trace, trace_kernel_scalars


def _no_scalars(state) -> tuple:
    del state  # plain SGD keeps no state: the kernel reads only the common scalars
    return ()


def sgd(
    learning_rate: ScalarOrSchedule = 1e-3,
    momentum: ScalarOrSchedule = 0.0,
    dampening: ScalarOrSchedule = 0.0,
    weight_decay: ScalarOrSchedule = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """Stochastic gradient descent, exactly ``torch.optim.SGD``.

    With ``g`` the gradient (negated if ``maximize``) plus ``weight_decay * p``::

        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g
        d   = g + momentum * buf if nesterov else buf      (d = g when momentum == 0)
        p   = p - learning_rate * d

    PyTorch: ``torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, maximize=...)``.
    TensorFlow: ``tf.keras.optimizers.SGD`` (its momentum keeps ``lr`` inside the velocity, so it
    differs when the learning rate changes).

    Args:
      learning_rate: step size, a float >= 0 or a schedule ``step -> value``.
      momentum: momentum factor >= 0 (float or schedule). A literal 0 leaves the momentum buffer
        out entirely; it can then not be changed with ``set_hyperparams``.
      dampening: dampening for momentum, >= 0.
      weight_decay: L2 penalty >= 0 (added to the gradient).
      nesterov: Nesterov momentum; needs momentum > 0 and dampening == 0 (as torch).
      maximize: maximize the objective instead of minimizing it.

    Example::

        tx = js.sgd(0.1, momentum=0.9, nesterov=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_nonnegative("momentum", momentum)
    check_nonnegative("dampening", dampening)
    check_nonnegative("weight_decay", weight_decay)
    check_bool("nesterov", nesterov)
    check_bool("maximize", maximize)
    if nesterov and (is_zero(momentum) or is_schedule(dampening) or not is_zero(dampening)):
        raise ValueError(
            f"nesterov=True requires momentum > 0 and dampening == 0, got momentum={momentum!r}, dampening={dampening!r}"
        )
    use_momentum = not is_zero(momentum)
    if use_momentum:
        kernel = KernelOp("sgd", (True, nesterov), trace_kernel_scalars, ("momentum_buffer",))
    else:
        kernel = KernelOp("sgd", (False, False), _no_scalars, ())

    return torch_optimizer(
        functools.partial(trace, nesterov=nesterov) if use_momentum else None,
        dict(learning_rate=learning_rate, momentum=momentum, dampening=dampening, weight_decay=weight_decay),
        maximize=maximize,
        off_when_zero=("weight_decay", "momentum"),
        kernel=kernel,
    )
