"""Refuses, before anything runs, a program that imports what this sandbox cannot give.

A script whose imports fail halfway through may already have written files or printed
half its output; refusing up front gives the model one clear answer instead: the plugin's
policy must switch it to native mode (`needs native mode: imports lxml, subprocess`).

What counts as an import: every `import X` and `from X import ...` anywhere in the
module (inside functions too, since they usually run), except those guarded by a `try`
whose handler catches ImportError (the script has a fallback; a module that is missing
then raises ImportError at run time, as in CPython).

The skill's own modules are followed: an import that resolves to a file of the skill (next
to the script, in the skill's folder, or in a folder the program adds to `sys.path` with a
literal path) is read and its imports checked too, relative ones included, so that a
package such as `scripts/office/` that needs `lxml` is refused up front and not halfway
through. `runpy.run_module("m")` and `runpy.run_path("p")` with literal arguments count as
imports of what they run.
"""

import ast
import importlib.machinery
import posixpath
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


# How many of the skill's own files are followed, and how big each may be: a skill's
# package is a few dozen files; past this the rest is left to run time (and said).
MAX_FOLLOWED_FILES = 512
MAX_FOLLOWED_BYTES = 1 << 20


class _Imports:
    """What one module imports: absolute names, relative ones (level, module, names), the
    paths it runs with runpy, and the literal folders it adds to `sys.path`."""

    def __init__(self) -> None:
        self.absolute: dict[str, None] = {}
        self.relative: list[tuple[int, str, list[str]]] = []
        self.paths: list[str] = []
        self.sys_path: list[str] = []


def _literal_path(node: ast.AST, here: str) -> str | None:
    """A path the program spells out: a string, `__file__`, or `os.path.join` /
    `os.path.dirname` / `os.path.abspath` of those (`pathlib` spellings too)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id == "__file__":
        return here
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        args = [_literal_path(a, here) for a in node.args]
        if any(a is None for a in args):
            return None
        if name == "join" and args:
            return posixpath.join(*args)
        if name in ("dirname", "abspath", "realpath", "normpath", "str", "Path") and len(args) == 1:
            return {
                "dirname": posixpath.dirname,
                "abspath": posixpath.normpath,
                "realpath": posixpath.normpath,
                "normpath": posixpath.normpath,
            }.get(name, lambda p: p)(args[0])
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _literal_path(node.value, here)
        return posixpath.dirname(inner) if inner is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = _literal_path(node.left, here), _literal_path(node.right, here)
        if left is not None and right is not None:
            return posixpath.join(left, right)
    return None


def _is_sys_path(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _scan(tree: ast.AST, here: str) -> _Imports:
    found = _Imports()

    def sys_path_entries(node: ast.AST) -> None:
        elements = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        for element in elements:
            path = _literal_path(element, here)
            if path is not None:
                found.sys_path.append(path)

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            if not guarded:
                found.absolute.update((alias.name, None) for alias in node.names)
            return
        if isinstance(node, ast.ImportFrom):
            if guarded:
                return
            names = [alias.name for alias in node.names if alias.name != "*"]
            if node.level == 0 and node.module:
                found.absolute[node.module] = None
                # `from pkg import sub` may import the submodule `pkg.sub`: followed when
                # it is one of the skill's files (resolved later).
                found.relative.append((0, node.module, names))
            elif node.level > 0:
                found.relative.append((node.level, node.module or "", names))
            return
        if isinstance(node, (ast.Try, ast.TryStar)):
            body_guarded = guarded or any(_catches_import_error(h) for h in node.handlers)
            for child in node.body:
                visit(child, body_guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, guarded)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if _is_sys_path(func.value) and func.attr in ("insert", "append", "extend"):
                for arg in node.args[-1:]:
                    sys_path_entries(arg)
            if (
                isinstance(func.value, ast.Name)
                and func.value.id == "runpy"
                and node.args
                and not guarded
            ):
                target = node.args[0]
                if func.attr == "run_module" and isinstance(target, ast.Constant):
                    if isinstance(target.value, str):
                        found.absolute[target.value] = None
                elif func.attr == "run_path":
                    path = _literal_path(target, here)
                    if path is not None:
                        found.paths.append(path)
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                base = target.value if isinstance(target, ast.Subscript) else target
                if _is_sys_path(base):
                    sys_path_entries(node.value)
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def imported_modules(tree: ast.AST) -> list[str]:
    """Absolute module names imported outside ImportError guards, in order, no repeats."""
    return list(_scan(tree, "").absolute)


def _spec(name: str, search: list[str]):
    """The spec of `name` (dotted) among the folders `search`, or None."""
    locations = search
    spec = None
    for part in name.split("."):
        try:
            spec = importlib.machinery.PathFinder.find_spec(part, locations)
        except (ImportError, OSError, ValueError):
            return None
        if spec is None:
            return None
        locations = list(spec.submodule_search_locations or [])
    return spec


def _files_of(name: str, search: list[str]) -> list[str] | None:
    """The skill's own source files that importing `name` runs (each package's
    `__init__.py` and the module), or None when `name` is not among `search`."""
    parts = name.split(".")
    if _spec(parts[0], search) is None:
        return None
    files = []
    for i in range(len(parts)):
        spec = _spec(".".join(parts[: i + 1]), search)
        if spec is None:
            break
        if spec.origin and spec.origin.endswith(".py"):
            files.append(spec.origin)
    return files


def _local(name: str, search: list[str]) -> bool:
    """Whether `name` is a module or package in one of the script's own folders."""
    return _spec(name.split(".")[0], search) is not None


def _package_of(path: str, search: list[str]) -> str:
    """The dotted package a file of the skill belongs to (relative to the search folder
    it is under), for resolving its relative imports."""
    folder = posixpath.dirname(path)
    for root in sorted(search, key=len, reverse=True):
        root = root.rstrip("/") or "/"
        if folder == root:
            return ""
        if folder.startswith(root + "/"):
            return folder[len(root) + 1 :].replace("/", ".")
    return ""


class _Walk:
    """The imports of a program and of every skill file it reaches."""

    def __init__(self, search: list[str], skill_root: str) -> None:
        self.search = list(search)
        self.skill_root = skill_root
        self.absolute: dict[str, str] = {}  # module -> the skill file importing it
        self.seen: set[str] = set()
        self.skipped = 0

    def _inside(self, path: str) -> bool:
        path = posixpath.normpath(path)
        return path == self.skill_root or path.startswith(self.skill_root.rstrip("/") + "/")

    def program(self, tree: ast.AST, here: str) -> None:
        self._module(tree, here, "")

    def _file(self, path: str) -> None:
        path = posixpath.normpath(path)
        if path in self.seen or not self._inside(path):
            return
        self.seen.add(path)
        if len(self.seen) > MAX_FOLLOWED_FILES:
            self.skipped += 1
            return
        try:
            with open(path, "rb") as f:
                source = f.read(MAX_FOLLOWED_BYTES + 1)
            if len(source) > MAX_FOLLOWED_BYTES:
                self.skipped += 1
                return
            tree = ast.parse(source, path)
        except (OSError, SyntaxError, ValueError):
            # Not ours to judge here: it fails when imported, with CPython's message.
            return
        self._module(tree, path, _package_of(path, self.search))

    def _module(self, tree: ast.AST, here: str, package: str) -> None:
        found = _scan(tree, here)
        base = posixpath.dirname(here) if here.startswith("/") else ""
        for entry in found.sys_path:
            folder = posixpath.normpath(posixpath.join(base or SCRATCH_DIR, entry))
            if self._inside(folder) and folder not in self.search:
                self.search.append(folder)
        for module in found.absolute:
            self.absolute.setdefault(module, here)
        for path in found.paths:
            self._file(posixpath.join(base or SCRATCH_DIR, path))
        targets: list[str] = []
        for level, module, names in found.relative:
            if level == 0:
                anchor = module
            else:
                parts = package.split(".") if package else []
                if level - 1 > len(parts):
                    continue
                parts = parts[: len(parts) - (level - 1)]
                anchor = ".".join([*parts, *([module] if module else [])])
            if level > 0 and anchor:
                targets.append(anchor)
            targets.extend(f"{anchor}.{n}" if anchor else n for n in names)
        for module in [*found.absolute, *targets]:
            for path in _files_of(module, self.search) or []:
                self._file(path)


# Where inline code runs: relative `sys.path` entries are relative to it.
SCRATCH_DIR = "/scratch"


def refused(
    tree: ast.AST,
    available: frozenset[str],
    failed: frozenset[str],
    search: list[str],
    here: str = "",
    skill_root: str = "/skill",
    unchecked: list[int] | None = None,
) -> list[str]:
    """The imports that need native mode: the denied ones (by their full dotted name), the
    top-level names of modules neither preloaded, built in, nor the skill's own, and stdlib
    submodules that could not be built for WASI (`failed`); each import of one of the
    skill's own files says which file it is in (`lxml (scripts/office/docx.py)`)."""
    walk = _Walk(search, skill_root)
    walk.program(tree, here)
    if unchecked is not None:
        # How many of the skill's files were past MAX_FOLLOWED_FILES or _BYTES: the caller
        # says so, since their imports are then checked only when they run.
        unchecked.append(walk.skipped)
    offending: dict[str, None] = {}
    for module, where in walk.absolute.items():
        parts = module.split(".")
        prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
        denied = sorted(prefixes & NEEDS_NATIVE)
        name = None
        if denied:
            name = denied[0]
        else:
            top = parts[0]
            if top in sys.builtin_module_names or _local(top, walk.search):
                continue
            if top not in available:
                name = top
            elif module in failed:
                # A stdlib submodule this build lacks (compression.lzma needs _lzma).
                name = module
        if name is None:
            continue
        if where != here and where.startswith(skill_root.rstrip("/") + "/"):
            name = f"{name} ({where[len(skill_root.rstrip('/')) + 1 :]})"
        offending[name] = None
    return list(offending)
