"""The data endpoints over a period: the three reports and the audit ``/snapshot``.

``period_parameters`` reads the query (pure); ``report_bodies`` turns the store's
period peaks into the JSON or CSV bodies of ``/products``, ``/bundled_products`` and
``/services``; ``report_cache`` and ``cached_reports`` keep
those bodies until the store is written; ``data_routes`` and ``snapshot_route`` are
the thin handlers.
"""
