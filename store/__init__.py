"""integrations-admin's domain and persistence. Knows nothing of screens."""

from __future__ import annotations

__version__ = "0.1.0"
