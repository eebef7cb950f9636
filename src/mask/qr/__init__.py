"""QR codes of short links: rendering (segno for the matrix, Pillow for PNG), per-workspace styles, logos."""
