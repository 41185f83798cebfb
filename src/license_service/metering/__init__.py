"""Pure metering rules (SPEC section 2): cluster projection in, usage out.

Nothing here performs I/O, reads a clock or the environment, or logs: the
instant of a sample and every setting are parameters.
"""
