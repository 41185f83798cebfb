"""``python -m bench``: run the benchmarks (``make bench`` runs this at full size)."""

from bench.runner import main

main()
