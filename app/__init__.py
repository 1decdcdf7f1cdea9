"""The use cases, one API for every entrypoint (CLI, worker, web)."""
