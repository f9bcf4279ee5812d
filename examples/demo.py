#!/usr/bin/python3
"""The inkan demo (driven by examples/demo.sh): a private Postfix on loopback high ports with
inkan-dkim as its milter, a real DNS server (unbound) serving the generated DKIM keys, and an
unchanged OpenDKIM-style configuration (opendkim.conf + KeyTable + SigningTable +
TrustedHosts). It sends one message through submission (signed) and one signed inbound message
(verified), prints the resulting headers, and cleans up. Nothing leaves 127.0.0.1.
Usage: demo.py BUILD_DIR   (as root: Postfix's master runs as root, as on any mail host)
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "dkim"))

import dkim  # noqa: E402  (python3-dkim, Debian's /usr/bin/python3)
from dkimworld import (AUTHSERV_ID, SENDER_DOMAIN, DkimWorld, message, raw_headers,  # noqa: E402
                       strip_sink_prefix)


def show(title, fields):
    print(f"\n--- {title}")
    for f in fields:
        print(f)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    daemon = os.path.join(build, "milters", "dkim", "inkan-dkim")
    inkan = os.path.join(build, "tools", "inkan")
    if not os.access(daemon, os.X_OK):
        print(f"demo: {daemon} not found; build first (cmake --build {build})", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("demo: run as root (the private Postfix's master must start as root)", file=sys.stderr)
        return 1
    t0 = time.time()
    with DkimWorld(daemon, inkan=inkan) as w:
        print("inkan demo: private Postfix + unbound + inkan-dkim on 127.0.0.1, config in", w.etc)
        w.start(with_opendkim=False)
        env = w.env
        print(f"  DNS 127.0.0.1:{env.dns_port}, Postfix smtpd :{env.smtpd_port} submission :{env.submission_port},"
              f" inkan-dkim inet:{w.dkim_port}@127.0.0.1")
        print("  keys: " + ", ".join(f"{s}._domainkey.{d}" for d, s in w.keys))

        # 1. Outbound: an internal client submits mail for example.com -> signed.
        code, text = env.send(message("Alice <alice@example.com>", "bob@elsewhere.example",
                                      subject="signed on the way out"),
                              "alice@example.com", ["bob@elsewhere.example"], port=env.submission_port)
        print(f"\n[1] submission from 127.0.0.1 as alice@example.com: {code} {text}")
        out = strip_sink_prefix(env.wait_delivered(1)[-1])
        show("headers the next hop receives", raw_headers(out, "DKIM-Signature") + raw_headers(out, "From"))
        ok = dkim.verify(out, dnsfunc=lambda name, timeout=5: w.txt(name))
        print(f"dkimpy verifies it: {'pass' if ok else 'FAIL'}")

        # 2. Inbound: mail signed by sender.example arrives from an outside client -> verified.
        src = message(f"Carol <carol@{SENDER_DOMAIN}>", "dave@example.org", subject="verified on the way in")
        with open(w.sender_key, "rb") as fh:
            key = fh.read()
        sig = dkim.sign(src.encode(), b"ext", SENDER_DOMAIN.encode(), key,
                        include_headers=[b"from", b"to", b"subject", b"date"])
        code, text = env.send(sig + src.encode(), f"carol@{SENDER_DOMAIN}", ["dave@example.org"], source="127.0.0.2")
        print(f"\n[2] inbound from 127.0.0.2 as carol@{SENDER_DOMAIN} (signed, s=ext): {code} {text}")
        out = strip_sink_prefix(env.wait_delivered(2)[-1])
        show("headers the next hop receives", raw_headers(out, "Authentication-Results"))

        show("inkan-dkim log", [l for l in env.output("inkan-dkim").splitlines()
                                if "DKIM-Signature field added" in l or "result=" in l][-4:])
        w.stop_dkim()
    print(f"\ndone in {time.time() - t0:.1f}s; everything stopped and removed (authserv-id {AUTHSERV_ID}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
