"""Infrastructure: the Temporal connection, the embedded stack, logging, file readers."""
