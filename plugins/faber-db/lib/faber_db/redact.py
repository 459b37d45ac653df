"""The one place secrets are scrubbed. Every byte faber-db prints or logs passes through here.

Connection URLs never appear anywhere: a URL read from an environment variable is registered and
replaced by the variable's name (`$PROD_DATABASE_URL`). Any other URL-shaped secret (userinfo with a
password, `password=` in a URL query or a DSN, `PGPASSWORD=`) is masked where it stands, as a second
net for text coming back from a migration tool, the database or pg_dump; a registered password is also masked
on its own, as a whole word (a one-letter password such as `e` only inside those credential shapes).

Structured results are redacted value by value (`redact_data`) before they are serialised, so a
secret, or text that merely looks like one, can never break the JSON around it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
# a registered password shorter than this is masked only inside credential shapes: masking every
# `e` or `ab` in a result would make it unreadable without hiding anything
_BARE_MIN = 4

# url -> label, and bare secrets (passwords, also percent-decoded)
_urls: dict[str, str] = {}
_secrets: set[str] = set()
_bare: re.Pattern[str] | None = None

# userinfo up to the LAST `@` before the host, so a decoded `@` inside the password stays masked
_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^/\s]*)@(?P<host>[^@/\s]*)(?=[/\s?#'\"]|$)")
_KV_PASSWORD = re.compile(
    r"(?i)(?P<key>\b(?:password|passwd|pwd|pgpassword)\b)(?P<sep>\s*[=:]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s;&,'\"]+)")


def register_url(url: str, label: str) -> None:
    """Remember a connection URL so that it, and its password, never get printed."""
    global _bare
    if not url:
        return
    _urls[url] = f"${label}"
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:
        return
    passwords = [parts.password] if parts.password else []
    passwords += [value for key, value in query if key.lower() in ("password", "passwd", "pwd")]
    for password in passwords:
        _secrets.update({password, unquote(password)})
        if parts.username:
            _secrets.add(f"{parts.username}:{password}")
    _bare = None


def register_secret(value: str) -> None:
    global _bare
    if value:
        _secrets.add(value)
        _bare = None


def _bare_pattern() -> re.Pattern[str] | None:
    global _bare
    words = sorted((s for s in _secrets if len(s) >= _BARE_MIN), key=len, reverse=True)
    if not words:
        return None
    if _bare is None:
        # whole words only: a password `postgres` masks "postgres", not the "postgres" in "postgresql"
        _bare = re.compile("|".join(rf"(?<![\w]){re.escape(w)}(?![\w])" for w in words))
    return _bare


def redact(text: str) -> str:
    if not text:
        return text
    # longest first, so a URL is replaced whole before its password would be
    for url in sorted(_urls, key=len, reverse=True):
        if url in text:
            text = text.replace(url, _urls[url])
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@{m['host']}", text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)
    bare = _bare_pattern()
    if bare is not None:
        text = bare.sub(MASK, text)
    return text


def redact_data(value: Any) -> Any:
    """`value` with every string in it redacted (keys too); the structure is never touched."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))


def clear() -> None:
    """Forget registered secrets (tests and long-lived processes)."""
    global _bare
    _urls.clear()
    _secrets.clear()
    _bare = None
