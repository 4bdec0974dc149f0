"""Placeholder: being implemented (issue 4)."""

def lbfgs(*args, **kwargs):
    raise NotImplementedError("lbfgs is not implemented yet")


