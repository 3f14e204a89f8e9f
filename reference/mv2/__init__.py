"""mv2: reference reader/writer for the MV2 single-file AI-memory format."""
