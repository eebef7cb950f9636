"""Keeping abusers out: the destination blocklist, suspensions of links and workspaces, the public's reports."""
