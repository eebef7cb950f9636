"""Mail: queued in the caller's transaction (outbox), sent by the background process (sender)."""
