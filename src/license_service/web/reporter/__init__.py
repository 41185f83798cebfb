"""The Reporter's web app (SPEC 11): pushes in, the fleet's numbers out."""
