"""The pair a link's QR code appends to its short URL (`https://go.example/slug?qr=1`): the redirect strips it
and records the click as a scan (`trigger: qr`). Kept apart from the drawing code, so that the redirect imports
nothing else of mask.qr."""

QR_MARKER = "qr=1"
