"""Schemathesis hooks for the self-check API tests: the feed's media type, NDJSON, sent as the
bytes or text generated for it (the document types the body as a string)."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8")}
    return {"data": (json.dumps(value) + "\n").encode("utf-8")}
