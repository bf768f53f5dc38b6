"""`text-tools`: a wasmhost tool plugin written in Python (componentize-py).

It targets the `tool-plugin` world of `wit/v0.2.0`, exactly like the Rust plugins: the
host cannot tell the difference. Three tools:

- `word_count {text}` -> the number of whitespace-separated words, e.g. `3`
- `slugify {text, separator?}` -> `"hello-world"` from `"Hello, World!"`
- `reverse {text}` -> the text reversed, by Unicode code point

Bad arguments raise `Err(ToolError_InvalidArguments(...))`, which the host hands back to
the model as the tool's result. Every call is logged at debug level through the host's
`log` import (`wasmhost -vv` shows it).
"""

import json
import re
import unicodedata

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.tool import (
    ToolError_Failed,
    ToolError_InvalidArguments,
    ToolError_UnknownTool,
)
from wit_world.imports import host
from wit_world.imports.llm_types import ToolSpec


def _text_schema(extra=None):
    properties = {"text": {"type": "string", "description": "The input text."}}
    properties.update(extra or {})
    return json.dumps(
        {
            "type": "object",
            "properties": properties,
            "required": ["text"],
            "additionalProperties": False,
        }
    )


def word_count(args):
    return str(len(_string(args, "text").split()))


def slugify(args):
    text = _string(args, "text")
    separator = _string(args, "separator", default="-")
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return separator.join(words)


def reverse(args):
    return _string(args, "text")[::-1]


# name -> (description, JSON Schema of the arguments, implementation)
TOOLS = {
    "word_count": (
        "Count the words (runs of non-whitespace) in a text. Returns the count, e.g. 3.",
        _text_schema(),
        word_count,
    ),
    "slugify": (
        "Turn a text into a URL slug: lower-case ASCII letters and digits joined by a "
        'separator, e.g. "Hello, World!" -> "hello-world".',
        _text_schema(
            {
                "separator": {
                    "type": "string",
                    "description": 'Joins the words; default "-".',
                }
            }
        ),
        slugify,
    ),
    "reverse": (
        "Reverse a text, character by character.",
        _text_schema(),
        reverse,
    ),
}


class _BadArguments(Exception):
    pass


def _string(args, key, default=None):
    if key not in args:
        if default is not None:
            return default
        raise _BadArguments(f"missing field `{key}`")
    value = args[key]
    if not isinstance(value, str):
        raise _BadArguments(
            f"field `{key}` must be a string, got {type(value).__name__}"
        )
    return value


class Tool(exports.Tool):
    def list_tools(self):
        return [
            ToolSpec(name=name, description=description, parameters_schema=schema)
            for name, (description, schema, _) in TOOLS.items()
        ]

    def call(self, name, arguments):
        host.log(host.LogLevel.DEBUG, f"{name} called with {len(arguments)} bytes")
        tool = TOOLS.get(name)
        if tool is None:
            raise Err(
                ToolError_UnknownTool(
                    f"no tool `{name}`; this plugin has {', '.join(TOOLS)}"
                )
            )
        try:
            args = json.loads(arguments)
        except json.JSONDecodeError as e:
            raise Err(ToolError_InvalidArguments(f"arguments are not JSON: {e}"))
        if not isinstance(args, dict):
            raise Err(ToolError_InvalidArguments("arguments must be a JSON object"))
        schema = json.loads(tool[1])
        unknown = sorted(set(args) - set(schema["properties"]))
        if unknown:
            raise Err(ToolError_InvalidArguments(f"unknown field `{unknown[0]}`"))
        try:
            return tool[2](args)
        except _BadArguments as e:
            raise Err(ToolError_InvalidArguments(str(e)))
        except Exception as e:  # a bug here is the tool's failure, not a trap
            host.log(host.LogLevel.WARN, f"{name} failed: {e!r}")
            raise Err(ToolError_Failed(f"{name} failed: {e}"))
