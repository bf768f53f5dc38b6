"""Bounded capture of a script's stdout and stderr.

Each stream keeps at most `limit` bytes; past that, writes are counted as done and
dropped, and `truncated` is set. The kept bytes are what the runner returns.

Kept bytes are also forwarded, a line at a time, to the real WASI file descriptor, where
the host holds them in a capped pipe: if the script is stopped by a limit (a trap ends the
call and the runner's return value with it), the host still has everything up to the last
complete line (or the last 8 KiB block of a line that never ends).
"""

import io
import os

# Forward a pending partial line once it is this long.
FORWARD_BLOCK = 8192


class _Binary(io.RawIOBase):
    """`sys.stdout.buffer`: bytes written here join the same capture."""

    def __init__(self, capture: "Capture"):
        self._capture = capture

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._capture.write_bytes(data)
        return len(data)

    def flush(self) -> None:
        self._capture.flush()


class Capture(io.TextIOBase):
    """A text stream that keeps the first `limit` bytes written to it."""

    def __init__(self, fd: int, limit: int):
        super().__init__()
        self._fd = fd
        self._limit = max(0, limit)
        self._chunks: list[bytes] = []
        self._size = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._forwarding = True
        self.truncated = False
        self.buffer = _Binary(self)

    # What scripts look at on sys.stdout.
    encoding = "utf-8"
    errors = "backslashreplace"
    newlines = None
    line_buffering = True

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("the sandbox's captured output has no file descriptor")

    def reconfigure(self, **_options) -> None:
        """Accepted and ignored: output is always UTF-8 (scripts often ask for it)."""

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not self.truncated:
            room = self._limit - self._size
            # Each character is at least one byte: never encode more than fits.
            self.write_bytes(text[: room + 1].encode("utf-8", "backslashreplace"))
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        if self.truncated or not data:
            return
        room = self._limit - self._size
        if len(data) > room:
            self.truncated = True
            # Cut on a character boundary so the result stays valid UTF-8.
            data = data[:room].decode("utf-8", "ignore").encode("utf-8")
        if not data:
            return
        self._chunks.append(data)
        self._size += len(data)
        self._pending.append(data)
        self._pending_size += len(data)
        if b"\n" in data or self._pending_size >= FORWARD_BLOCK or self.truncated:
            self.flush()

    def flush(self) -> None:
        """Forwards what is pending to the WASI descriptor (see the module doc)."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if not self._forwarding:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            # The host's pipe is full (the script also wrote to the descriptor itself):
            # the capture still has everything, only the copy stops.
            self._forwarding = False

    def getvalue(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")
