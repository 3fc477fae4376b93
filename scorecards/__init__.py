"""Reading submissions (inputs/) and writing results (outputs/: the workbooks, the JSON, and
`verify` reading a scorecard back). No rule logic. A map of the modules: docs/scorecard.md."""
