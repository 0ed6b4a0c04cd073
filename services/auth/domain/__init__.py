"""The auth service's business rules: plain Python with no I/O (see each module)."""
