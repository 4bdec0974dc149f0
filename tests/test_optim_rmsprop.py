"""torch.optim.RMSprop: the momentum buffer only when needed (contract and parity: tests/test_optimizers.py)."""

import jax
import jax.numpy as jnp
import pytest

import jaxsched as js
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes


def test_literal_zero_momentum_keeps_no_buffer():
    params = {"w": jnp.ones(3), "b": jnp.ones(2)}

    def buffers(momentum):  # scalars (step counters, hyperparameters) aside
        return sum(jnp.ndim(x) > 0 for x in jax.tree.leaves(js.rmsprop(momentum=momentum).init(params)))

    assert buffers(0.9) == buffers(0.0) + len(params)  # the momentum buffer of each parameter
    with pytest.raises(ValueError, match="compiled out"):
        js.set_hyperparams(js.rmsprop(momentum=0.0).init(params), momentum=0.9)


# Beside the generic test's example (centered, momentum 0.5): with the buffer and the centering compiled out.
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_mixed_pytree_keeps_dtypes_with_and_without_buffers(centered, momentum):
    assert_mixed_pytree_keeps_dtypes(js.rmsprop(0.01, weight_decay=0.01, momentum=momentum, centered=centered))
