"""The box's SQLite database: migrations, the single writer, read-only queries, recordings."""
