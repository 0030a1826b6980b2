"""Calling the simulator in-process from tests: requests, credentials, ids from the config."""

import base64
import json

from omnisim.server import Request

PROPERTY = "351234567"  # options.property_id of ga4_shopify_us in channels.yml
WOO_AUTH = {"authorization": "Basic " + base64.b64encode(b"ck_test:cs_test").decode()}


def call(app, method, path, query=None, headers=None, body=b""):
    """`app.handle` with query values as strings and a dict/list body sent as JSON."""
    query = {k: [str(v)] for k, v in (query or {}).items()}
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
    return app.handle(Request(method, path, query, headers or {}, body))


def amazon_token(app, channel: str = "amazon_de") -> dict:
    """Headers with an access token from the simulated Login with Amazon exchange."""
    body = b"grant_type=refresh_token&refresh_token=Atzr|test&client_id=app&client_secret=s"
    response = call(app, "POST", f"/amazon/{channel}/auth/o2/token", body=body)
    assert response.status == 200, response.body
    return {"x-amz-access-token": response.json()["access_token"]}
