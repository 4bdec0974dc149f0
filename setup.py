"""Build the optional one-pass optimizer kernel (``jaxsched._fused_kernel``, used by ``js.fused``).

Everything else is in ``pyproject.toml``. The extension is optional: without a C++17 compiler the
build skips it and ``js.fused`` runs its pure-JAX fallback. It needs only the XLA FFI headers
vendored in ``jaxsched/_kernel/include`` and Python's own headers; nothing is downloaded.
"""

import sys

from setuptools import Extension, setup

KERNEL = "jaxsched/_kernel"
# -Werror=pragmas: a target pragma GCC does not understand would silently build the baseline loops
flags = ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden", "-Werror=pragmas"]
if sys.platform == "win32":
    flags = ["/std:c++17", "/O2", "/fp:precise"]

setup(
    ext_modules=[
        Extension(
            "jaxsched._fused_kernel",
            sources=[f"{KERNEL}/{name}.cc" for name in ("fused", "ops_generic", "ops_avx2", "ops_avx512")],
            include_dirs=[KERNEL, f"{KERNEL}/include"],
            depends=[f"{KERNEL}/{name}" for name in ("kernel.h", "isa.h", "ops.h")],
            extra_compile_args=flags,
            language="c++",
            optional=True,
        )
    ]
)
