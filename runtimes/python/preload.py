"""Imports the whole standard library at build time.

componentize-py runs the app's module body once while building and snapshots the
interpreter's memory; at run time there is no stdlib on any filesystem, so only modules
imported here exist. Hand-picked lists break (argparse needs gettext, locale, shutil...),
and C code imports some modules lazily (`datetime.strptime` needs `_strptime`), so every
module of `sys.stdlib_module_names` and every submodule of those packages is imported.
What cannot be imported under WASI (no C extension in this build, or an OS feature WASI
lacks) is recorded in `FAILED`; README.md lists it.
"""

import importlib
import pkgutil
import sys

# Never preloaded: importing them has side effects (`this` prints, `antigravity` opens a
# browser), or they are GUI or test suites no skill script uses.
SKIPPED = frozenset(
    {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test"}
)

# Submodules that run a program when imported, or hold test suites.
_SKIPPED_PARTS = frozenset({"__main__", "test", "tests", "idle_test"})

# Module name -> why it could not be imported at build time.
FAILED: dict[str, str] = {}


def _try_import(name: str):
    try:
        return importlib.import_module(name)
    except BaseException as e:  # noqa: BLE001 - SystemExit and friends too: keep going
        FAILED[name] = f"{type(e).__name__}: {e}"
        return None


def preload_all() -> None:
    for name in sorted(sys.stdlib_module_names):
        if name in SKIPPED:
            continue
        module = _try_import(name)
        path = getattr(module, "__path__", None)
        if path is None:
            continue
        for info in pkgutil.walk_packages(path, name + ".", onerror=lambda _name: None):
            if _SKIPPED_PARTS.isdisjoint(info.name.split(".")):
                _try_import(info.name)


preload_all()

# Everything importable at run time, frozen now, before the runner's own modules load.
PRELOADED = frozenset(sys.modules)
