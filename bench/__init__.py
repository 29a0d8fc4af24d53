"""Load benchmark and soak run of the engine with SIPp on loopback (`make bench`, `make soak`)."""
