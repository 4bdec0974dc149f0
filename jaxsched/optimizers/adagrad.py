"""Placeholder: being implemented (issue 4)."""

def adagrad(*args, **kwargs):
    raise NotImplementedError("adagrad is not implemented yet")


