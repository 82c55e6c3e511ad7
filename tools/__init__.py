"""Developer tools run from the repository (`python -m tools.<name>`); not part of the installed package."""
