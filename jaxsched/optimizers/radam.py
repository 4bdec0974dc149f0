"""Placeholder: being implemented (issue 4)."""

def radam(*args, **kwargs):
    raise NotImplementedError("radam is not implemented yet")


