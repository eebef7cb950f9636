"""Bio pages: link-in-bio pages as API objects, rendered in public at `/@<handle>` with per-block analytics."""
