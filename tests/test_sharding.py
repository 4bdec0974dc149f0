"""Sharded parameters over 8 simulated devices: optimizer state follows the parameters' sharding,
and updates add no communication beyond what the math needs (run in a subprocess, because the
device count must be set before JAX starts)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from jaxsched._fused import kernel_module
from tests.optim_db import FIRST_ORDER

SCRIPT = pathlib.Path(__file__).with_name("sharding_script.py")


@pytest.fixture(scope="module")
def report():
    root = str(SCRIPT.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_runs_on_eight_devices(report):
    assert report["devices"] == 8


@pytest.mark.parametrize("info", FIRST_ORDER, ids=[info.name for info in FIRST_ORDER])
def test_state_follows_param_sharding_with_only_the_collectives_the_math_needs(report, info):
    result = report["results"][info.name]
    assert result["sharding_mismatches"] == []
    assert result["collectives"] == list(info.sharded_collectives)  # the table says why each is needed


def test_muon_with_adamw_gathers_the_sharded_matrix(report):
    result = report["results"]["muon_adamw"]
    assert result["sharding_mismatches"] == []
    assert result["collectives"] == ["all-gather"]  # Newton-Schulz multiplies the whole matrix, then reshards


def test_global_norm_clipping_needs_only_an_all_reduce(report):
    result = report["results"]["clipped_adam"]
    assert result["sharding_mismatches"] == []
    assert result["collectives"] == ["all-reduce"]


def test_zero1_splits_state_over_the_data_axis(report):
    zero1 = report["zero1"]
    assert zero1["shard_fractions"] == [1 / 8]  # every moment: one eighth per device
    assert zero1["max_difference"] < 1e-6  # same updates as the unsharded optimizer


# per optimizer: (kernel calls with replicated parameters, with the kernel matrix split over 8 devices)
FUSED_KERNEL_CALLS = {"adam": (1, 2), "sgd": (1, 2), "rmsprop": (1, 2), "adagrad": (1, 2), "sgd_without_state": (0, 0)}


@pytest.mark.parametrize("name", sorted(FUSED_KERNEL_CALLS))
@pytest.mark.parametrize("placement", ["replicated", "split", "split_auto"])
def test_fused_needs_no_collectives_on_replicated_or_split_params(report, name, placement):
    result = report["fused"][f"{name} {placement}"]
    assert result["collectives"] == []
    calls = FUSED_KERNEL_CALLS[name][placement != "replicated"]
    assert result["kernel_calls"] == (calls if kernel_module() is not None else 0)
    assert result["max_difference"] < 1e-6  # two steps, the same numbers as without fused
    assert result["sharding_mismatches"] == []
    # the split matrix keeps its own state arrays (as many as without fused), with its sharding
    split = result["kernel_state_leaves_without_fused"] if placement != "replicated" else 0
    assert result["split_state_leaves"] == split


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop", "adagrad"])
def test_fused_state_made_for_replicated_params_refuses_split_ones(report, name):
    assert report["fused"][f"{name} refuses"]


def test_fused_on_split_params_inside_partition_and_through_a_checkpoint(report):
    result = report["fused"]["in use"]
    assert result["collectives"] == []
    assert result["kernel_calls"] == (1 if kernel_module() is not None else 0)  # the split matrix's own call
    assert result["max_difference"] < 1e-6  # the same partition without fused
    assert result["restored_difference"] == 0.0  # a step from the loaded state equals one from the saved
