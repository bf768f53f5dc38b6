"""Refuses, before anything runs, a program that imports what this sandbox cannot give.

A script whose imports fail halfway through may already have written files or printed
half its output; refusing up front gives the model one clear answer instead: the plugin's
policy must switch it to native mode (`needs native mode: imports lxml, subprocess`).

What counts as an import: every `import X` and `from X import ...` anywhere in the
module (inside functions too, since they usually run), except relative imports and those
guarded by a `try` whose handler catches ImportError (the script has a fallback; a module
that is missing then raises ImportError at run time, as in CPython).
"""

import ast
import importlib.machinery
import sys

# Importable here (or not), but what they are for is something WASI cannot do:
# - subprocess, pty: WASI has no processes (`Popen` raises "wasi does not support processes");
# - multiprocessing, concurrent.futures.process: worker processes;
# - ctypes: loading native libraries (there is no dynamic linking, and no `_ctypes` either).
# A script importing one would fail at its first use, so it needs native mode. Modules
# that import fine and fail only on some uses stay allowed: socket (no network is granted
# either way; connecting raises an OSError the script can handle), threading (imported by
# logging and others; only starting a thread fails), os (os.system/fork are absent).
NEEDS_NATIVE = frozenset(
    {
        "subprocess",
        "pty",
        "multiprocessing",
        "concurrent.futures.process",
        "ctypes",
    }
)

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(
        (isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS)
        or (isinstance(n, ast.Attribute) and n.attr in _IMPORT_ERRORS)
        for n in names
    )


def imported_modules(tree: ast.AST) -> list[str]:
    """Absolute module names imported outside ImportError guards, in order, no repeats."""
    found: dict[str, None] = {}

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            if not guarded:
                found.update((alias.name, None) for alias in node.names)
            return
        if isinstance(node, ast.ImportFrom):
            if not guarded and node.level == 0 and node.module:
                found[node.module] = None
            return
        if isinstance(node, (ast.Try, ast.TryStar)):
            body_guarded = guarded or any(_catches_import_error(h) for h in node.handlers)
            for child in node.body:
                visit(child, body_guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return list(found)


def _local(name: str, search: list[str]) -> bool:
    """Whether `name` is a module or package in one of the script's own folders."""
    try:
        return importlib.machinery.PathFinder.find_spec(name, search) is not None
    except (ImportError, OSError, ValueError):
        return False


def refused(
    tree: ast.AST, available: frozenset[str], failed: frozenset[str], search: list[str]
) -> list[str]:
    """The imports that need native mode: the denied ones (by their full dotted name), the
    top-level names of modules neither preloaded, built in, nor next to the script, and
    stdlib submodules that could not be built for WASI (`failed`)."""
    offending: dict[str, None] = {}
    for module in imported_modules(tree):
        parts = module.split(".")
        prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
        denied = sorted(prefixes & NEEDS_NATIVE)
        if denied:
            offending[denied[0]] = None
            continue
        top = parts[0]
        if top in sys.builtin_module_names or _local(top, search):
            continue
        if top not in available:
            offending[top] = None
        elif module in failed:
            # A stdlib submodule this build lacks (compression.lzma needs _lzma).
            offending[module] = None
    return list(offending)
