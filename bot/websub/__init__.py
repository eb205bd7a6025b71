"""WebSub push: feeds that name a hub are pushed to the bot's web server within seconds.

`discover` reads a feed's hub and topic from a document and its headers; `subscriber` keeps each
subscription asked for, verified, renewed and cancelled at its hub; `callback` answers the hub's
requests (verification of intent, signed content) on the web server; `signature` checks a push's
HMAC; `push` composes them for the app. A pushed document goes through the poller's own document
path.
"""

from bot.websub.callback import PushReceiver
from bot.websub.push import Push
from bot.websub.subscriber import PushTiming, Subscriber

__all__ = ["Push", "PushReceiver", "PushTiming", "Subscriber"]
