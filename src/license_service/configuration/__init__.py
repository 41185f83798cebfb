"""Configuration of License Service: the ``IBMLicensing`` document (SPEC 6) and its files.

Parsing is pure (``ibmlicensing``); reading files and YAML lives beside it
(``config_file``, ``yaml_documents``). Invalid values are refused with every
problem listed, so the previous configuration can stay in force.
"""
