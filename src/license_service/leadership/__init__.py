"""Leader election among replicas (SPEC 12): the loop that holds the Lease, and the gate.

``elector`` runs client-go's election (decided in ``election``) against a
``LeaseStore``; ``LeaderElector.leading`` is the one gate of everything only the
leader may do: sample, prune, and (later) push to the Reporter.
"""
