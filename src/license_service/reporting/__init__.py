"""Sending this cluster's daily data to a License Service Reporter (SPEC 11)."""
