"""Placeholder: ReduceLROnPlateau as explicit state (issue 5)."""


def reduce_on_plateau(*args, **kwargs):
    raise NotImplementedError("reduce_on_plateau is not implemented yet")
