#!/usr/bin/python3
"""A tiny DNS server on 127.0.0.1 for the DNSSEC (AD bit) comparison tests (dnssec_test.sh).

usage: fake_dns.py ZONEFILE PORTFILE

Serves TXT records over UDP only (answers stay well under 512 octets here). ZONEFILE lines:
    NAME TXT-VALUE           an unsigned ("insecure") record
    NAME +secure TXT-VALUE   a record of a "signed zone": the answer carries AD
    NAME SERVFAIL            what a validating resolver answers for a bogus record
Names not listed answer NXDOMAIN. Like a validating resolver (RFC 6840 §5.8), AD is set only
when the query set AD or DO. The bound port is written to PORTFILE; the server runs until
killed. Only the standard library: no dnspython on the test hosts.
"""
import socket
import struct
import sys


def load(path):
    zone = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, _, rest = line.partition(" ")
            secure = False
            if rest.startswith("+secure "):
                secure, rest = True, rest[len("+secure "):]
            zone[name.lower().rstrip(".")] = (secure, rest)
    return zone


def parse_question(msg):
    labels, pos = [], 12
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels), qtype, msg[12:pos + 4], pos + 4


def query_wants_ad(msg, end):
    if msg[3] & 0x20:  # AD in the query (RFC 6840 §5.7)
        return True
    arcount = struct.unpack("!H", msg[10:12])[0]
    pos = end
    for _ in range(arcount):  # an OPT RR with DO (RFC 3225)
        if pos + 11 > len(msg) or msg[pos] != 0:
            return False
        rtype, _, ttl = struct.unpack("!HHI", msg[pos + 1:pos + 9])
        if rtype == 41 and ttl & 0x8000:
            return True
        pos += 11 + struct.unpack("!H", msg[pos + 9:pos + 11])[0]
    return False


def txt_rdata(value):
    data = value.encode("ascii")
    out = b""
    for i in range(0, max(len(data), 1), 255):
        chunk = data[i:i + 255]
        out += bytes([len(chunk)]) + chunk
    return out


def answer(msg, zone):
    name, qtype, question, end = parse_question(msg)
    entry = zone.get(name.lower().rstrip("."))
    flags = 0x8000 | (msg[2] & 0x01) << 8 | 0x0080  # QR, RD copied, RA
    an = b""
    if entry is None:
        flags |= 3  # NXDOMAIN
    elif entry[1] == "SERVFAIL":
        flags |= 2
    else:
        secure, value = entry
        if secure and query_wants_ad(msg, end):
            flags |= 0x0020
        if qtype == 16:
            rdata = txt_rdata(value)
            an = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 300, len(rdata)) + rdata
    header = msg[0:2] + struct.pack("!HHHHH", flags, 1, 1 if an else 0, 0, 0)
    return header + question + an


def main():
    zone = load(sys.argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with open(sys.argv[2], "w", encoding="ascii") as f:
        f.write(str(sock.getsockname()[1]))
    while True:
        msg, peer = sock.recvfrom(4096)
        try:
            sock.sendto(answer(msg, zone), peer)
        except (ValueError, IndexError, struct.error):
            continue


if __name__ == "__main__":
    main()
