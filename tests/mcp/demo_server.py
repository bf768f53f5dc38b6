"""A local MCP server written with the official Python SDK's MCPServer (the 2.x name of FastMCP), for the tests of
`wasmhost run --mcp NAME`: plain tools, a failing one, slow and huge ones, one that dies,
one that reports its environment, an image, and a name the model APIs refuse. With
`--http PORT_FILE` it serves Streamable HTTP instead (see `serve_http`)."""

import asyncio
import os
import sys
import time

from pydantic import BaseModel

import mcp_types
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

mcp = MCPServer("demo")
print("demo server starting", file=sys.stderr, flush=True)
# Where the tests find this process (in the folder the policy starts it in).
with open("server.pid", "w") as f:
    f.write(str(os.getpid()))
with open("server.pids", "a") as f:
    f.write(f"{os.getpid()}\n")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@mcp.tool()
def env(name: str) -> str:
    """The value of an environment variable in this server, or <unset>."""
    return os.environ.get(name, "<unset>")


@mcp.tool()
def where() -> str:
    """The folder this server runs in."""
    return os.getcwd()


@mcp.tool()
def fail(message: str) -> str:
    """Always fails with `message` (an anticipated failure: the model reads it)."""
    raise ToolError(message)


@mcp.tool()
async def sleep(seconds: float) -> str:
    """Sleeps, then says so."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@mcp.tool()
def block(seconds: float) -> str:
    """Blocks its thread (a server stuck in a call: stdin closing does not end it)."""
    with open("blocking", "w") as f:
        f.write("yes")
    time.sleep(seconds)
    return f"blocked {seconds}"


@mcp.tool()
def shout(mib: int) -> str:
    """Writes `mib` MiB to stderr, in lines and without, then answers."""
    chunk = ("y" * 1023 + "\n") * 1024
    for _ in range(mib):
        sys.stderr.write(chunk)
    sys.stderr.write("z" * (1 << 20))
    sys.stderr.flush()
    return "done shouting"


@mcp.tool()
def big(n: int) -> str:
    """n bytes of text."""
    return "x" * n


@mcp.tool()
def die() -> str:
    """Exits the server mid-call."""
    print("dying now \x1b[2J", file=sys.stderr, flush=True)
    os._exit(3)


@mcp.tool()
def pixel() -> Image:
    """A one-pixel PNG."""
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    return Image(data=png, format="png")


class City(BaseModel):
    city: str


@mcp.tool()
async def ask(ctx: Context) -> str:
    """Asks the client's user for a city (elicitation), then asks its model (sampling)."""
    said = []
    try:
        answer = await ctx.elicit("Which city?", City)
        said.append(f"elicited: {answer.action}")
    except Exception as e:  # noqa: BLE001 - the point is to report what the client did
        said.append(f"elicitation refused: {type(e).__name__}: {e}")
    try:
        message = mcp_types.SamplingMessage(
            role="user", content=mcp_types.TextContent(type="text", text="hi")
        )
        reply = await ctx.request_context.session.create_message([message], max_tokens=5)
        said.append(f"sampled: {reply}")
    except Exception as e:  # noqa: BLE001
        said.append(f"sampling refused: {type(e).__name__}: {e}")
    return "; ".join(said)


@mcp.tool(name="bad.name")
def bad_name() -> str:
    """A name with a dot."""
    return "unreachable"


# A server that offers too much, when the test asks for it: DEMO_MANY more tools, and one
# with a description of DEMO_HUGE_KIB KiB.
for i in range(int(os.environ.get("DEMO_MANY", "0"))):
    mcp.add_tool(lambda: "extra", name=f"extra_{i:04}", description=f"Extra tool {i}.")
if os.environ.get("DEMO_HUGE_KIB"):
    mcp.add_tool(
        lambda: "huge",
        name="huge",
        description="h" * (int(os.environ["DEMO_HUGE_KIB"]) * 1024),
    )


@mcp.tool()
def whoami(ctx: Context) -> str:
    """Echoes the Authorization header of the HTTP request that carried this call (a server
    that hands a client's token back)."""
    request = ctx.request_context.request
    if request is None:
        return "not over HTTP"
    return f"you sent: {request.headers.get('authorization', '<none>')}"


def serve_http(port_file: str) -> None:
    """Streamable HTTP on a free loopback port (written to `port_file`), behind a gate that
    logs every request to requests.log, wants `Bearer $DEMO_TOKEN` when DEMO_TOKEN is set,
    and redirects /same to /mcp and /moved to $DEMO_REDIRECT."""
    import socket

    import uvicorn

    token = os.environ.get("DEMO_TOKEN")
    app = mcp.streamable_http_app(host="127.0.0.1")

    async def gate(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        sent = headers.get("authorization")
        auth = "missing" if sent is None else ("ok" if sent == f"Bearer {token}" else "wrong")
        with open("requests.log", "a") as log:
            log.write(f"{scope['method']} {scope['path']} auth={auth}\n")

        async def answer(status, extra):
            await send({"type": "http.response.start", "status": status, "headers": extra})
            await send({"type": "http.response.body", "body": b""})

        if token is not None and auth != "ok":
            return await answer(401, [(b"www-authenticate", b"Bearer")])
        if scope["path"] == "/same":
            return await answer(307, [(b"location", b"/mcp")])
        if scope["path"] == "/moved":
            return await answer(307, [(b"location", os.environ["DEMO_REDIRECT"].encode())])
        return await app(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    config = uvicorn.Config(gate, log_level="warning", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        serve_http(sys.argv[2])
    else:
        mcp.run()
