"""What a dispatcher is told (retries, backoff, leases, concurrency) and what it counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.models import DeliveryOutcome
from bot.store.records import OutboxEntry

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 25
    """Transient failures are retried this often (about a day of backoff) before giving up."""
    backoff_base: float = 2.0
    backoff_cap: float = 3600.0
    lease: float = 30.0
    """A claimed row returns to the queue after this long if its process died holding it; a live
    send renews it every third of this, however long the platform takes. Short enough that a
    chat whose sender was killed resumes soon after a restart."""
    max_in_flight: int = 64
    idle_wait: float = 1.0


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0
    deactivated: int = 0


Observer = Callable[[DeliveryOutcome, OutboxEntry, float], None]
"""Called after each outcome: (outcome, entry, now)."""
