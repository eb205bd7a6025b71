"""newsbot: news alerts for Telegram and Slack, tagged by Korean and English topic keywords."""

__version__ = "0.1.0"
