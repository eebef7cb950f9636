"""The API's resources, one module each, declared once for both clients (see `mask_sdk._endpoint`)."""
