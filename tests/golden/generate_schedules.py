"""Regenerate tests/golden/schedules.npz from torch (needs torch==2.13.0).

    python tests/golden/generate_schedules.py

Runs the torch side of every case in ``tests/test_schedules_torch.py`` (``CASES``): SGD on one dummy
parameter, recording ``param_groups[0]['lr']`` and ``['momentum']`` before each ``scheduler.step()``.
Values come from torch only, never from jaxsched.
"""

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from tests.test_schedules_torch import CASES, GOLDEN, run_torch  # noqa: E402


def main() -> None:
    print(f"torch {torch.__version__}")
    values = {name: run_torch(case) for name, case in sorted(CASES.items())}
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(values)} cases to {GOLDEN}")


if __name__ == "__main__":
    main()
