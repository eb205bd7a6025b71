"""Delivery: the outbox drained for one platform at a time (see `dispatcher`), under a
`DeliveryPolicy` (see `policy`)."""

from bot.delivery.dispatcher import Dispatcher
from bot.delivery.policy import DeliveryPolicy, DeliveryStats, Observer

__all__ = ["DeliveryPolicy", "DeliveryStats", "Dispatcher", "Observer"]
