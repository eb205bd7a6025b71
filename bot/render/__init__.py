"""Rendering: feed HTML to plain text, and alerts into each platform's markup."""
