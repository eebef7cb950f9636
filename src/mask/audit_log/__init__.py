"""The audit log's reading side: `GET /v1/audit-log`, the dashboard's page, and its retention."""
