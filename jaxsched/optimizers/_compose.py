"""The update order every ``torch.optim`` optimizer follows, stated once for all optimizer modules.

    maximize -> L2 weight decay -> the optimizer's own math -> decoupled weight decay -> -learning_rate

An optimizer module writes only its own math, a factory ``scale_by_<name>(*, <hyperparameters>,
<flags>)`` that returns a raw transformation, and returns :func:`torch_optimizer` of it. The sign,
weight decay and learning rate are applied here, around the math, and keep no state, so every
optimizer's state has the same layout whatever its flags::

    HyperparamsState(step, hyperparams={"learning_rate": ..., ...}, inner_state=<the math's own state>)

e.g. ``js.adam(...).init(params).inner_state`` is always the :class:`~jaxsched.AdamState`.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Mapping

from jaxsched.core._base import EmptyState, GradientTransformation, call_update, identity
from jaxsched.core._hyperparams import injected
from jaxsched.core._validation import is_zero
from jaxsched.transforms._scaling import add_weight_decay, negate, scale_by_learning_rate


def _apply_stateless(tx: GradientTransformation, updates: Any, params: Any) -> Any:
    return tx.update(updates, EmptyState(), params)[0]


def torch_optimizer(
    math: Callable[..., GradientTransformation] | None,
    hyperparams: Mapping[str, Any],
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    off_when_zero: Iterable[str] = ("weight_decay",),
) -> GradientTransformation:
    """Compose ``math`` in torch's order, with every hyperparameter held in the state.

    Args:
      math: the optimizer's own math, called each step with the current value of each hyperparameter
        that it names as a keyword parameter (flags are bound beforehand, e.g. with
        ``functools.partial``); ``None`` when the optimizer has no math of its own (plain SGD).
        A math that takes ``learning_rate`` applies it itself (ASGD, Rprop, Adagrad), so no final
        ``-learning_rate`` scaling is added; one that takes ``weight_decay`` applies that itself too
        (Adafactor, whose decoupled decay is scaled by the learning rate it applies).
      hyperparams: constructor name -> float, schedule or tuple of those.
      maximize: negate gradients first.
      decoupled_weight_decay: apply ``weight_decay`` after ``math`` (AdamW style) instead of as L2.
      off_when_zero: hyperparameters whose term is left out when they are a literal 0 (saves memory
        and a pass over the parameters; such a value is then read-only).
    """
    fixed = {name for name in off_when_zero if name in hyperparams and is_zero(hyperparams[name])}
    math_arguments = () if math is None else tuple(n for n in inspect.signature(math).parameters if n in hyperparams)
    applies_learning_rate = "learning_rate" in math_arguments
    decay = "weight_decay" in hyperparams and "weight_decay" not in fixed and "weight_decay" not in math_arguments

    def build(**values: Any) -> GradientTransformation:
        own = identity() if math is None else math(**{name: values[name] for name in math_arguments})

        def update(updates, state, params=None, **extra_args):
            if maximize:
                updates = _apply_stateless(negate(), updates, params)
            if decay and not decoupled_weight_decay:
                updates = _apply_stateless(add_weight_decay(values["weight_decay"]), updates, params)
            updates, state = call_update(own, updates, state, params, extra_args)
            if decay and decoupled_weight_decay:
                updates = _apply_stateless(add_weight_decay(values["weight_decay"]), updates, params)
            if not applies_learning_rate:
                updates = _apply_stateless(scale_by_learning_rate(values["learning_rate"]), updates, params)
            return updates, state

        return GradientTransformation(own.init, update)

    return injected(build, hyperparams, fixed)
