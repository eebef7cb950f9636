"""The workspace's administration through the API: its settings, members and invitations (`/v1/workspace`,
`/v1/members`, `/v1/invitations`), with the rules of mask.workspace that the dashboard uses too."""
