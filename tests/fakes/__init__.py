"""Loopback fakes of services the tests cannot reach."""
