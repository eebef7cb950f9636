"""Webhooks: endpoints a workspace registers, and the signed, retried, logged delivery of its events."""
