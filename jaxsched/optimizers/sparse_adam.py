"""Placeholder: being implemented (issue 4)."""

def sparse_adam(*args, **kwargs):
    raise NotImplementedError("sparse_adam is not implemented yet")


