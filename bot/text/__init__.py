"""Text helpers at the bottom of the stack: HTML to plain text, excerpts, UTF-16 lengths."""
