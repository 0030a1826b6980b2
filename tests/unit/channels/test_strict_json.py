"""Every way a page body can fail to parse is an unreadable page (kept in quarantine, named),
never a crash elsewhere or a NaN amount in raw."""

from __future__ import annotations

import httpx
import pytest

from omnichannel.channels.base import HttpSource, loads
from omnichannel.streams import ExtractError

BAD_BODIES = {
    "bare NaN": b'{"total": NaN}',
    "Infinity": b'{"total": -Infinity}',
    "5,000-digit integer": b'{"total": ' + b"9" * 5000 + b"}",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "cp1252": '{"title": "caf\u00e9"}'.encode("cp1252"),
    "cut off": b'{"orders": [{"id": 1}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_loads_refuses_what_json_does_not_allow(body):
    with pytest.raises(ValueError):
        loads(body)


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_an_unparseable_page_is_an_extract_error_that_keeps_the_body(body):
    source = HttpSource("shopify_us")
    try:
        response = httpx.Response(200, content=body)
        with pytest.raises(ExtractError, match="page 3: malformed page") as caught:
            source.json("orders", 3, response)
    finally:
        source.close()
    assert caught.value.received == body and caught.value.page == 3


def test_finite_numbers_still_parse():
    assert loads(b'{"total": 12.5, "n": 3, "big": 1e300}') == {"total": 12.5, "n": 3, "big": 1e300}
