"""Tools for property tests of schedule and optimizer math (the ones jaxsched's own tests use).

Assertions work without extra dependencies; ``jaxsched.testing.strategies`` needs ``hypothesis``.

Example::

    from jaxsched.testing import assert_schedule_bounded, assert_continuous_at
    sched = js.schedules.warmup(js.schedules.cosine_decay(0.1, 900), 100)
    assert_schedule_bounded(sched, 0.0, 0.1, steps=1000)
    assert_continuous_at(sched, [100])
"""

from jaxsched.testing.assertions import (
    assert_continuous_at as assert_continuous_at,
)
from jaxsched.testing.assertions import (
    assert_no_recompile as assert_no_recompile,
)
from jaxsched.testing.assertions import (
    assert_schedule_bounded as assert_schedule_bounded,
)
from jaxsched.testing.assertions import (
    assert_schedule_monotone as assert_schedule_monotone,
)
from jaxsched.testing.assertions import (
    assert_schedule_periodic as assert_schedule_periodic,
)
from jaxsched.testing.assertions import (
    assert_trees_close as assert_trees_close,
)

__all__ = [
    "assert_continuous_at",
    "assert_no_recompile",
    "assert_schedule_bounded",
    "assert_schedule_monotone",
    "assert_schedule_periodic",
    "assert_trees_close",
]
