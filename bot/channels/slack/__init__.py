"""Slack: alerts out through chat.postMessage, `/news` commands in through slack-bolt.

Out: `send` renders an alert as Block Kit (`bot.render.slack`) and posts it with slack_sdk's
`AsyncWebClient`, with no retry handlers of its own: the dispatcher owns retries and pacing. Each
Web API outcome becomes one of the typed `SendError`s. An image Slack cannot fetch makes the whole
message `invalid_blocks`, so that one refusal is retried once without the image.

In: a slack-bolt `AsyncApp` handles `/news <verb> args`. It acknowledges at once (Slack wants the
ack within 3 s; the command's work comes after), runs the verb through the platform-neutral
`bot.commands`, and answers ephemerally through the command's response_url. Buttons in a reply
are Block Kit buttons whose value is the command they run. With `SLACK_APP_TOKEN` the app
receives over Socket Mode (no public URL); without it, Slack posts to `POST /slack/events` on the
bot's web server and bolt checks every request's signature against `SLACK_SIGNING_SECRET`
(a bad or stale one gets 401). Request verification is on in every mode.

Who may change a channel's subscriptions: anyone who can type `/news` in it. Slack has no
per-channel admin role an app can read (channel managers are not exposed through the Web API),
and a channel's members already control what is posted there; bot-admin commands stay limited to
the `admins.slack` user ids of the config. So requests carry `is_group=False`.

Every client uses `SLACK_API_URL` as its base URL, bolt's own included, so that a test server or a
proxy can stand in for slack.com.
"""

from bot.channels.slack.channel import SlackChannel
from bot.channels.slack.frontend import alert_channel, parse_command_text
from bot.channels.slack.limits import ACK_DEADLINE, COMMAND, EVENTS_PATH

__all__ = [
    "ACK_DEADLINE",
    "COMMAND",
    "EVENTS_PATH",
    "SlackChannel",
    "alert_channel",
    "parse_command_text",
]
