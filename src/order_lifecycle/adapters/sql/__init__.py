"""What the SQL stores share: one schema (one list of migrations), the rows a write
becomes, and the reads every SQL store makes the same way."""
