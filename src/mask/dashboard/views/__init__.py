"""Dashboard views, one module per area. Each is thin: read the form, call a service, render."""
