"""Placeholder: being implemented (issue 4)."""

def asgd(*args, **kwargs):
    raise NotImplementedError("asgd is not implemented yet")


def asgd_averaged_params(*args, **kwargs):
    raise NotImplementedError("asgd_averaged_params is not implemented yet")


