"""A scripted model: the real :class:`~harness.server.client.ModelClient` over an httpx mock transport.

Use it where a test needs a model's replies but no socket: each request goes to ``reply(n, request)``
(n = 1 for the first) and every request is kept, so the client's own parsing, timing and retries are
the code under test, as with a real server. For a real socket (stream cuts, delays that must cross the
network, the CLI talking to an endpoint) use :func:`tests.support.fake_server.fake_server`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx

from harness.server.client import ClientConfig, ModelClient


@dataclass
class ScriptedModel:
    """Answers the n-th request (1-based) with ``reply(n, request)``; ``requests`` keeps each request."""

    reply: Callable[[int, httpx.Request], httpx.Response]
    requests: list[httpx.Request] = field(default_factory=list)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(len(self.requests), request)

    def client(
        self,
        *,
        base_url: str = "http://server/v1",
        model: str = "m",
        api_key: str | None = None,
        timeout_s: float = 5.0,
        retries: int = 0,
    ) -> ModelClient:
        """A ModelClient whose requests this script answers (open it with ``async with``)."""
        config = ClientConfig(base_url=base_url, model=model, api_key=api_key, timeout_s=timeout_s, retries=retries)
        return ModelClient(config, transport=httpx.MockTransport(self._answer))

    def bodies(self) -> list[dict]:
        """The JSON body of each request, in order."""
        return [json.loads(r.content) for r in self.requests]


def sse_stream(chunks: list[dict], gap_s: float = 0.0) -> httpx.AsyncByteStream:
    """``data: <chunk>`` events, then ``data: [DONE]``, each after ``gap_s`` seconds (a reply's body)."""

    class Stream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for c in chunks:
                if gap_s:
                    await asyncio.sleep(gap_s)
                yield f"data: {json.dumps(c)}\n\n".encode()
            yield b"data: [DONE]\n\n"

    return Stream()
