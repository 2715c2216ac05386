"""The address a request came from, for login throttling: never a value the client can forge."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the outermost one saw.

    Each proxy appends the address it was reached from to X-Forwarded-For, so only the last
    TRUSTED_PROXY_COUNT entries are trustworthy; anything left of them is the client's own text.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        # Fewer hops than proxies configured: the request did not come through them all.
        return forwarded[0] if forwarded else remote
    return forwarded[-proxies]
