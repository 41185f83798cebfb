"""The upload endpoint of SPEC 10: ``POST /v2/metric_upload``."""
