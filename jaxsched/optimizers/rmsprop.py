"""Placeholder: being implemented (issue 4)."""

def rmsprop(*args, **kwargs):
    raise NotImplementedError("rmsprop is not implemented yet")


