"""The update order every ``torch.optim`` optimizer follows, stated once for all optimizer modules.

    maximize -> L2 weight decay -> the optimizer's own math -> decoupled weight decay -> -learning_rate

An optimizer module writes only its own math, a factory ``scale_by_<name>(*, <hyperparameters>,
<flags>)`` that returns a raw transformation, and returns :func:`torch_optimizer` of it. The sign,
weight decay and learning rate are applied here, around the math, and keep no state, so every
optimizer's state has the same layout whatever its flags::

    HyperparamsState(step, hyperparams={"learning_rate": ..., ...}, inner_state=<the math's own state>)

e.g. ``js.adam(...).init(params).inner_state`` is always the :class:`~jaxsched.AdamState`.

Complex parameters get torch's numbers: gradients arrive in ``jax.grad``'s convention and are
conjugated into torch's, and the math runs on each complex value as a pair of reals (torch's
``view_as_real``), its state kept complex like the parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import jax

from jaxsched.core._base import (
    GradientTransformation,
    call_update,
    check_has_params,
    first_complex_leaf,
    from_real_view,
    identity,
    real_view,
    record_components,
    torch_gradient,
)
from jaxsched.core._hyperparams import injected
from jaxsched.core._validation import is_zero


def _add_weight_decay(updates: Any, params: Any, weight_decay: Any) -> Any:
    check_has_params(params, "weight_decay")
    return jax.tree.map(lambda u, p: u + weight_decay * p, updates, params)


def _decoupled_shrink(values: Mapping[str, Any]) -> Any:
    # torch's p *= 1 - lr * weight_decay rounds that factor to the parameters' precision every
    # step; 1 - (1 - lr * weight_decay) keeps the same rounding (in float32 a systematic 1e-8 per
    # step otherwise, 1.5e-5 of drift from torch over 1000 steps)
    return 1 - (1 - values["learning_rate"] * values["weight_decay"])


class KernelOp(NamedTuple):
    """How :func:`jaxsched.fused` runs an optimizer's own math in its one-pass kernel.

    Attributes:
      op: the kernel's name for the math (``"adam"``, ``"sgd"``, ``"rmsprop"``, ...; see
        ``jaxsched/_kernel/ops.h``).
      flags: the op's two structural flags, in the kernel's order (e.g. ``(amsgrad, False)``).
      scalars: ``(inner_state, **hyperparameter values) -> tuple`` of the scalars the kernel's op
        reads, computed with the math's own JAX expressions so that both round alike.
      buffers: the math's state fields that hold one value per parameter element, in the kernel's
        order; a field that is ``None`` in the state is skipped. The other fields (the step, NAdam's
        ``mu_product``) are the math's own: it advances them as it does over no parameters.
      reads_params: the math itself reads the parameters (Lion's weight decay).
    """

    op: str
    flags: tuple[bool, bool]
    scalars: Callable[..., tuple[Any, ...]]
    buffers: tuple[str, ...]
    reads_params: bool = False


class Fusion(NamedTuple):
    """What :func:`torch_optimizer` tells :func:`jaxsched.fused` about an optimizer it composed."""

    kernel: KernelOp
    math_arguments: tuple[str, ...]  # the hyperparameters ``math`` and ``kernel.scalars`` take
    maximize: bool
    l2_weight_decay: bool
    decoupled_weight_decay: bool

    @property
    def reads_params(self) -> bool:
        """Whether an update reads the parameters (weight decay), so that they must be given."""
        return self.l2_weight_decay or self.decoupled_weight_decay or self.kernel.reads_params

    def common_scalars(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """``(sign, weight_decay, -learning_rate, -shrink)``: the kernel's scalars around the math."""
        weight_decay = values["weight_decay"] if self.l2_weight_decay else 0.0
        negative_shrink = -_decoupled_shrink(values) if self.decoupled_weight_decay else 0.0
        return -1.0 if self.maximize else 1.0, weight_decay, -values["learning_rate"], negative_shrink


def torch_optimizer(
    math: Callable[..., GradientTransformation] | None,
    hyperparams: Mapping[str, Any],
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    off_when_zero: Iterable[str] = ("weight_decay",),
    supports_complex: bool = True,
    kernel: KernelOp | None = None,
) -> GradientTransformation:
    """Compose ``math`` in torch's order, with every hyperparameter held in the state.

    Args:
      math: the optimizer's own math, called each step with the current value of each hyperparameter
        that it names as a keyword parameter (flags are bound beforehand, e.g. with
        ``functools.partial``); ``None`` when the optimizer has no math of its own (plain SGD).
        A math that takes ``learning_rate`` applies it itself (ASGD, Rprop, Adagrad), so no final
        ``-learning_rate`` scaling is added. Likewise a math that takes ``weight_decay`` applies it
        itself (Adafactor, schedule-free AdamW, Prodigy; LAMB and LARS decay inside their trust
        ratio), so no L2 or decoupled term is added.
      hyperparams: constructor name -> float, schedule or tuple of those.
      maximize: negate gradients first.
      decoupled_weight_decay: apply ``weight_decay`` after ``math`` (AdamW style) instead of as L2.
      off_when_zero: hyperparameters whose term is left out when they are a literal 0 (saves memory
        and a pass over the parameters; such a value is then read-only).
      supports_complex: ``False`` where torch refuses complex parameters; ``init`` then refuses them.
      kernel: how :func:`jaxsched.fused` runs ``math`` in one pass; ``None`` where it cannot
        (``fused`` then refuses the optimizer).
    """
    fixed = {name for name in off_when_zero if name in hyperparams and is_zero(hyperparams[name])}
    math_arguments = () if math is None else tuple(n for n in inspect.signature(math).parameters if n in hyperparams)
    applies_learning_rate = "learning_rate" in math_arguments
    decay = "weight_decay" in hyperparams and "weight_decay" not in fixed and "weight_decay" not in math_arguments

    def build(**values: Any) -> GradientTransformation:
        own = identity() if math is None else math(**{name: values[name] for name in math_arguments})

        def init(params):
            complex_leaf = None if supports_complex else first_complex_leaf(params)
            if complex_leaf is not None:
                raise ValueError(
                    f"parameter {complex_leaf} is complex, which this optimizer does not support (nor does torch)"
                )
            return own.init(params)

        def update(updates, state, params=None, **extra_args):
            updates = torch_gradient(updates)
            if maximize:
                updates = jax.tree.map(lambda u: -u, updates)
            if decay and not decoupled_weight_decay:
                updates = _add_weight_decay(updates, params, values["weight_decay"])
            real_updates, real_state = call_update(
                own, real_view(updates), real_view(state), real_view(params), extra_args
            )
            updates, state = from_real_view(real_updates, updates), from_real_view(real_state, state)
            if not applies_learning_rate:
                updates = jax.tree.map(lambda u: -values["learning_rate"] * u, updates)
            if decay and decoupled_weight_decay:
                updates = _add_weight_decay(updates, params, -_decoupled_shrink(values))
            return updates, state

        return GradientTransformation(init, update)

    # What other code reads about this optimizer: torch's flags for the state-dict converters
    # (maximize and the decay mode here, the math's own flags such as amsgrad, nesterov, centered
    # bound with functools.partial), and how js.fused runs it in one pass.
    flags = dict(getattr(math, "keywords", {}), maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
    fusion = None
    if kernel is not None:
        fusion = Fusion(
            kernel,
            math_arguments,
            maximize,
            l2_weight_decay=decay and not decoupled_weight_decay,
            decoupled_weight_decay=decay and decoupled_weight_decay,
        )
    return record_components(injected(build, hyperparams, fixed), flags=flags, fusion=fusion)
