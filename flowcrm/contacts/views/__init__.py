"""Pages of the contacts app (mounted at /contacts/)."""
