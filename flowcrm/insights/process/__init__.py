"""Process analytics: case notions over the event log and the analyses computed on them."""
