"""Placeholder: being implemented (issue 4)."""

def rprop(*args, **kwargs):
    raise NotImplementedError("rprop is not implemented yet")


