"""Bearer tokens identified in the last TOKEN_TTL_S seconds, kept per process: a script or
GIS client sending many requests is looked up once in that time, not once per request.

The window is the price: a token revoked, expired or whose user is disabled, and a changed
grid scope, take effect in every process within TOKEN_TTL_S seconds (never longer: an entry
is dropped when its time is up, whatever happens meanwhile). A token found invalid is never
kept, so a refused token is looked up again on every request."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from geodata.auth.access import Principal
from geodata.auth.accounts import digest

TOKEN_TTL_S = 2.0
"""How long an identified token is trusted without a look-up (the revocation window)."""
MAX_TOKENS = 1024


class TokenPrincipals:
    """Principals by the hash of their token, each for `ttl_s` seconds (the oldest dropped
    past `max_tokens`); shared by the threads of one process."""

    def __init__(
        self,
        *,
        ttl_s: float = TOKEN_TTL_S,
        max_tokens: int = MAX_TOKENS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._found: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()
        self.ttl_s = ttl_s
        self.max_tokens = max_tokens
        self.clock = clock

    def principal(self, token: str, look_up: Callable[[], Principal | None]) -> Principal | None:
        """The token's principal: kept if identified less than `ttl_s` ago, else
        `look_up()` (kept when it finds one)."""
        key = digest(token)
        now = self.clock()
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                if now - found[0] < self.ttl_s:
                    return found[1]
                del self._found[key]
        principal = look_up()
        if principal is not None and self.ttl_s > 0:
            with self._lock:
                self._found[key] = (now, principal)
                self._found.move_to_end(key)
                while len(self._found) > self.max_tokens:
                    self._found.popitem(last=False)
        return principal

    def clear(self) -> None:
        with self._lock:
            self._found.clear()
