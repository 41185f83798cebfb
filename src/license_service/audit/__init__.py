"""Audit snapshots (SPEC 5): CSV files, data condition, checksums, signature, verification.

The file contents are pure functions over rows and bytes (``csv_files``,
``daily_files``, ``decimal_numbers``, ``data_condition``, ``checksums``);
``snapshot_archive`` deflates them on a worker thread while hashing
(``deflated_files``) and writes the zip (``zip_writer``), ``snapshots`` feeds it from
the store, signed with the key of ``license_service.signing``, and ``verification``
checks a snapshot as an auditor would.
"""
