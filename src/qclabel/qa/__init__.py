"""QA: assignment plans, agreement metrics, adjudication and final labels."""
