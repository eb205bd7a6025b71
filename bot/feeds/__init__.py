"""Feeds: fetching over HTTP, parsing bytes into items, and deciding when to poll next."""
