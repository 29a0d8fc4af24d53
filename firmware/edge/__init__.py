"""The box's SIP edge: Kamailio in front of the engine (registrar, bans, sanity checks).

render: the kamailio.cfg made from the configuration (pure); credentials: the subscriber table (HA1);
trust: which source address the engine believes; rpc: Kamailio's JSON-RPC; figures: status figures
(pure); process: Kamailio started by us (simulation) or by systemd (the box).
"""
