"""Reading submissions: CSV, JSON and Excel files (or folders of them) into rows."""
