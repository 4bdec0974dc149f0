import jax
import pytest


@pytest.fixture
def x64():
    """Run the test with float64 enabled (parity with torch is checked in float64)."""
    with jax.enable_x64(True):
        yield
