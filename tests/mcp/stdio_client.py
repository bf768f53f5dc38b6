"""Drives `wasmhost mcp` over stdio with the official MCP Python SDK (`mcp` on PyPI) and
prints what it saw as one JSON object, for tests/all/mcp.rs to check.

Usage: stdio_client.py WASMHOST [SERVER ARGS...]
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError


def result_json(result):
    return {
        "is_error": bool(result.is_error),
        "text": "".join(c.text for c in result.content if getattr(c, "type", "") == "text"),
        "structured": result.structured_content,
    }


async def main() -> None:
    command, *args = sys.argv[1:]
    calls = json.loads(sys.stdin.read())
    # The server gets this process's environment: the test sets what it needs.
    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    report = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            report["server"] = {
                "name": init.server_info.name,
                "protocol_version": init.protocol_version,
                "tools_capability": init.capabilities.tools is not None,
            }
            tools = await session.list_tools()
            report["tools"] = {
                t.name: {"description": t.description, "schema": t.input_schema}
                for t in tools.tools
            }
            report["calls"] = []
            for name, arguments in calls:
                try:
                    result = await session.call_tool(name, arguments)
                    report["calls"].append({"tool": name, "result": result_json(result)})
                except MCPError as e:
                    report["calls"].append(
                        {"tool": name, "error": {"code": e.error.code, "message": e.error.message}}
                    )
    print(json.dumps(report))


asyncio.run(main())
