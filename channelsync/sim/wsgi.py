"""WSGI plumbing for simulators: environ -> Request, Response -> bytes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from channelsync.sim.types import Request, Response


def request_from_environ(environ: dict) -> Request:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    raw_query = environ.get("QUERY_STRING", "")
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    path = environ.get("PATH_INFO", "/")
    if isinstance(path, str):  # PEP 3333 hands PATH_INFO as latin-1 decoded bytes
        path = path.encode("latin-1").decode("utf-8", "replace")
    if path.startswith(("http://", "https://")):
        # absolute-form target (``POST http://host:port/routerjson?...``), as some SDKs and
        # every proxy send it: RFC 9112 3.2.2 has the server take the authority from it
        absolute = urlsplit(path)
        path, host = absolute.path or "/", absolute.netloc or host
    return Request(environ["REQUEST_METHOD"], path, dict(pairs), pairs, headers, body,
                   environ.get("wsgi.url_scheme", "http"), host)


def send_response(response: Response, start_response: Callable) -> list[bytes]:
    headers = dict(response.headers)
    if isinstance(response.body, bytes):
        payload = response.body
    else:
        payload = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        headers.setdefault("Content-Type", "application/json;charset=utf-8")
    headers["Content-Length"] = str(response.declared_length or len(payload))
    reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
              409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests"}.get(response.status, "Status")
    start_response(f"{response.status} {reason}", list(headers.items()))
    return [payload]


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
