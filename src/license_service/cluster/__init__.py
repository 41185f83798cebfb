"""Sources of cluster state: the Kubernetes API, dump files and a simulated cluster.

Each source turns what it reads into the metering projection
(``metering.cluster_view``) and hands it out as a ``ClusterState``; nothing
outside this package sees Kubernetes objects or the Kubernetes client.
"""
