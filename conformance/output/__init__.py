"""Output handlers of a run: terminal, JSON report, JUnit XML, HTML."""
