"""License Service: measures licensed software on a Kubernetes cluster.

Layers, innermost first: ``metering`` (pure rules) <- ``configuration`` <-
``cluster`` and ``store`` <- ``sampling`` <- ``cli``. See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
