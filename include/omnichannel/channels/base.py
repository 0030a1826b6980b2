"""What every channel kind shares: credentials, and HTTP with timeouts, retries and backoff.

A connector (one module per kind) offers `STREAMS` (StreamSpec per stream),
`make_client(channel, credentials)` and a client with `iter_pages(stream, since, until)`
and `close()`. Errors are `ExtractError`s naming channel, stream and page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from omnichannel.channels.clock import WallClock
from omnichannel.channels.tls import tls
from omnichannel.streams import ExtractError

RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Credentials:
    """From the channel's Airflow connection: host, login, password (the secret), extra."""

    base_url: str
    secret: str = ""
    login: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def access_token(self) -> str:  # Shopify's name for the secret
        return self.secret


def _http_date(response: httpx.Response) -> datetime | None:
    """The source's clock: the response's Date header (the simulator sends its own)."""
    from email.utils import parsedate_to_datetime

    value = response.headers.get("Date")
    try:
        return parsedate_to_datetime(value).astimezone(UTC) if value else None
    except (TypeError, ValueError):
        return None


def iso_z(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class HttpSource:
    """An HTTP client that retries what is worth retrying, and says where it failed."""

    def __init__(
        self,
        channel_id: str,
        *,
        headers: dict | None = None,
        auth=None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_backoff: float = 30.0,
        max_throttle_wait: float = 600.0,
    ):
        self.channel_id = channel_id
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.max_throttle_wait = max_throttle_wait
        self.timeout = httpx.Timeout(timeout, connect=10.0)
        self.http = httpx.Client(
            timeout=self.timeout,
            verify=tls(),
            headers={"Accept": "application/json", **(headers or {})},
            auth=auth,
        )
        self._plain: httpx.Client | None = None
        self.source_time: datetime | None = None  # Date of the latest response
        # the pipeline gives a connector its clock (clock.current()); what it waited on the
        # API (throttling, backoff, polling) and how many calls it made go to the ledger
        self.clock = WallClock()
        self.calls = 0
        self.waited = 0.0

    def close(self) -> None:
        self.http.close()
        if self._plain is not None:
            self._plain.close()

    def plain_http(self) -> httpx.Client:
        """A client without the channel's credentials (headers, auth), for URLs on other
        hosts such as pre-signed document links."""
        if self._plain is None:
            self._plain = httpx.Client(timeout=self.timeout, verify=tls())
        return self._plain

    def wait_throttled(self, stream: str, page, wait: float, waited: float, reason: str) -> float:
        """Wait out throttling the channel asked for; fail the page once a batch has waited
        more than `max_throttle_wait` in all. Returns the time waited so far."""
        wait = max(0.05, wait)
        waited += wait
        if waited > self.max_throttle_wait:
            raise ExtractError(
                self.channel_id,
                stream,
                page,
                f"throttled for over {self.max_throttle_wait:.0f}s: {reason}",
            )
        self.pause(min(wait, self.max_backoff))
        return waited

    def pause(self, seconds: float) -> None:
        """Wait on the connector's clock (a real sleep, or simulated time)."""
        self.clock.sleep(seconds)
        self.waited += seconds

    def request(self, stream: str, page: int | None, method: str, url: str, plain=False, **kwargs):
        """The response of a request, after retries on transport errors, 429 and 5xx.

        Failures (transport errors, 5xx) are retried `max_attempts` times with exponential
        backoff; throttling (429) is waited out as the channel says, for at most
        `max_throttle_wait` seconds in all, so a 429 storm slows a batch down but does not
        fail it. `plain`: without the channel's credentials (another host)."""
        client = self.plain_http() if plain else self.http
        extra_headers = kwargs.pop("headers", None) or {}
        failures, throttled_for = 0, 0.0
        while True:
            wait = None
            try:
                self.calls += 1
                headers = {**extra_headers, **self.clock.headers()}
                response = client.request(method, url, headers=headers, **kwargs)
                self.source_time = _http_date(response) or self.source_time
            except httpx.TransportError as exc:  # includes timeouts
                reason = f"transport error: {type(exc).__name__}: {exc}"
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400:
                        raise ExtractError(
                            self.channel_id,
                            stream,
                            page,
                            f"HTTP {response.status_code}: {response.text[:300]}",
                        )
                    return response
                reason = f"HTTP {response.status_code}"
                wait = retry_after(response)
                if response.status_code == 429:
                    wait = wait if wait is not None else self.throttle_wait(response)
                    wait = wait if wait is not None else 1.0
                    throttled_for = self.wait_throttled(stream, page, wait, throttled_for, reason)
                    continue
            failures += 1
            if failures >= self.max_attempts:
                raise ExtractError(
                    self.channel_id, stream, page, f"gave up after {failures} attempts: {reason}"
                )
            backoff = wait if wait is not None else 0.5 * 2 ** (failures - 1)
            self.pause(min(backoff, self.max_backoff))

    def throttle_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait on a 429 without Retry-After (a kind may read its own headers)."""
        return None

    def json(self, stream: str, page: int | None, response: httpx.Response, **options):
        try:
            return loads(response.content, **options)
        except ValueError as exc:
            raise ExtractError(
                self.channel_id,
                stream,
                page,
                f"malformed page: body is not valid JSON ({exc}); "
                f"{len(response.content)} bytes received",
                received=response.content,
            ) from exc


def _refuse_constant(name: str):
    raise ValueError(f"non-finite number {name} (not JSON; an amount cannot be {name})")


def loads(content: bytes | str, **options):
    """JSON as the standard defines it: bare NaN and Infinity are refused (Python's parser
    takes them), and every way a body can fail to parse is a ValueError: bad syntax or
    encoding, an integer of more digits than Python converts, nesting deeper than the
    parser's recursion limit."""
    try:
        return json.loads(content, parse_constant=_refuse_constant, **options)
    except RecursionError as exc:
        raise ValueError("nested too deeply to parse") from exc


def pick(node: dict, fields: dict[str, str]) -> dict[str, str | None]:
    """Columns from a node's fields, as landing text: {column: field name}."""
    return {column: text(node.get(field)) for column, field in fields.items()}


def text(value) -> str | None:
    """A value as landing text (None stays None; money stays the string it was sent as)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
