"""``python -m hopfield_memory`` runs the command line."""

from .cli import main

raise SystemExit(main())
