"""Placeholder: being implemented (issue 4)."""

def nadam(*args, **kwargs):
    raise NotImplementedError("nadam is not implemented yet")


