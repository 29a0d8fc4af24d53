"""Reliability checks with figures: hostile SIP, a scanner, a killed engine, a power cut on the
database, a full disk and a vanishing modem. `make reliability` runs the long versions
(`python -m reliability`); tests/e2e/test_reliability*.py run short ones under `make test`."""
