"""Regenerate the golden trajectories in tests/golden/optimizers.npz (needs torch==2.13.0).

The reference packages' entries need theirs too: lion-pytorch 0.2.5, pytorch_optimizer 4.1.0,
prodigyopt 1.1.2.

    python tests/golden/generate.py               # every optimizer of tests/optim_db.py, from scratch
    python tests/golden/generate.py adam adamw    # only these optimizers; other entries are kept

Runs the reference side (torch.optim or the package's class) of every parity case in
``tests/optim_db.py`` and stores the trajectories. Values come from the references only, never
from jaxsched.
"""

import fcntl
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from tests.optim_db import OPTIMIZERS  # noqa: E402
from tests.optim_parity import GOLDEN, run_torch  # noqa: E402


def trajectories(names: list[str]) -> dict[str, np.ndarray]:
    """The torch trajectory of every parity case of the named optimizers."""
    return {case_name: run_torch(case) for name in names for case_name, case in OPTIMIZERS[name].parity.items()}


def main(names: list[str]) -> None:
    print(f"torch {torch.__version__}")
    merge = bool(names)
    with open(HERE / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several writers may regenerate their own cases at once
        stored = dict(np.load(GOLDEN)) if merge and GOLDEN.exists() else {}
        stored.update(trajectories(names or list(OPTIMIZERS)))
        np.savez_compressed(GOLDEN, **stored)
    print(f"wrote {len(stored)} trajectories to {GOLDEN}")


if __name__ == "__main__":
    main(sys.argv[1:])
