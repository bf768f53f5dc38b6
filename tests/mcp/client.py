"""Drives `wasmhost mcp` with the official MCP Python SDK (`mcp` on PyPI) and prints what it
saw as one JSON object, for tests/all/mcp.rs to check.

Usage:
    client.py stdio WASMHOST [SERVER ARGS...]
    client.py http URL            (bearer token, if any, in $MCP_TOKEN)

Reads the steps as JSON on stdin. A step is `[tool, arguments]` (a call) or an object:
    {"op": "call", "tool", "args", "progress": bool, "timeout": secs}
    {"op": "cancel", "tool", "args", "after": secs}     cancel the call after `after` s
                                                        (`was_running`: it had not ended)
    {"op": "concurrent", "tool", "args", "n"}           n calls at once
    {"op": "list_resources"} {"op": "read_resource", "uri"}
    {"op": "list_prompts"} {"op": "get_prompt", "name", "args"}
"""

import asyncio
import contextlib
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


def result_json(result):
    return {
        "is_error": bool(result.is_error),
        "text": "".join(c.text for c in result.content if getattr(c, "type", "") == "text"),
        "structured": result.structured_content,
    }


def error_json(e: MCPError):
    return {"code": e.error.code, "message": e.error.message}


async def call(session, step):
    progress = []

    async def on_progress(value, total, message):
        progress.append({"progress": value, "total": total, "message": message})

    out = {"op": "call", "tool": step["tool"]}
    try:
        result = await session.call_tool(
            step["tool"],
            step.get("args", {}),
            read_timeout_seconds=step.get("timeout"),
            progress_callback=on_progress if step.get("progress") else None,
        )
        out["result"] = result_json(result)
    except MCPError as e:
        out["error"] = error_json(e)
    if step.get("progress"):
        out["progress"] = progress
    return out


async def cancel(session, step):
    task = asyncio.create_task(session.call_tool(step["tool"], step.get("args", {})))
    await asyncio.sleep(step["after"])
    # False if the call had already ended: then there was nothing to cancel.
    was_running = not task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, MCPError):
        await task
    return {"op": "cancel", "tool": step["tool"], "was_running": was_running}


async def concurrent(session, step):
    results = await asyncio.gather(
        *(call(session, {"tool": step["tool"], "args": step.get("args", {})})
          for _ in range(step["n"]))
    )
    return {"op": "concurrent", "tool": step["tool"], "results": results}


async def run_step(session, step):
    if isinstance(step, list):
        step = {"op": "call", "tool": step[0], "args": step[1]}
    op = step["op"]
    try:
        if op == "call":
            return await call(session, step)
        if op == "cancel":
            return await cancel(session, step)
        if op == "concurrent":
            return await concurrent(session, step)
        if op == "list_resources":
            listed = await session.list_resources()
            return {"op": op, "resources": [
                {"uri": str(r.uri), "name": r.name, "mime_type": r.mime_type,
                 "description": r.description} for r in listed.resources]}
        if op == "read_resource":
            read = await session.read_resource(step["uri"])
            return {"op": op, "contents": [
                {"uri": str(c.uri), "mime_type": c.mime_type,
                 "text": getattr(c, "text", None), "blob": getattr(c, "blob", None)}
                for c in read.contents]}
        if op == "list_prompts":
            listed = await session.list_prompts()
            return {"op": op, "prompts": [
                {"name": p.name, "description": p.description,
                 "arguments": [a.name for a in (p.arguments or [])]} for p in listed.prompts]}
        if op == "get_prompt":
            got = await session.get_prompt(step["name"], step.get("args"))
            return {"op": op, "description": got.description, "messages": [
                {"role": m.role, "text": getattr(m.content, "text", None)}
                for m in got.messages]}
    except MCPError as e:
        return {"op": op, "error": error_json(e)}
    raise ValueError(f"unknown op {op}")


async def drive(read, write, steps):
    report = {}
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        report["server"] = {
            "name": init.server_info.name,
            "protocol_version": init.protocol_version,
            "tools_capability": init.capabilities.tools is not None,
            "resources_capability": init.capabilities.resources is not None,
            "prompts_capability": init.capabilities.prompts is not None,
        }
        tools = await session.list_tools()
        report["tools"] = {
            t.name: {"description": t.description, "schema": t.input_schema}
            for t in tools.tools
        }
        report["calls"] = [await run_step(session, step) for step in steps]
    return report


async def main() -> None:
    mode, *rest = sys.argv[1:]
    steps = json.loads(sys.stdin.read())
    if mode == "stdio":
        command, *args = rest
        # The server gets this process's environment: the test sets what it needs.
        params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            report = await drive(read, write, steps)
    elif mode == "http":
        (url,) = rest
        headers = {}
        if os.environ.get("MCP_TOKEN"):
            headers["Authorization"] = "Bearer " + os.environ["MCP_TOKEN"]
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                report = await drive(read, write, steps)
    else:
        raise ValueError(f"unknown mode {mode}")
    print(json.dumps(report))


asyncio.run(main())
