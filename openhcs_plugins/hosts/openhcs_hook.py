"""The start-up hook ``openhcs-plugins host install openhcs`` puts in an environment.

``host install`` copies this file, as it is, into the environment's site-packages as
``_openhcs_plugins_host_hook.py``, beside a ``.pth`` file whose one line imports it at every
start of that environment's Python (OpenHCS's GUI, its execution server, its spawn workers, its
catalog-preparation process). It imports only ``sys`` (no ``typing``, no ``importlib.abc``, not
this package: every Python start of the environment pays for it, about a millisecond) and adds
an import hook: when OpenHCS's function registry module
(``openhcs.processing.backends.lib_registry.openhcs_registry``) has been imported, it calls
:func:`openhcs_plugins.hosts.openhcs.publish`, which declares one OpenHCS registry per installed
plugin namespace. A failure there (this project uninstalled, an OpenHCS version it does not
support) is logged, never raised into OpenHCS.
"""

import sys

#: The OpenHCS module after whose import the plugin registries are declared.
TARGET = "openhcs.processing.backends.lib_registry.openhcs_registry"


class _Loader:
    """The target's own loader, then :func:`_published` (a loader by duck typing)."""

    def __init__(self, loader):  # type: ignore[no-untyped-def]
        self.loader = loader

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return self.loader.create_module(spec)

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        self.loader.exec_module(module)
        _published()


class _Finder:
    """A meta-path finder that answers for :data:`TARGET` only, through the other finders."""

    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


def _published() -> None:
    try:
        from openhcs_plugins.hosts.openhcs import publish

        publish()
    except Exception as exc:  # never into OpenHCS: it keeps its own functions
        import logging

        logging.getLogger("openhcs_plugins.hosts").warning(
            "openhcs-plugins: publishing plugin packages to OpenHCS failed: %s: %s "
            "(run `openhcs-plugins host status`)",
            type(exc).__name__,
            exc,
        )


def install() -> None:
    """Add the import hook (once); publish now if OpenHCS's registry is already imported."""
    if any(isinstance(finder, _Finder) for finder in sys.meta_path):
        return
    if TARGET in sys.modules:
        _published()
        return
    sys.meta_path.insert(0, _Finder())


install()
