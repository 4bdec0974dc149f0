"""Regenerate the golden torch trajectories in tests/golden/optimizers.npz (needs torch==2.13.0).

    python tests/golden/generate.py                  # every tests/test_optim_*.py module, from scratch
    python tests/golden/generate.py test_optim_adam  # only these modules; other entries are kept

Runs the torch side of every optimizer parity case (``CASES`` in the test modules) and stores the
trajectories. Values come from torch only, never from jaxsched.
"""

import fcntl
import importlib
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from tests.optim_parity import GOLDEN, run_torch  # noqa: E402


def main(modules: list[str]) -> None:
    print(f"torch {torch.__version__}")
    merge = bool(modules)
    modules = modules or sorted(p.stem for p in HERE.parent.glob("test_optim_*.py"))
    with open(HERE / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several writers may regenerate their own cases at once
        trajectories = dict(np.load(GOLDEN)) if merge and GOLDEN.exists() else {}
        for module_name in modules:
            for name, case in importlib.import_module(f"tests.{module_name}").CASES.items():
                trajectories[name] = run_torch(case)
        np.savez_compressed(GOLDEN, **trajectories)
    print(f"wrote {len(trajectories)} trajectories to {GOLDEN}")


if __name__ == "__main__":
    main(sys.argv[1:])
