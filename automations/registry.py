"""Plug-in catalogs: every module in a package that defines a class with an `id` is listed.

Adding a trigger or an action is adding one file to automations/triggers/ or
automations/actions/: the registry finds it by importing the package's modules.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any


def discover(package: ModuleType, base: type) -> dict[str, type[Any]]:
    """Map each concrete subclass of `base` defined in `package`'s modules by its `id`."""
    found: dict[str, type[Any]] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, base)
                and value is not base
                and value.__module__ == module.__name__
                and getattr(value, "id", "")
            ):
                if value.id in found:
                    raise RuntimeError(f"Two plug-ins share the id {value.id!r}")
                found[value.id] = value
    return found
