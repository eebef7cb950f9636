"""The public hot path: short-link redirects, a lean ASGI app of its own (no FastAPI, no DI, no session on a
cache hit). Resolve (cache → database), answer, hand the click to the tracker."""
