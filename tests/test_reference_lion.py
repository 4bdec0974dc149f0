"""lion_pytorch.Lion parity (lion-pytorch 0.2.5): decay, decoupled decay, a learning-rate schedule, beta schedules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_parity import Case, TORCH_STEPLR, rising_beta1, steplr, torch_betas
from tests.reference_parity import reference_parity_tests

CASES = {
    "lion_default": Case(lambda: js.lion(), "lion_pytorch.Lion", {}),
    "lion_weight_decay": Case(
        lambda: js.lion(3e-2, betas=(0.8, 0.95), weight_decay=0.5),
        "lion_pytorch.Lion",
        dict(lr=3e-2, betas=(0.8, 0.95), weight_decay=0.5),
    ),
    "lion_decoupled_weight_decay_steplr": Case(
        lambda: js.lion(steplr(2e-2), weight_decay=1e-2, decoupled_weight_decay=True),
        "lion_pytorch.Lion",
        dict(lr=2e-2, weight_decay=1e-2, decoupled_weight_decay=True),
        torch_scheduler=TORCH_STEPLR,
    ),
    "lion_beta1_schedule": Case(
        lambda: js.lion(1e-2, betas=(rising_beta1, 0.99), weight_decay=0.1),
        "lion_pytorch.Lion",
        dict(lr=1e-2, betas=(rising_beta1(0), 0.99), weight_decay=0.1),
        torch_scheduler=torch_betas(rising_beta1, lambda epoch: 0.99),
    ),
}

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(CASES)
