"""Placeholder: being implemented (issue 4)."""

def adadelta(*args, **kwargs):
    raise NotImplementedError("adadelta is not implemented yet")


