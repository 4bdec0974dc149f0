"""pytorch_optimizer.LARS parity (4.1.0): trust ratio on matrices only, decay, momentum, Nesterov, schedules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_parity import Case, TORCH_STEPLR, steplr, torch_group_schedule
from tests.reference_parity import reference_parity_tests

CASES = {
    "lars_default": Case(lambda: js.lars(), "pytorch_optimizer.LARS", {}),
    "lars_weight_decay_steplr": Case(
        lambda: js.lars(steplr(0.3), weight_decay=0.1, trust_coefficient=0.5),
        "pytorch_optimizer.LARS",
        dict(lr=0.3, weight_decay=0.1, trust_coefficient=0.5),
        torch_scheduler=TORCH_STEPLR,
    ),
    "lars_nesterov": Case(
        lambda: js.lars(0.1, weight_decay=0.05, momentum=0.8, nesterov=True, trust_coefficient=0.2),
        "pytorch_optimizer.LARS",
        dict(lr=0.1, weight_decay=0.05, momentum=0.8, nesterov=True, trust_coefficient=0.2),
    ),
    "lars_maximize": Case(
        lambda: js.lars(2e-3, weight_decay=0.05, trust_coefficient=0.2, maximize=True),
        "pytorch_optimizer.LARS",
        dict(lr=2e-3, weight_decay=0.05, trust_coefficient=0.2, maximize=True),
    ),
    "lars_dampening": Case(
        lambda: js.lars(0.3, weight_decay=0.01, momentum=0.5, dampening=0.3, trust_coefficient=0.1),
        "pytorch_optimizer.LARS",
        dict(lr=0.3, weight_decay=0.01, momentum=0.5, dampening=0.3, trust_coefficient=0.1),
    ),
    "lars_no_momentum": Case(
        lambda: js.lars(0.2, weight_decay=0.2, momentum=0.0, trust_coefficient=0.05),
        "pytorch_optimizer.LARS",
        dict(lr=0.2, weight_decay=0.2, momentum=0.0, trust_coefficient=0.05),
    ),
    # momentum switched off for steps 10-19: the reference leaves its buffer untouched meanwhile
    "lars_momentum_schedule": Case(
        lambda: js.lars(0.2, weight_decay=0.1, momentum=lambda t: 0.9 * ((t < 10) | (t >= 20)), dampening=0.2),
        "pytorch_optimizer.LARS",
        dict(lr=0.2, weight_decay=0.1, momentum=0.9, dampening=0.2),
        torch_scheduler=torch_group_schedule("momentum", lambda t: 0.9 * ((t < 10) or (t >= 20))),
    ),
}

test_matches_golden_reference_trajectory, test_matches_live_reference = reference_parity_tests(CASES)
