"""Type aliases, as in ``wsproto.typing``."""

from __future__ import annotations

Headers = list[tuple[bytes, bytes]]
