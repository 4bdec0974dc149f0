"""Placeholder: being implemented (issue 4)."""

def adam(*args, **kwargs):
    raise NotImplementedError("adam is not implemented yet")


def adamw(*args, **kwargs):
    raise NotImplementedError("adamw is not implemented yet")


