"""The web dashboard under /app: server-rendered Jinja2 + htmx, over the same services as the API."""
