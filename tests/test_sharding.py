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


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop", "adagrad"])
def test_fused_on_replicated_params_needs_no_collectives_and_refuses_sharded_ones(report, name):
    result = report["fused"][name]
    assert result["collectives"] == []
    assert result["kernel_calls"] == (1 if kernel_module() is not None else 0)
    assert result["max_difference"] < 1e-6
    assert result["refuses_sharded"]
