"""MCP over stdio (``aisle mcp``), answering malformed lines instead of ignoring them.

The SDK's stdio transport drops a line it cannot read without a word, so a client that sent a broken
line waits forever. Here every line is read first: a line that is not JSON gets the JSON-RPC error
``-32700 Parse error`` (``id: null``); JSON that is not a JSON-RPC 2.0 message gets ``-32600 Invalid
Request`` (with the line's ``id`` when it has a usable one); blank lines are skipped; everything else goes
to the SDK's session unchanged. Replies and the SDK's own messages are written as whole lines under one
lock. While serving, file descriptor 1 points at stderr, so stray prints can never corrupt the wire.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from pydantic import ValidationError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def _error(rid: Any, code: int, message: str) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})


def malformed_reply(line: str) -> str | None:
    """The JSON-RPC error reply for a line the session cannot take, or None when the line is a message."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return _error(None, PARSE_ERROR, "Parse error: the line is not valid JSON")
    try:
        types.jsonrpc_message_adapter.validate_python(data, by_name=False)
    except (ValidationError, RecursionError):
        rid = data.get("id") if isinstance(data, dict) else None
        ok = isinstance(rid, str | int) and not isinstance(rid, bool)
        return _error(rid if ok else None, INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message")
    return None


class _Wire:
    """The stdout side: each write is one whole line, under a lock shared with the error replies."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._lock = anyio.Lock()

    async def write(self, text: str) -> None:
        async with self._lock:
            await anyio.to_thread.run_sync(self._raw.write, text.encode("utf-8"))

    async def flush(self) -> None:
        async with self._lock:
            await anyio.to_thread.run_sync(self._raw.flush)


class _Lines:
    """The stdin side: yields the lines the session can take and answers the others itself."""

    def __init__(self, raw: BinaryIO, wire: _Wire) -> None:
        self._raw = raw
        self._wire = wire

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        while True:
            line = await anyio.to_thread.run_sync(self._raw.readline)
            if not line:
                return
            text = line.decode("utf-8", errors="replace")
            if not text.strip():
                continue
            reply = malformed_reply(text)
            if reply is None:
                yield text
            else:
                await self._wire.write(reply + "\n")
                await self._wire.flush()


async def serve_stdio(server: MCPServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Serve ``server`` over the given byte streams until ``stdin`` ends."""
    wire = _Wire(stdout)
    async with stdio_server(stdin=_Lines(stdin, wire), stdout=wire) as (read, write):  # type: ignore[arg-type]
        # The SDK has no public way to run its session over streams we supply; its own
        # run_stdio_async does exactly this with streams that ignore malformed lines.
        low = server._lowlevel_server  # noqa: SLF001
        await low.run(read, write, low.create_initialization_options())


def run_stdio_server(server: MCPServer) -> None:
    """Serve ``server`` over this process's stdin/stdout, with fd 1 pointed at stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with os.fdopen(os.dup(saved), "wb", buffering=0) as out:
            anyio.run(serve_stdio, server, sys.stdin.buffer, out)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
