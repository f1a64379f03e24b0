"""HTTP for the OpenAI-compatible backend: JSON requests and server-sent-event streams that another
thread can close at once (cancel), and one clear PonderError per way a model server can fail.

Standard library only (http.client): the server needs no HTTP package to import, and a stream's
socket is ours to shut down.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from ponder.agent.errors import PonderError


class Endpoint:
    """A model server's base URL (`http://host:port` or `https://…`, optionally with `/v1`)."""

    def __init__(self, url: str, api_key: str | None, timeout_s: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PonderError(
                f"backend.url {url!r} is not an http(s) URL (e.g. http://gpu-box:8080/v1)"
            )
        self.url = url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        base = parts.path.rstrip("/")
        self.prefix = base if base.endswith("/v1") else base + "/v1"
        self.api_key = api_key
        self.timeout_s = timeout_s

    def connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=self.timeout_s)

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def get(self, path: str) -> dict:
        return self._json("GET", self.prefix + path, None)

    def get_beside_api(self, path: str) -> dict:
        """GET a path beside the API root (llama-server's /props is not under /v1)."""
        return self._json("GET", self.prefix.removesuffix("/v1") + path, None)

    def post(self, path: str, body: dict) -> dict:
        return self._json("POST", self.prefix + path, body)

    def _json(self, method: str, full_path: str, body: dict | None) -> dict:
        conn = self.connection()
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, full_path, payload, self.headers())
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise http_error(self.url, response.status, data)
            reply = json.loads(data)
            if not isinstance(reply, dict):
                raise json.JSONDecodeError("not a JSON object", data.decode(errors="replace"), 0)
            return reply
        except (OSError, http.client.HTTPException) as e:
            raise network_error(self.url, e, self.timeout_s) from e
        except json.JSONDecodeError as e:
            raise PonderError(
                f"the model server at {self.url} answered with something that is not JSON ({e}): "
                "is backend.url an OpenAI-compatible API?"
            ) from e
        finally:
            conn.close()


class EventStream:
    """One streamed POST. `events()` yields each `data:` JSON object; `close()`, from any thread,
    shuts the socket so the reader stops at once and the server stops generating."""

    def __init__(self, endpoint: Endpoint, path: str, body: dict):
        self.endpoint = endpoint
        self.closed = False
        self.conn = endpoint.connection()
        try:
            self.conn.request("POST", endpoint.prefix + path, json.dumps(body), endpoint.headers())
            self.response = self.conn.getresponse()
            if self.response.status != 200:
                raise http_error(endpoint.url, self.response.status, self.response.read())
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            raise network_error(endpoint.url, e, endpoint.timeout_s) from e
        except PonderError:
            self.conn.close()
            raise

    def events(self) -> Iterator[dict]:
        try:
            for line in self.response:
                if not line.startswith(b"data:"):
                    continue  # blank separators, comments, `event:` lines
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                event = json.loads(data)
                if not isinstance(event, dict):
                    raise ValueError(f"an event that is not a JSON object: {data[:80]!r}")
                if "error" in event:  # llama-server reports mid-stream failures this way
                    raise PonderError(
                        f"the model server at {self.endpoint.url} failed mid-answer: "
                        f"{_message(event)}"
                    )
                yield event
        except (OSError, http.client.HTTPException, ValueError) as e:
            if self.closed:
                return
            raise network_error(self.endpoint.url, e, self.endpoint.timeout_s) from e
        if not self.closed:  # the body ended without [DONE]: the server went away
            raise network_error(self.endpoint.url, ConnectionResetError(), self.endpoint.timeout_s)

    def close(self) -> None:
        self.closed = True
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()


def network_error(url: str, error: BaseException, timeout_s: float) -> PonderError:
    if isinstance(error, TimeoutError | socket.timeout):
        return PonderError(
            f"the model server at {url} did not answer within {timeout_s:g} s: it may be "
            "overloaded or the model too slow for this request (raise backend.timeoutS, or ask "
            "for fewer samples)"
        )
    if isinstance(error, ConnectionRefusedError):
        return PonderError(
            f"cannot reach the model server at {url}: connection refused (is it running, and is "
            "backend.url right?). ponder tries again on the next request"
        )
    if isinstance(error, socket.gaierror):
        return PonderError(f"cannot reach the model server at {url}: unknown host ({error})")
    if isinstance(error, ConnectionError | http.client.IncompleteRead | http.client.BadStatusLine):
        return PonderError(
            f"the model server at {url} closed the connection mid-answer ({type(error).__name__}):"
            " it may have stopped or restarted. ponder tries again on the next request"
        )
    return PonderError(f"talking to the model server at {url} failed: {error}")


class HTTPStatusError(PonderError):
    """The server answered with an error status (kept, so callers can tell a refused parameter
    from a failure)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def http_error(url: str, status: int, body: bytes) -> HTTPStatusError:
    return HTTPStatusError(_explain(url, status, body), status)


def _explain(url: str, status: int, body: bytes) -> str:
    detail = _message(_parse(body)) or body[:200].decode(errors="replace")
    if status in (401, 403):
        return (
            f"the model server at {url} refused the API key (HTTP {status}): put the right key in "
            "the environment variable backend.apiKeyEnv names, then restart ponder"
        )
    if status == 404:
        return (
            f"the model server at {url} has no such model or endpoint (HTTP 404: {detail}): check "
            "backend.model and that backend.url ends at the API root (…/v1)"
        )
    if status == 429:
        return (
            f"the model server at {url} is busy (HTTP 429: too many requests): try again shortly, "
            "or lower backend.maxConcurrent"
        )
    if status >= 500:
        return (
            f"the model server at {url} failed (HTTP {status}: {detail}): see its log. ponder "
            "tries again on the next request"
        )
    return f"the model server at {url} rejected the request (HTTP {status}: {detail})"


def _parse(body: bytes) -> dict:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _message(payload: dict) -> str:
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))[:300]
    return str(error or payload.get("message", ""))[:300]
