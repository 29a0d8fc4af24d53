"""Which addresses the engine fixes in pjsua2's account (no per-call interface look-up) and which it
leaves to pjsua."""

from __future__ import annotations

import pjsua2 as pj

from firmware.telephony.sip import fixed_addresses


def account(address, public=None, port=5060):
    acfg = pj.AccountConfig()
    fixed_addresses(acfg, address, public, port)
    return acfg


def test_a_bound_address_fixes_contact_and_media():
    acfg = account("192.168.1.20")
    assert acfg.sipConfig.contactForced == "<sip:switchboard@192.168.1.20:5060>"
    assert acfg.mediaConfig.transportConfig.boundAddress == "192.168.1.20"
    assert acfg.mediaConfig.transportConfig.publicAddress == ""


def test_a_public_address_goes_in_contact_and_sdp():
    acfg = account("0.0.0.0", "203.0.113.7", 5070)
    assert acfg.sipConfig.contactForced == "<sip:switchboard@203.0.113.7:5070>"
    assert acfg.mediaConfig.transportConfig.publicAddress == "203.0.113.7"
    assert acfg.mediaConfig.transportConfig.boundAddress == ""  # media still listens everywhere


def test_a_wildcard_bind_leaves_the_look_up_to_pjsua():
    for wildcard in ("0.0.0.0", "::"):
        acfg = account(wildcard)
        assert acfg.sipConfig.contactForced == ""
        assert acfg.mediaConfig.transportConfig.boundAddress == ""
        assert acfg.mediaConfig.transportConfig.publicAddress == ""


def test_an_ipv6_contact_is_bracketed():
    assert account("2001:db8::5").sipConfig.contactForced == "<sip:switchboard@[2001:db8::5]:5060>"
