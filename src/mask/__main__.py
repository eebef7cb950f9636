"""`python -m mask …`: the `mask` command (how `mask serve` starts its background process)."""

from mask.cli import main

main()
