"""The job executor: acquisition, execution, failure, and the handler registry."""
