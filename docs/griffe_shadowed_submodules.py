"""Griffe extension: a name a package imports from its same-named submodule documents the import.

``jaxsched/optimizers/__init__.py`` does ``from jaxsched.optimizers.adam import adam``: at runtime
``jaxsched.optimizers.adam`` (and ``jaxsched.adam``) is then the function, but griffe keeps the
submodule under that name, so the API pages would render the module instead. This rebinds every
such exported name to the imported object, as Python does. It changes nothing once the
implementation modules are private (``_adam.py``), and can then be removed from ``mkdocs.yml``.
"""

from __future__ import annotations

from typing import Any

import griffe


class ShadowedSubmodules(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        # Aliases must point at objects, not paths, before the paths through a rebound name change.
        loader.resolve_aliases(implicit=True, external=False)
        self._rebind(pkg)

    def _rebind(self, module: griffe.Module) -> None:
        for submodule in [member for member in module.members.values() if isinstance(member, griffe.Module)]:
            self._rebind(submodule)
        for name in module.exports or ():
            member = module.members.get(name)
            if isinstance(member, griffe.Module) and name in member.members:
                imported = member.members[name]
                target = imported.final_target if isinstance(imported, griffe.Alias) else imported
                module.set_member(name, griffe.Alias(name, target, parent=module))
