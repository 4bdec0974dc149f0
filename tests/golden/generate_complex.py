"""Regenerate tests/golden/complex.npz: torch 2.13's trajectories on complex parameters (needs torch).

    python tests/golden/generate_complex.py

Runs the torch side of every case in ``tests/complex_parity.py``; values come from torch only.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent.parent))

import torch

from tests.complex_parity import CASES, GOLDEN, run_torch

if __name__ == "__main__":
    print(f"torch {torch.__version__}")
    np.savez_compressed(GOLDEN, **{name: run_torch(name) for name in CASES})
    print(f"wrote {len(CASES)} trajectories to {GOLDEN}")
