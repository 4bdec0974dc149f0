"""Learning-rate schedules: pure functions ``step -> value`` (placeholder, issue 3)."""
