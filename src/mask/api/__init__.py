"""The REST API under /v1 (FastAPI) and its edge."""
