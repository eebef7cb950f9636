"""Plans and API rate limits: a sliding log per workspace (or per client IP without a valid key)."""
