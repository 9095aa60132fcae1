"""Flow control: how long a server that is pacing requests asks to be left alone (pure: the clock is given).

A hosted endpoint says "not now" in two ways met in the wild, and neither is a wrong answer:

- **Rate limit**: ``429 Too Many Requests`` (vLLM behind a gateway, OpenAI-compatible hosted APIs),
  or ``503``, with a ``Retry-After`` header. RFC 9110 §10.2.3: its value is either delta-seconds
  (a non-negative integer) or an HTTP-date; the client waits that long before asking again.
- **Model still loading**: ``503`` with a JSON body such as
  ``{"error": "Model org/name is currently loading", "estimated_time": 20.0}`` (Hugging Face
  Inference API and TGI-based endpoints): the model will answer once loaded.

:func:`pacing` turns a refused reply into a :class:`Pacing` (how long to wait, and which budget the
wait counts against) or None when the reply is an ordinary failure. The client
(:meth:`harness.server.client.ModelClient.generate`) waits within the budget, then asks again;
see docs/reliability.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

LOADING_POLL_MAX_S = 10.0
"""Longest single wait on a loading model (s): ``estimated_time`` is the server's guess for the whole
load, so the client asks again at least this often."""
LOADING_DEFAULT_S = 2.0
"""Wait (s) on a loading model that gives no ``estimated_time``."""
MIN_WAIT_S = 0.05
"""Shortest wait (s): a ``Retry-After: 0`` still yields the event loop, and no loop spins."""


@dataclass(frozen=True)
class Pacing:
    """A server's request to wait ``wait_s`` seconds and ask again."""

    wait_s: float
    loading: bool
    """True: the model is loading (the wait counts against ``limits.server_start_timeout_s``);
    False: a rate limit (against the request's budget, ``limits.request_timeout_s``)."""
    reason: str
    """Why, for the answer's error should the wait not fit the budget: ``Retry-After: 3`` or
    ``the model is loading, estimated_time 20 s``."""


def retry_after_s(value: str | None, now_unix_s: float) -> float | None:
    """Seconds to wait by a ``Retry-After`` header value (RFC 9110 §10.2.3), or None when absent or unreadable.

    ``"3"`` -> 3.0; ``"Wed, 21 Oct 2015 07:28:00 GMT"`` -> that moment minus ``now_unix_s``, at least 0
    (a date in the past means "now"); ``"-1"``, ``"2.5"``, ``"²"`` (no ASCII digits only) -> None. A huge value
    is returned as it is: the client's budget refuses it.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # RFC 9110's DIGIT is ASCII; "²".isdigit() is True, float("²") fails
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110's IMF-fixdate is always GMT
        return None
    return max(0.0, when.timestamp() - now_unix_s)


def loading_estimate_s(body: str) -> float | None:
    """Seconds to wait for a loading model by a 503 body, or None when the body does not say it is loading.

    ``{"error": "... is currently loading", "estimated_time": 20.0}`` -> 10.0 (capped at
    :data:`LOADING_POLL_MAX_S`); without ``estimated_time`` -> :data:`LOADING_DEFAULT_S`.
    """
    try:
        obj = json.loads(body)
    except ValueError:
        return LOADING_DEFAULT_S if "currently loading" in body.lower() else None
    if not isinstance(obj, dict):
        return None
    estimate = obj.get("estimated_time")
    if isinstance(estimate, int | float) and not isinstance(estimate, bool) and estimate >= 0:
        return min(float(estimate), LOADING_POLL_MAX_S)
    return LOADING_DEFAULT_S if "currently loading" in json.dumps(obj).lower() else None


def pacing(status: int, retry_after: str | None, body: str, now_unix_s: float) -> Pacing | None:
    """The wait a refused reply asks for; None when it is no flow control (retried with backoff, or not at all).

    A 503 whose body says the model is loading waits as the body says (or as ``Retry-After`` says, when
    given); a 429 or 503 with a readable ``Retry-After`` waits as told. A 429 without one is None: the
    client's ordinary backoff applies.
    """
    if status not in (429, 503):
        return None
    told = retry_after_s(retry_after, now_unix_s)
    loading = loading_estimate_s(body) if status == 503 else None
    if loading is not None:
        wait = told if told is not None else loading
        said = f"Retry-After: {retry_after.strip()}" if told is not None and retry_after else f"wait {wait:g} s"
        return Pacing(max(wait, MIN_WAIT_S), True, f"the model is loading, {said}")
    if told is None or retry_after is None:
        return None
    return Pacing(max(told, MIN_WAIT_S), False, f"Retry-After: {retry_after.strip()}")
