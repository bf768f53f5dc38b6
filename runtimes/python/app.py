"""The sandboxed Python runner: runs one program per call, like `python -c CODE` or
`python /skill/PATH`, with captured and capped output.

The host gives each call a fresh instance with the skill's folder read-only at `/skill`
and an empty scratch folder read-write at `/scratch`, which becomes the working directory.
There is no network (sockets are linked but refused), no processes, and only the
environment the calling plugin's policy names.
"""

import preload  # first: the build-time snapshot must hold the whole stdlib

import ast
import atexit
import builtins
import io
import linecache
import os
import posixpath
import random
import sys
import traceback
import types

import preflight
import wit_world
from capture import Capture
from componentize_py_types import Err

SKILL = "/skill"
SCRATCH = "/scratch"
NEEDS_NATIVE = "needs native mode: imports "

# The runner's own modules: hidden from the script so that a skill's `app.py` (say)
# imports the skill's file, as it would under CPython.
RUNNER_MODULES = ("app", "preload", "preflight", "capture")
AVAILABLE = preload.PRELOADED - frozenset(RUNNER_MODULES)
FAILED = frozenset(preload.FAILED)


def _asyncio_without_self_pipe() -> None:
    """asyncio's event loop opens a socket pair to wake itself from other threads and
    signal handlers. Here there are no threads and sockets are refused, so every
    `asyncio.run` would fail; without the pair the loop still sleeps and runs tasks."""
    from asyncio import selector_events

    loop = selector_events.BaseSelectorEventLoop
    close = loop._close_self_pipe

    def _make_self_pipe(self):
        self._ssock = self._csock = None  # `_write_to_self` skips a missing socket

    def _close_self_pipe(self):
        if self._ssock is not None:
            close(self)

    loop._make_self_pipe = _make_self_pipe
    loop._close_self_pipe = _close_self_pipe


_asyncio_without_self_pipe()


class WitWorld(wit_world.WitWorld):
    def run(self, request: wit_world.RunRequest) -> wit_world.RunOutput:
        try:
            return _run(request)
        except Err:
            raise
        except BaseException as e:  # noqa: BLE001 - a failure of the runner itself
            raise Err(f"the Python runner failed: {type(e).__name__}: {e}") from None


def _run(request: wit_world.RunRequest) -> wit_world.RunOutput:
    stdout = Capture(1, request.max_output_bytes)
    stderr = Capture(2, request.max_output_bytes)

    if isinstance(request.source, wit_world.Source_Code):
        source, filename, argv0, script_dir = request.source.value, "<string>", "-c", ""
        # Tracebacks of inline code show its lines, as they do for a file.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    else:
        filename = argv0 = posixpath.join(SKILL, request.source.value)
        script_dir = posixpath.dirname(filename)
        try:
            with open(filename, "rb") as f:
                source = f.read()
        except OSError as e:
            raise Err(f"cannot read {filename}: {e}") from None

    try:
        tree = ast.parse(source, filename)
        # Some errors only the compiler sees (`return` outside a function).
        code = compile(tree, filename, "exec")
    except (SyntaxError, ValueError) as e:
        # What CPython prints for a program it cannot compile, and its exit status.
        traceback.print_exception(e, limit=0, file=stderr)
        return _output(stdout, stderr, 1)

    search = [script_dir or SCRATCH, SKILL]
    unchecked: list[int] = []
    refused = preflight.refused(tree, AVAILABLE, FAILED, search, filename, SKILL, unchecked)
    if refused:
        raise Err(NEEDS_NATIVE + ", ".join(refused))
    if unchecked and unchecked[0]:
        stderr.write(
            f"wasmhost: the preflight did not follow {unchecked[0]} of the skill's files (past "
            f"{preflight.MAX_FOLLOWED_FILES} files, or over {preflight.MAX_FOLLOWED_BYTES} bytes "
            "each); their imports are checked only when they run\n"
        )

    try:
        os.chdir(SCRATCH)
    except OSError as e:
        raise Err(f"cannot enter the scratch folder {SCRATCH}: {e}") from None
    sys.argv = [argv0, *request.args]
    sys.stdin = sys.__stdin__ = io.StringIO(request.stdin)
    sys.stdout = sys.__stdout__ = stdout
    sys.stderr = sys.__stderr__ = stderr
    sys.path.insert(0, script_dir)
    # The snapshot froze the generator's state at build time: without this every run
    # would draw the same "random" numbers.
    random.seed()

    status = _execute(code, filename, stderr)
    _flush_replaced_streams()
    return _output(stdout, stderr, status)


def _execute(code: types.CodeType, filename: str, stderr: Capture) -> int:
    """Runs `code` as `__main__` and returns the exit status CPython would have."""
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    if filename != "<string>":
        main.__file__ = filename
    sys.modules["__main__"] = main
    hidden = {name: sys.modules.pop(name) for name in RUNNER_MODULES if name in sys.modules}
    try:
        exec(code, main.__dict__)
        status = 0
    except SystemExit as e:
        status = _exit_status(e, stderr)
    except BaseException as e:  # noqa: BLE001 - the script's own failure
        _print_traceback(e, main, stderr)
        status = 1
    finally:
        sys.modules.update(hidden)
    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - CPython ignores these too (it prints them)
        pass
    return status


def _print_traceback(e: BaseException, main: types.ModuleType, stderr: Capture) -> None:
    """Prints what CPython prints for an uncaught exception, from the script's frame on."""
    tb = e.__traceback__.tb_next if e.__traceback__ else None
    if isinstance(e, MemoryError):
        # Formatting needs memory the script still holds: free its variables first
        # (the traceback keeps file names and line numbers, which is all it needs).
        traceback.clear_frames(tb)
        main.__dict__.clear()
    try:
        traceback.print_exception(type(e), e, tb, file=stderr)
    except BaseException:  # noqa: BLE001 - still out of memory, say: the short form
        stderr.write(f"{type(e).__name__}: {e}\n")


def _exit_status(e: SystemExit, stderr: Capture) -> int:
    """`sys.exit(n)` -> n (as the OS would keep it, 0-255); `sys.exit("msg")` prints the
    message and gives 1."""
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=stderr)
    return 1


def _flush_replaced_streams() -> None:
    """A script that wrapped sys.stdout (say in a TextIOWrapper of its `.buffer`) may hold
    text in the wrapper: flush it into the capture underneath."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, Capture):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a broken replacement is the script's own
                pass


def _output(stdout: Capture, stderr: Capture, status: int) -> wit_world.RunOutput:
    # Forward the last partial lines too: the host prefers the descriptors' copy when
    # the script also wrote to them directly (it has both, in order).
    stdout.flush()
    stderr.flush()
    return wit_world.RunOutput(
        stdout=stdout.getvalue(),
        stderr=stderr.getvalue(),
        exit_code=status,
        truncated=stdout.truncated or stderr.truncated,
    )
