"""The `X-Hub-Signature` of a pushed body: `algorithm=hex HMAC` keyed with the subscription's
secret. sha256, sha384 and sha512 are accepted; sha1 (all that old hubs offer) only from a hub
that never signed this subscription with anything stronger, so it cannot be downgraded to."""

from __future__ import annotations

import hashlib
import hmac

from bot.store.websub import SIGNATURE_STRENGTH


class SignatureRefused(Exception):
    """The push is not from the hub we subscribed at (the message says why)."""


def check_signature(header: str | None, body: bytes, secret: str, strongest: str | None) -> str:
    """The algorithm of a valid signature over `body`; raises SignatureRefused otherwise.
    `strongest` is the strongest algorithm this subscription's pushes were signed with."""
    if not header:
        raise SignatureRefused("no X-Hub-Signature")
    algorithm, _, digest = header.strip().partition("=")
    algorithm = algorithm.strip().lower()
    if algorithm not in SIGNATURE_STRENGTH:
        raise SignatureRefused(f"unknown signature algorithm {algorithm[:16]!r}")
    if algorithm == "sha1" and strongest not in (None, "sha1"):
        raise SignatureRefused(f"sha1 after the hub signed with {strongest}")
    digest = digest.strip().lower()
    if not digest.isascii():  # compare_digest takes no other str
        raise SignatureRefused(f"{algorithm} signature is not hex")
    expected = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    if not hmac.compare_digest(expected, digest):
        raise SignatureRefused(f"{algorithm} signature does not match")
    return algorithm
