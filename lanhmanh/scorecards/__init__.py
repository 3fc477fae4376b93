"""Reading submissions and writing results (CSV, JSON; workbooks later). No rule logic."""
