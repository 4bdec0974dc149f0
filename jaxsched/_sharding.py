"""Optimizer state on many devices: it follows the parameters, or (ZeRO-1) is split over a data axis.

By default every per-parameter state leaf is created with ``zeros_like(param)``, so it has the
parameter's sharding and the update runs where the parameter lives without communication (global-norm
clipping needs one all-reduce). With data parallelism the parameters are replicated, and so is the
state; ZeRO stage 1 instead splits the state over the data axis so each device keeps 1/N of it:

    state = js.shard_state(tx.init(params), mesh, axis="data")
    step = jax.jit(train_step, out_shardings=(param_shardings, js.zero1_shardings(state, mesh, "data")))

Each device then updates its slice of the moments and XLA gathers the parameter updates. Multi-host
runs need nothing else: call ``jax.distributed.initialize()`` on every host, build the mesh over
``jax.devices()`` and use the same code (JAX's own distributed runtime moves the data).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxsched.core._base import PyTree


def _is_replicated(x: Any) -> bool:
    sharding = getattr(x, "sharding", None)
    return sharding is None or sharding.is_fully_replicated


def zero1_shardings(state: PyTree, mesh: Mesh, axis: str = "data") -> PyTree:
    """Shardings that split each replicated per-parameter state leaf over ``mesh`` axis ``axis``.

    A leaf is split along its first dimension divisible by the axis size; scalars (step counts,
    hyperparameters) and leaves with no such dimension stay replicated, and leaves that are already
    sharded (following a sharded parameter) keep their sharding.
    """
    if axis not in mesh.shape:
        raise ValueError(f"axis must be one of the mesh axes {tuple(mesh.shape)}, got {axis!r}")
    size = mesh.shape[axis]

    def sharding_of(x):
        if not _is_replicated(x):
            return x.sharding
        for dim, length in enumerate(jnp.shape(x)):
            if length % size == 0:
                return NamedSharding(mesh, PartitionSpec(*([None] * dim + [axis])))
        return NamedSharding(mesh, PartitionSpec())

    return jax.tree.map(sharding_of, state)


def shard_state(state: PyTree, mesh: Mesh, axis: str = "data") -> PyTree:
    """Place ``state`` with :func:`zero1_shardings` (ZeRO stage 1)."""
    return jax.device_put(state, zero1_shardings(state, mesh, axis))
