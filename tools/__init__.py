"""Developer tools (run from the repository root; importable by the tests)."""
