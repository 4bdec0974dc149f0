"""Muon (``torch.optim.Muon``): momentum orthogonalised by a bfloat16 Newton-Schulz iteration, for matrices."""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from jaxsched.core._base import GradientTransformation, PyTree, ScalarOrSchedule, torch_lerp, tree_zeros_state
from jaxsched.core._validation import check_bool, check_choice, check_int, check_nonnegative, check_number, check_tuple
from jaxsched.optimizers._compose import torch_optimizer

ADJUST_LR_FNS = (None, "original", "match_rms_adamw")
# torch refuses more Newton-Schulz steps "for computational efficiency"
MAX_NS_STEPS = 99


class MuonState(NamedTuple):
    """State of :func:`muon` (``state.inner_state``), with torch's names.

    Attributes:
      momentum_buffer: torch's ``momentum_buffer``, one matrix per parameter.
    """

    momentum_buffer: PyTree


def _matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """A bfloat16 matrix product as torch's CPU kernel makes it: float32 accumulation, result in float32."""
    return jnp.matmul(a, b, preferred_element_type=jnp.float32)


def _addmm(input_: jax.Array, a: jax.Array, b: jax.Array, beta: Any, alpha: Any = 1.0) -> jax.Array:
    """``torch.addmm(input, a, b, beta=beta, alpha=alpha)`` in bfloat16: combined in float32, rounded once."""
    return (beta * input_.astype(jnp.float32) + alpha * _matmul(a, b)).astype(jnp.bfloat16)


def orthogonalize(matrix: jax.Array, ns_coefficients, ns_steps: int, eps) -> jax.Array:
    """torch's ``_zeropower_via_newtonschulz``: about ``U V^T`` of ``matrix = U S V^T``, in bfloat16.

    The result is bfloat16, as torch's; so is every intermediate, each rounded where torch rounds it.
    A matrix sharded over an explicit mesh is gathered for the iteration (its products contract over
    every dimension) and the result sharded back as the matrix was.
    """
    sharding = jax.typeof(matrix).sharding
    sharded = any(axis is not None for axis in sharding.spec)
    if sharded:
        matrix = jax.sharding.reshard(matrix, NamedSharding(sharding.mesh, PartitionSpec()))
    a, b, c = (jnp.asarray(k, jnp.float32) for k in ns_coefficients)
    # torch converts to bfloat16 through float32 (c10::BFloat16 is constructed from a float)
    x = matrix.astype(jnp.float32).astype(jnp.bfloat16)
    tall = matrix.shape[0] > matrix.shape[1]
    if tall:
        x = x.T
    norm = jnp.sqrt(jnp.sum(jnp.square(x.astype(jnp.float32)))).astype(jnp.bfloat16)
    norm = jnp.maximum(norm.astype(jnp.float32), jnp.asarray(eps, jnp.float32)).astype(jnp.bfloat16)
    x = (x.astype(jnp.float32) / norm.astype(jnp.float32)).astype(jnp.bfloat16)
    for _ in range(ns_steps):
        gram = _matmul(x, x.T).astype(jnp.bfloat16)
        gram_update = _addmm(gram, gram, gram, beta=b, alpha=c)
        x = _addmm(x, gram_update, x, beta=a)
    result = x.T if tall else x
    return jax.sharding.reshard(result, sharding) if sharded else result


def learning_rate_ratio(shape: tuple[int, ...], adjust_lr_fn: str | None) -> float:
    """torch's ``_adjust_lr`` factor: ``sqrt(max(1, A / B))`` ("original", the default) or
    ``0.2 sqrt(max(A, B))`` ("match_rms_adamw", an update RMS like AdamW's) for an ``(A, B)`` matrix."""
    rows, columns = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, columns))
    return math.sqrt(max(1, rows / columns))


def _check_matrices(params) -> None:
    for path, p in jax.tree_util.tree_leaves_with_path(params):
        if jnp.ndim(p) != 2:
            raise ValueError(
                f"muon only supports 2-D parameters (matrices), but the parameter at {jax.tree_util.keystr(path)} "
                f"has shape {tuple(jnp.shape(p))}; give such parameters another optimizer with js.partition "
                "(e.g. js.adamw, see the muon docstring)"
            )


def scale_by_muon(
    *, momentum, ns_coefficients, eps, nesterov: bool, ns_steps: int, adjust_lr_fn: str | None
) -> GradientTransformation:
    """Muon's direction, before the learning rate (torch's ``_single_tensor_muon``)::

        buf = lerp(buf, g, 1 - momentum);   m = lerp(g, buf, momentum) if nesterov else buf
        u = learning_rate_ratio(shape) * orthogonalize(m)

    Raw block: ``momentum``, ``eps`` and the three ``ns_coefficients`` are numbers or arrays;
    ``nesterov``, ``ns_steps`` and ``adjust_lr_fn`` are structural. ``init`` refuses non-matrices.
    """

    def init(params):
        _check_matrices(params)
        return MuonState(tree_zeros_state(params))

    def update(updates, state, params=None, **extra_args):
        del params, extra_args

        def leaf_update(g, buf):
            g = jnp.asarray(g, buf.dtype)
            # torch passes the weights as Python floats, cast to the buffer's dtype
            buf = torch_lerp(buf, g, (1 - momentum).astype(buf.dtype))
            direction = torch_lerp(g, buf, jnp.asarray(momentum, buf.dtype)) if nesterov else buf
            ortho = orthogonalize(direction, ns_coefficients, ns_steps, eps)
            return ortho.astype(buf.dtype) * learning_rate_ratio(g.shape, adjust_lr_fn), buf

        results = jax.tree.map(leaf_update, updates, state.momentum_buffer)
        new_updates = jax.tree.map(lambda _, leaf_results: leaf_results[0], updates, results)
        buffer = jax.tree.map(lambda _, leaf_results: leaf_results[1], updates, results)
        return new_updates, MuonState(buffer)

    return GradientTransformation(init, update)


def muon(
    learning_rate: ScalarOrSchedule = 1e-3,
    weight_decay: ScalarOrSchedule = 0.1,
    momentum: ScalarOrSchedule = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[ScalarOrSchedule, ScalarOrSchedule, ScalarOrSchedule] = (3.4445, -4.775, 2.0315),
    eps: ScalarOrSchedule = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
) -> GradientTransformation:
    """Muon, ``torch.optim.Muon``: momentum orthogonalised by Newton-Schulz, for 2-D parameters only.

    With ``g`` the gradient of an ``(A, B)`` matrix ``p``::

        buf = momentum * buf + (1 - momentum) * g                    (torch's lerp; momentum_buffer)
        m   = momentum * buf + (1 - momentum) * g if nesterov else buf
        O   = NS(m): X = m / max(||m||_F, eps), transposed if A > B; ns_steps times
              X = a X + (b X X^T + c (X X^T)^2) X                   (a, b, c = ns_coefficients)
        p   = p * (1 - learning_rate * weight_decay)                 (decoupled, with the unadjusted rate)
        p   = p - learning_rate * ratio * O,   ratio = sqrt(max(1, A / B))           (adjust_lr_fn None/"original")
                                               ratio = 0.2 * sqrt(max(A, B))         ("match_rms_adamw")

    Precision: as torch, ``NS`` runs in bfloat16 (float32 accumulation, each product rounded to
    bfloat16 where torch rounds it) and ``O`` is bfloat16 before it is added to the parameter; the
    momentum buffer stays in the parameter's dtype (at least float32). Agreement with torch is at
    bfloat16 level, not 1e-10: after 30 steps (each ``adjust_lr_fn``, nesterov on and off) the
    parameters' max deviation relative to their largest entry is at most 5e-3 in float32 and
    float64 (matrices 4x3 to 128x96); in float64 up to 16x8 every bfloat16 rounding coincides with
    torch's and they agree to 1e-15. Larger products sum in another order than torch's kernel, so an
    occasional bfloat16 rounding differs. ``tests/test_optim_muon.py`` asserts 1e-2.

    ``init`` refuses any leaf that is not a matrix, naming its path and shape. Biases, embeddings
    and other leaves get another optimizer, usually AdamW, through :func:`jaxsched.partition`::

        tx = js.partition(
            {"muon": js.muon(0.02), "adamw": js.adamw(3e-4, weight_decay=0.01)},
            lambda params: jax.tree.map(lambda p: "muon" if p.ndim == 2 else "adamw", params),
        )

    (or ``js.label_by_path({"*/kernel": "muon"}, default="adamw")`` to choose by name).

    PyTorch: ``torch.optim.Muon(params, lr, weight_decay, momentum, nesterov, ns_coefficients, eps,
    ns_steps, adjust_lr_fn)``. Optax: ``optax.contrib.muon`` (its own lr adjustment and float32 iteration).

    Args:
      learning_rate: step size >= 0, a float or a schedule ``step -> value``.
      weight_decay: decoupled decay rate >= 0 (multiplied by the unadjusted learning rate). A literal
        0 leaves the term out; it can then not be changed with ``set_hyperparams``.
      momentum: momentum factor >= 0.
      nesterov: orthogonalise the Nesterov look-ahead ``lerp(g, buf, momentum)`` instead of ``buf``.
      ns_coefficients: ``(a, b, c)`` of the quintic Newton-Schulz iteration, each a float or a schedule.
      eps: lower bound of the Frobenius norm the matrix is divided by, >= 0.
      ns_steps: number of Newton-Schulz iterations, an integer in [1, 99].
      adjust_lr_fn: ``None`` or ``"original"`` (Keller Jordan's ``sqrt(max(1, A / B))``) or
        ``"match_rms_adamw"`` (Moonshot's ``0.2 sqrt(max(A, B))``, so AdamW's learning rate and
        weight decay carry over).

    Example::

        params = {"w1": jnp.ones((4, 3)), "w2": jnp.eye(3)}    # matrices only
        tx = js.muon(0.02, momentum=0.95, adjust_lr_fn="match_rms_adamw")
        state = tx.init(params)
        grads = jax.tree.map(lambda p: 0.1 * p + 0.05, params)
        updates, state = tx.update(grads, state, params)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    check_nonnegative("weight_decay", weight_decay)
    check_nonnegative("momentum", momentum)
    check_bool("nesterov", nesterov)
    ns_coefficients = check_tuple("ns_coefficients", ns_coefficients, 3, "triple")
    for i, coefficient in enumerate(ns_coefficients):
        check_number(f"ns_coefficients[{i}]", coefficient)
    check_nonnegative("eps", eps)
    check_int("ns_steps", ns_steps, low=1, high=MAX_NS_STEPS)
    check_choice("adjust_lr_fn", adjust_lr_fn, ADJUST_LR_FNS)
    return torch_optimizer(
        functools.partial(scale_by_muon, nesterov=nesterov, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn),
        dict(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            momentum=momentum,
            ns_coefficients=ns_coefficients,
            eps=eps,
        ),
        decoupled_weight_decay=True,
        supports_complex=False,
    )
