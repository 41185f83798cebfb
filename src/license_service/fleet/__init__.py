"""Many clusters (SPEC 11): the push format, the Reporter's store and snapshot import."""
