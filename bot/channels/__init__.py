"""Channel adapters: one module per chat platform, all speaking the protocol in `base`."""
