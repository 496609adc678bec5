"""The one bounded HTTP client of abc-kg: every request is limited in bytes, time, redirects and what it may echo.

Why a helper of its own: a mirror is untrusted input. A body that never ends, a gzip bomb, a one-byte-per-second
trickle, a redirect to `file://` or to another host, a redirect loop or an error page that echoes the request's
headers must each end with a one-line `FetchError` (exit 4) that contains no credential. So:

- bodies are read raw (`Accept-Encoding: identity`, no transparent decompression) and stop at a byte limit;
- each file has an overall deadline across its attempts, checked after every chunk received;
- redirects are followed by hand: only to http(s), at most `MAX_REDIRECTS`, and never to another origin while
  credentials are being sent (the credentials are only ever sent to the base URL's origin);
- error bodies are never echoed: at most a short excerpt (S3's `<Code>`/`<Message>`), printable characters
  only, with every credential the tool sent removed.

Credentials come from the base URL's user info (`https://user:password@mirror/`); they are validated first
(control characters and non-Latin-1 text are usage errors whose message does not repeat them).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from ... import __version__
from ...errors import FetchError, UsageError

if TYPE_CHECKING:  # requests is imported where a request is made: reading a local folder never pays for it
    import requests

T = TypeVar("T")
CHUNK = 1 << 16
MAX_REDIRECTS = 5
EXCERPT = 120  # characters of a server's error text shown at most
SECRET_QUERY_KEYS = re.compile(r"signature|credential|token|secret|password|key", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Retryable(FetchError):
    """A failure worth another attempt: connection error, timeout, 5xx."""


class Unreachable(FetchError):
    """The server could not be reached (refused, timed out, connection lost) after every retry: offline?"""


class TooLarge(FetchError):
    """A body went past its byte limit: never retried, never kept."""


def redact(url: str) -> str:
    """A URL fit for messages and provenance: no user:password, no signature or token values."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = [
        (k, "***" if SECRET_QUERY_KEYS.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/*"), ""))


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must stay the same for credentials to follow a redirect."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class Base:
    """A checked base URL, split into the URL without user info and the credentials it carried."""

    url: str  # no user info, ends with "/"
    auth: tuple[str, str] | None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every form in which the credentials leave this process, so that none is ever echoed back."""
        if self.auth is None:
            return ()
        user, password = self.auth
        token = base64.b64encode(f"{user}:{password}".encode("latin-1")).decode("ascii")
        return tuple(s for s in (password, f"{user}:{password}", token) if len(s) >= 3)


def check_base_url(url: str) -> Base:
    """Refuse a base URL abc-kg cannot use (exit 2), before any request; credentials never appear in the message."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        raise UsageError(f"--base-url {redact(url)!r} is not a usable URL ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url must be an http:// or https:// URL with a host, got {redact(url)!r}")
    auth = None
    if parts.username is not None or parts.password is not None:
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        if CONTROL.search(user + password):
            raise UsageError(
                "the credentials in --base-url contain a control character (a token or password file saved with "
                "a line ending?); they are not shown here"
            )
        try:
            f"{user}:{password}".encode("latin-1")
        except UnicodeEncodeError:
            raise UsageError(
                "the credentials in --base-url contain characters HTTP basic authentication cannot carry "
                "(only Latin-1); they are not shown here"
            ) from None
        auth = (user, password)
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in (parts.hostname or ""):
        netloc = f"[{parts.hostname}]" + ("" if parts.port is None else f":{parts.port}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return Base(urlunsplit((parts.scheme, netloc, path, parts.query, "")), auth)


def excerpt(body: bytes, secrets: tuple[str, ...] = ()) -> str:
    """At most a short, printable, credential-free summary of a server's error body ('' if nothing useful)."""
    text = body[:4096].decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]{1,80})</Code>", text)
    message = re.search(r"<Message>([^<]{1,200})</Message>", text)
    if code:
        text = code.group(1) + (f": {message.group(1)}" if message else "")
    elif "<html" in text.lower() or "<!doctype" in text.lower():
        return "an HTML page"
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    for secret in secrets:  # again, in case removing whitespace joined a secret back together
        text = text.replace(secret, "***")
    return text[:EXCERPT] + ("..." if len(text) > EXCERPT else "")


@dataclass
class Deadline:
    """The time left for one file, across all its attempts."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def check(self, url: str) -> None:
        if self.left() <= 0:
            raise FetchError(f"{redact(url)}: not complete after the deadline of {self.seconds:g} s; not kept")


class Client:
    """One session for one command: bounded requests with retries and exponential backoff."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        report: Callable[[str], None] = print,
    ):
        import requests

        self.base = check_base_url(base_url)
        self.timeout, self.retries, self.backoff, self.report = timeout, retries, backoff, report
        self.session = requests.Session()
        self.session.trust_env = False  # no .netrc credentials or proxies sneaking into requests to a mirror
        self.session.headers.update({"User-Agent": f"abc-atlas-kg/{__version__}", "Accept-Encoding": "identity"})

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, relative: str) -> str:
        return self.base.url + relative.lstrip("/")

    # ------------------------------------------------------------ requests

    def fetch(
        self, url: str, limit: int, deadline: float, sink: Callable[[], Callable[[bytes], None]] | None = None
    ) -> bytes | None:
        """The body of `url` (or None on 404), at most `limit` bytes, within `deadline` seconds over all attempts.

        With `sink`, chunks go instead to the writer `sink()` returns at the start of each attempt (b"" is
        returned): for files written to disk as they arrive, restarted cleanly by each new attempt.
        """
        import requests

        clock = Deadline(deadline)
        for number in range(1, self.retries + 2):
            try:
                return self._once(url, limit, clock, sink)
            except (Retryable, requests.ConnectionError, requests.Timeout) as err:
                reason = _reason(err)
                if number > self.retries:
                    failure = FetchError if isinstance(err, Retryable) else Unreachable
                    raise failure(f"{redact(url)}: {reason} (gave up after {number} attempt(s))") from None
                delay = self.backoff * 2 ** (number - 1)
                if clock.left() <= delay:
                    raise FetchError(f"{redact(url)}: {reason}; no time left before the deadline") from None
                self.report(
                    f"warning: {redact(url)}: {reason}; retrying in {delay:.2g} s "
                    f"(attempt {number + 1} of {self.retries + 1})"
                )
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _once(
        self, url: str, limit: int, clock: Deadline, sink: Callable[[], Callable[[bytes], None]] | None
    ) -> bytes | None:
        with self._follow(url, clock) as response:
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                said = excerpt(_read(response, 4096, clock, url, quiet=True), self.base.secrets)
                detail = f" (server said: {said})" if said else ""
                message = f"{redact(url)}: HTTP {response.status_code} {_printable(response.reason)}{detail}"
                raise (Retryable if response.status_code >= 500 else FetchError)(message)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise TooLarge(f"{redact(url)}: the server announces {declared} bytes, more than the limit {limit}")
            if sink is None:
                return _read(response, limit, clock, url)
            write = sink()
            for block in _blocks(response, limit, clock, url):
                write(block)
            return b""

    def _follow(self, url: str, clock: Deadline) -> requests.Response:
        """GET `url`, following at most MAX_REDIRECTS redirects by hand, with the rules in the module docstring."""
        import requests

        seen: list[str] = []
        current = url
        while True:
            clock.check(url)
            same = origin(current) == origin(self.base.url)
            try:
                response = self.session.get(
                    current,
                    stream=True,
                    allow_redirects=False,
                    auth=self.base.auth if same else None,
                    timeout=(min(self.timeout, max(clock.left(), 0.01)), min(self.timeout, max(clock.left(), 0.01))),
                )
            except requests.exceptions.InvalidURL as err:
                raise FetchError(f"{redact(current)}: not a usable URL ({type(err).__name__})") from None
            if not response.is_redirect:
                return response
            location = response.headers.get("Location", "")
            response.close()
            target = urljoin(current, location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise FetchError(f"{redact(url)}: redirected to {redact(target)!r}, which is not http(s); refused")
            if self.base.auth is not None and origin(target) != origin(self.base.url):
                raise FetchError(
                    f"{redact(url)}: redirected to another origin ({redact(target)}) while sending credentials; "
                    "refused so that they are not sent there"
                )
            seen.append(current)
            if target in seen or len(seen) > MAX_REDIRECTS:
                why = "a redirect loop" if target in seen else f"more than {MAX_REDIRECTS} redirects"
                raise FetchError(f"{redact(url)}: {why}; refused")
            current = target


def _blocks(response: requests.Response, limit: int, clock: Deadline, url: str) -> Iterator[bytes]:
    """The raw body (never decompressed) in chunks as they arrive; fails past `limit` bytes or the deadline."""
    import requests
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    total = 0
    while True:
        clock.check(url)
        try:
            block = response.raw.read1(CHUNK, decode_content=False)
        except ReadTimeoutError as err:
            raise requests.Timeout(str(err)) from None
        except ProtocolError as err:
            raise requests.ConnectionError(str(err)) from None
        if not block:
            return
        total += len(block)
        if total > limit:
            raise TooLarge(f"{redact(url)}: the body goes past {limit} bytes; stopped and not kept")
        yield block


def _read(response: requests.Response, limit: int, clock: Deadline, url: str, *, quiet: bool = False) -> bytes:
    import requests

    parts: list[bytes] = []
    try:
        for block in _blocks(response, limit + (1 if quiet else 0), clock, url):
            parts.append(block)
            if quiet and sum(map(len, parts)) >= limit:
                break
    except (TooLarge, FetchError, requests.RequestException):
        if not quiet:
            raise
    return b"".join(parts)[: limit if quiet else None]


def _printable(text: str | None) -> str:
    return "".join(c for c in (text or "") if c.isprintable())[:60]


def _reason(err: Exception) -> str:
    import requests

    if isinstance(err, requests.Timeout):
        return "timed out"
    if isinstance(err, requests.ConnectionError) and "refused" in str(err).lower():
        return "connection refused"
    if isinstance(err, requests.ConnectionError):
        return "connection failed"
    if isinstance(err, Retryable):
        text = str(err)
        return text.split(": ", 1)[1] if ": " in text else text
    return "failed"
