"""Pure decisions: the IVR, hunt strategies, business hours, the call and operator state machines.

Nothing here touches SIP, audio, files or the clock; the engine core feeds it data and time.
"""
