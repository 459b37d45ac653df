"""The one place secrets are scrubbed. Every byte faber-db prints or logs passes through `redact`.

Connection URLs never appear anywhere: a URL read from an environment variable is registered
here and replaced by the variable's name (`$PROD_DATABASE_URL`). Any other URL-shaped secret
(userinfo with a password, `password=` in a DSN) is masked by pattern, as a second net for text
coming back from Prisma, the database or pg_dump.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MASK = "***"

# url -> label, and bare secrets (passwords, also percent-decoded)
_urls: dict[str, str] = {}
_secrets: set[str] = set()

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]+)@")
_KV_PASSWORD = re.compile(r"(?i)(password|passwd|pwd)(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^\s;&]+)")


def register_url(url: str, label: str) -> None:
    """Remember a connection URL so that it, and its password, never get printed."""
    if not url:
        return
    _urls[url] = f"${label}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if parts.password:
        _secrets.add(parts.password)
        _secrets.add(unquote(parts.password))
    if parts.username and parts.password:
        # "user:password" as it would appear in userinfo, decoded or not
        _secrets.add(f"{parts.username}:{parts.password}")


def register_secret(value: str) -> None:
    if value and len(value) >= 3:
        _secrets.add(value)


def redact(text: str) -> str:
    if not text:
        return text
    # longest first, so a URL is replaced whole before its password would be
    for url in sorted(_urls, key=len, reverse=True):
        if url in text:
            text = text.replace(url, _urls[url])
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _KV_PASSWORD.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def clear() -> None:
    """Forget registered secrets (tests and long-lived processes)."""
    _urls.clear()
    _secrets.clear()
