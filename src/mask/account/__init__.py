"""People: users, their memberships in workspaces, dashboard sessions and invites."""
