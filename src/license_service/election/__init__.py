"""Leader election by a Lease, as client-go does it, written as pure decisions (SPEC 12).

``lease_records`` holds what a Lease says; ``decisions`` decides, from what this
replica observed and when, whether to create, take, renew or leave the Lease, and
until when a leader may act. No clock, no I/O: the times are parameters
(``leadership`` runs the loop and talks to the API server through ``cluster``).
"""
