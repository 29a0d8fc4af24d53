"""The line test of a SIP line (trunk or FXO gateway): an OPTIONS ping, from the control server's
thread with a plain UDP socket (pjsua2 stays on the engine loop). It answers: is something there,
what did it answer, and how fast. Any SIP answer proves the peer is reachable; 200 is the usual one.

`sip_target` picks the address: the host of `dial_uri`, else the line's single allowed address.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
import time

SIP_PORT = 5060
RETRANSMIT_S = (0.5, 1.0, 2.0)  # RFC 3261 timer E doubling, about 3.5 s in all


def sip_target(line) -> dict:
    """{"host", "port", "from"} to ping for a SIP line, or {"error"} saying why there is none."""
    if line.dial_uri:
        match = re.match(r"sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?", line.dial_uri)
        if match:
            return {"host": match.group(1).strip("[]"), "port": int(match.group(2) or SIP_PORT),
                    "from": "dial_uri"}
    single = [a for a in line.allow if "/" not in a and _is_address(a)]
    if len(single) == 1:
        return {"host": single[0], "port": SIP_PORT, "from": "allow"}
    return {"error": f"line {line.name} names no single peer to ping (give it a dial_uri, or allow one"
                     " address rather than a network)"}


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def options_request(host: str, port: int, local: tuple[str, int], branch: str, tag: str, call_id: str) -> bytes:
    uri = f"sip:{host}:{port}"
    lines = [f"OPTIONS {uri} SIP/2.0",
             f"Via: SIP/2.0/UDP {local[0]}:{local[1]};branch=z9hG4bK{branch};rport",
             "Max-Forwards: 70",
             f"From: <sip:switchboard@{local[0]}>;tag={tag}",
             f"To: <{uri}>",
             f"Call-ID: {call_id}",
             "CSeq: 1 OPTIONS",
             f"Contact: <sip:switchboard@{local[0]}:{local[1]}>",
             "Accept: application/sdp",
             "User-Agent: Switchboard line test",
             "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def parse_response(data: bytes, call_id: str) -> tuple[int, str, str] | None:
    """(status code, reason, User-Agent or Server) of a response to our request, else None."""
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    match = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", head[0])
    if not match:
        return None
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    if headers.get("call-id", headers.get("i")) != call_id:
        return None
    return int(match.group(1)), match.group(2).strip(), headers.get("user-agent") or headers.get("server", "")


def options_ping(host: str, port: int, retransmit: tuple[float, ...] = RETRANSMIT_S) -> dict:
    """Send OPTIONS (retransmitted as over UDP) and wait for a final answer. Bounded by `retransmit`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    call_id, branch, tag = secrets.token_hex(8), secrets.token_hex(6), secrets.token_hex(4)
    result = {"host": host, "port": port, "sent": 0}
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, port))
        except OSError as exc:
            return {**result, "reachable": False, "error": f"cannot send to {host}:{port}: {exc.strerror or exc}"}
        request = options_request(host, port, sock.getsockname()[:2], branch, tag, call_id)
        for wait in retransmit:
            sock.send(request)
            sent_at = time.monotonic()
            result["sent"] += 1
            deadline = time.monotonic() + wait
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data = sock.recv(65535)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    return {**result, "reachable": False,
                            "error": f"nothing listens on {host}:{port} (the host refused: ICMP port unreachable)"}
                except OSError as exc:
                    return {**result, "reachable": False, "error": f"{host}:{port}: {exc.strerror or exc}"}
                answer = parse_response(data, call_id)
                if answer is None or answer[0] < 200:
                    continue  # 100 Trying, or something not ours: keep waiting for the final answer
                code, reason, agent = answer
                return {**result, "reachable": True, "code": code, "reason": reason, "agent": agent,
                        "rtt_ms": round((time.monotonic() - sent_at) * 1000, 1)}
    return {**result, "reachable": False,
            "error": f"no answer from {host}:{port} in {sum(retransmit):g} s ({result['sent']} OPTIONS sent)"}


def describe_sip(line: str, target: dict, ping: dict | None) -> tuple[bool, str]:
    """(ok, one sentence) for a SIP line's test."""
    if ping is None:
        return False, target["error"]
    where = f"{ping['host']}:{ping['port']} (from the line's {target['from']})"
    if not ping["reachable"]:
        return False, f"SIP peer NOT REACHABLE at {where}: {ping['error']}"
    agent = f", {ping['agent']}" if ping.get("agent") else ""
    if ping["code"] < 300:
        return True, f"SIP peer OK at {where}: {ping['code']} {ping['reason']} in {ping['rtt_ms']} ms{agent}"
    return True, (f"SIP peer reachable at {where}: answered {ping['code']} {ping['reason']} in {ping['rtt_ms']} ms"
                  f"{agent} (it is there, though it does not accept OPTIONS)")
