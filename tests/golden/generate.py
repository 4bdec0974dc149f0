"""Regenerate the golden torch trajectories stored in tests/golden/ (needs torch==2.13.0).

    python tests/golden/generate.py

Runs the torch side of every optimizer parity case (``CASES`` in the test modules listed below)
and writes ``tests/golden/optimizers.npz``. Values come from torch only, never from jaxsched.
"""

import importlib
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from tests.optim_parity import GOLDEN, run_torch  # noqa: E402

# Every tests/test_optim_*.py module defines CASES.
OPTIMIZER_TEST_MODULES = sorted(f"tests.{p.stem}" for p in HERE.parent.glob("test_optim_*.py"))


def main() -> None:
    print(f"torch {torch.__version__}")
    trajectories = {}
    for module_name in OPTIMIZER_TEST_MODULES:
        for name, case in importlib.import_module(module_name).CASES.items():
            trajectories[name] = run_torch(case)
    np.savez_compressed(GOLDEN, **trajectories)
    print(f"wrote {len(trajectories)} trajectories to {GOLDEN}")


if __name__ == "__main__":
    main()
