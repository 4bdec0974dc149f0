"""The update order every ``torch.optim`` optimizer follows, shared by all optimizer modules.

    maximize -> L2 weight decay -> the optimizer's own math -> decoupled weight decay -> -learning_rate

An optimizer module only writes its own math (a raw transformation such as ``scale_by_adam``) and
calls :func:`torch_optimizer`, which keeps all hyperparameters in the state.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable, Iterable, Mapping

from jaxsched.core.base import GradientTransformation
from jaxsched.core.combinators import chain
from jaxsched.core.hyperparams import injected
from jaxsched.core.validation import is_zero
from jaxsched.transforms.scaling import add_weight_decay, negate, scale_by_learning_rate


def torch_optimizer(
    math: Callable[[SimpleNamespace], GradientTransformation | None],
    hyperparams: Mapping[str, Any],
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    applies_learning_rate: bool = False,
    off_when_zero: Iterable[str] = ("weight_decay",),
) -> GradientTransformation:
    """Compose ``math`` in torch's order with hyperparameters held in the state.

    Args:
      math: ``h -> transformation`` given the current hyperparameters as attributes of ``h``
        (arrays); ``None`` when the optimizer has no math of its own (plain SGD).
      hyperparams: constructor name -> float, schedule or tuple of those.
      maximize: negate gradients first.
      decoupled_weight_decay: apply ``weight_decay`` after ``math`` (AdamW style) instead of as L2.
      applies_learning_rate: ``math`` uses ``h.learning_rate`` itself (ASGD, Rprop), so no final
        ``-learning_rate`` scaling is added.
      off_when_zero: hyperparameters whose term is left out when they are a literal 0 (saves memory
        and a pass over the parameters; such a value is then read-only).
    """
    fixed = {name for name in off_when_zero if name in hyperparams and is_zero(hyperparams[name])}
    decay = "weight_decay" in hyperparams and "weight_decay" not in fixed

    def build(**values):
        h = SimpleNamespace(**values)
        parts = [negate()] if maximize else []
        if decay and not decoupled_weight_decay:
            parts.append(add_weight_decay(h.weight_decay))
        own = math(h)
        if own is not None:
            parts.append(own)
        if decay and decoupled_weight_decay:
            parts.append(add_weight_decay(h.weight_decay))
        if not applies_learning_rate:
            parts.append(scale_by_learning_rate(h.learning_rate))
        return chain(*parts)

    return injected(build, hyperparams, fixed)
