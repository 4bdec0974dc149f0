"""Placeholder: being implemented (issue 4)."""

def adamax(*args, **kwargs):
    raise NotImplementedError("adamax is not implemented yet")


