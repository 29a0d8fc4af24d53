"""The pjsua2 adapter: the engine loop, SIP calls, players, recorders and stations."""
