"""``python -m license_service``: the same command line as the ``license-service`` script."""

from license_service.cli.app import main

if __name__ == "__main__":
    main()
