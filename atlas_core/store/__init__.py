"""SQL for each table family. Every function takes an open AsyncConnection."""
