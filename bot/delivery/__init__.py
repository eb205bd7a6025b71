"""Delivery: the outbox drained for one platform at a time (see `dispatcher`), under a
`DeliveryPolicy` (see `policy`), by the process elected to send for the platform's bot token (see
`elected`)."""

from bot.delivery.dispatcher import Dispatcher
from bot.delivery.elected import ElectedSender, Role
from bot.delivery.policy import DeliveryPolicy, DeliveryStats, Observer

__all__ = ["DeliveryPolicy", "DeliveryStats", "Dispatcher", "ElectedSender", "Observer", "Role"]
