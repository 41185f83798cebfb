"""Sampling: turning the cluster's state into stored samples at a steady rhythm (SPEC 2.7).

``Sampler`` takes one sample per interval from a ``ClusterSource`` (or records
why it could not), ``backfill`` fills history from a function of time (the
simulated cluster), and ``schedule`` says at which instants samples fall.
"""
