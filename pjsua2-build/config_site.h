/*
 * Switchboard's pjproject configuration (pjlib/include/pj/config_site.h of the from-source build).
 *
 * Copied into the pjproject build tree by pjsua2-build/build.sh before configure. Every value below
 * replaces an upstream default that is too small for a call-center box (upstream allows 4 calls).
 * build.sh compiles a probe against the configured headers, records the effective PJSUA_MAX_CALLS
 * as "max_calls" in switchboard_pjsua2_build.json (read by firmware/telephony/capacity.py), and
 * refuses to install a build whose values are not the ones below.
 */
#ifndef SWITCHBOARD_CONFIG_SITE_H
#define SWITCHBOARD_CONFIG_SITE_H

/* Calls: one SIP leg per caller and one per SIP operator leg, all in one engine process.
 * 256 covers a full office of callers and operators with room to spare; pjsua allocates its call
 * table statically from this value and silently clamps uaConfig.maxCalls to it. */
#define PJSUA_MAX_CALLS             256

/* Players: each caller in the IVR hears its prompts from a player of its own (every caller starts
 * a prompt at its own moment), music on hold is one shared looping player per tune, and each
 * station on a call has a voice: so calls + 64 (upstream: 32, which 32 callers in the IVR exhaust). */
#define PJSUA_MAX_PLAYERS           (PJSUA_MAX_CALLS + 64)

/* Recorders: one recorder per call (the mixed conversation), plus stations' recordings,
 * so as many as calls (upstream: 32, which stops recording at the 33rd call). */
#define PJSUA_MAX_RECORDERS         256

/* Conference bridge slots: every call leg, player and recorder takes one slot, plus 16 for the
 * sound device (slot 0), stations' extra audio devices and custom AudioMediaPorts (voice modem).
 * Upstream's own default formula is calls + 2*players, which assumes as many recorders as
 * players; ours has twice as many recorders as players, so they are counted separately:
 * 256 + 320 + 256 + 16 = 848 slots (about 3.5 MB of bridge tables). */
#define PJSUA_MAX_CONF_PORTS        (PJSUA_MAX_CALLS + PJSUA_MAX_PLAYERS + \
                                     PJSUA_MAX_RECORDERS + 16)

/* Accounts: the local account plus one per SIP trunk or registrar the box talks to. Upstream's 8
 * is a hard limit (the 9th Account.create() aborts the process), 16 leaves headroom. */
#define PJSUA_MAX_ACC               16

/* Sockets in the ioqueue: each call holds an RTP and an RTCP socket (2 x 256 = 512), plus SIP
 * transports, TCP/TLS connections, DNS and STUN. 1024 keeps a 2x margin. build.sh configures
 * with --enable-epoll: with pjlib's default select() ioqueue this value is capped by glibc's
 * FD_SETSIZE (1024) and, worse, any socket whose *descriptor number* reaches 1024 is refused
 * (PJ_ETOOBIG), which 256 calls with their recording files, players and Python's own files can
 * reach. epoll has neither limit; this value is then only the ioqueue's registration count. */
#define PJ_IOQUEUE_MAX_HANDLES      1024

/* Media lines per SDP. pjsua keeps, for each of the PJSUA_MAX_CALLS calls, two static arrays of this
 * many media states: upstream's 16 makes each call slot about 23 KB, 5.9 MB of resident memory for
 * 256 calls before any call exists (the engine's RSS target is 80 MB at 30 calls). The box answers
 * with audio only; phones offer audio, sometimes video, rarely a third line (BFCP, T.140): 4 keeps
 * room for those. The SDP parser drops lines past the 4th: a 5-line offer was answered with 4 (the
 * first audio active, the others rejected), which a strict peer may take as an error. */
#define PJMEDIA_MAX_SDP_MEDIA       4

/* No video: the box is audio only. Saves code, memory and the video libraries at run time
 * (configure also gets --disable-video and friends). */
#define PJMEDIA_HAS_VIDEO           0

/* TLS transport (SIP over TLS to trunks, SRTP keying over a secure signalling path), with the
 * distribution's OpenSSL 3 (libssl-dev) instead of the PyPI wheel's end-of-life OpenSSL 1.0.2.
 * Set explicitly so that a machine without OpenSSL headers fails to build instead of silently
 * producing a build without TLS. */
#define PJ_HAS_SSL_SOCK             1

#endif /* SWITCHBOARD_CONFIG_SITE_H */
