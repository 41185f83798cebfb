"""Benchmarks of License Service at the largest cluster sizes (issue 5).

``make bench`` runs ``python -m bench``: every benchmark at full size (``scales.FULL``),
each printing its figures next to its limit or baseline, measured in the same run on
the same data, and writes ``bench/RESULTS.md``. ``tests/bench`` runs each one at a
tiny size (``scales.SMOKE``) so they cannot rot.

What is measured runs in its own process, apart from what serves it:

- ``cluster_generator``: realistic pod, node and namespace JSON, reproducible;
- ``list_server``: a process serving pre-rendered list pages and watch streams;
- ``collector_process``: the real ``KubernetesSource`` against it (benchmarks 1-4:
  sync, resident memory, one sample, watch), ``decode_limits``: the in-process limits
  and the client-model baseline on the same bytes, ``reference_translation``: the
  dict-path yardstick (the translation the service used before its schema decoder);
  ``cluster_benchmarks`` puts them together;
- ``store_benchmark`` (5); ``history``: a store filled directly with years of daily
  peaks; ``api_benchmark`` (6) with ``load_generator``; ``snapshot_benchmark`` (7)
  with ``snapshot_process``;
- ``measurements`` (clocks, memory, machine, child processes), ``results`` (figures,
  checks, ``RESULTS.md``), ``findings`` (what limits each target), ``runner``.
"""
