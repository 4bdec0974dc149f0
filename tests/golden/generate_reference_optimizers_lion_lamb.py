"""Regenerate tests/golden/reference_optimizers_lion_lamb.npz (needs torch, lion-pytorch 0.2.5, pytorch_optimizer 4.1.0).

    python tests/golden/generate_reference_optimizers_lion_lamb.py

Runs the reference side of every case in the tests/test_reference_*.py modules (``CASES``) and
stores the trajectories. Values come from the reference optimizers only, never from jaxsched.
"""

import importlib
import importlib.metadata
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.optim_parity import run_torch  # noqa: E402
from tests.reference_parity import GOLDEN  # noqa: E402


def main() -> None:
    for package in ("torch", "lion-pytorch", "pytorch_optimizer"):
        print(f"{package} {importlib.metadata.version(package)}")
    trajectories = {}
    for path in sorted(HERE.parent.glob("test_reference_*.py")):
        for name, case in importlib.import_module(f"tests.{path.stem}").CASES.items():
            trajectories[name] = run_torch(case)
    np.savez_compressed(GOLDEN, **trajectories)
    print(f"wrote {len(trajectories)} trajectories to {GOLDEN}")


if __name__ == "__main__":
    main()
