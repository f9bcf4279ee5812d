#!/usr/bin/python3
"""inkan-dkim end to end: private Postfix + unbound + inkan-dkim on an unchanged seed-style
opendkim.conf, KeyTable, SigningTable and TrustedHosts; the real opendkim as the reference.

  1. outbound (submission, internal client): signed with the domain's key; the copy at the sink
     verifies with dkimpy and with opendkim itself (verify mode, as a milter);
  2. forwarded mail from a foreign domain is re-signed by the catch-all `*` key;
  3. inbound mail signed by opendkim: inkan-dkim adds `dkim=pass (2048-bit key; unprotected)`,
     and a forged Authentication-Results with our authserv-id is removed;
  4. tampered inbound mail: dkim=fail reason="signature verification failed";
  5. On-* actions after a SIGUSR1 reload: On-BadSignature reject → 550 5.7.0, On-KeyNotFound
     tempfail → 451 4.7.5, AlwaysAddARHeader → dkim=none, On-DNSError (unreachable DNS) →
     451 4.7.5 (opendkim 2.11 ignores it, #176);
  6. SIGTERM: exit 0, PidFile removed.
Usage: test_dkim_postfix.py INKAN_DKIM MILTER_CLIENT   (as root)
"""
import os
import sys

import dkim  # python3-dkim (Debian's /usr/bin/python3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dkimworld import (AUTHSERV_ID, DkimWorld, RELAY_DOMAIN, SENDER_DOMAIN, header_values, message,  # noqa: E402
                       strip_sink_prefix)

failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
        if detail:
            print("     " + str(detail)[:3000].replace("\n", "\n     "), flush=True)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("SKIP: needs root (Postfix master)")
        return 77
    inkan_dkim, milter_client = sys.argv[1], sys.argv[2]
    with DkimWorld(inkan_dkim, milter_client, keep=bool(os.environ.get("INKAN_KEEP"))) as w:
        w.start()
        env = w.env
        n = 0

        # 1. Outbound through submission from an InternalHosts client.
        code, text = env.send(message("Alice <alice@example.com>"), "alice@example.com", ["bob@elsewhere.example"],
                              port=env.submission_port)
        check(code == 250, "outbound accepted", f"{code} {text}")
        n += 1
        msgs = env.wait_delivered(n)
        out = strip_sink_prefix(msgs[-1])
        sigs = header_values(out, "DKIM-Signature")
        check(len(sigs) == 1 and "d=example.com;" in sigs[0] and "s=sel;" in sigs[0],
              "outbound carries DKIM-Signature d=example.com s=sel", sigs)
        check(bool(sigs) and "c=relaxed/simple;" in sigs[0] and "h=from:to:subject:date:from;" in sigs[0].replace(" ", "").lower(),
              "c=relaxed/simple and h= with From oversigned", sigs)
        check(out.lstrip().startswith(b"DKIM-Signature:") or out.find(b"DKIM-Signature:") < out.find(b"From:"),
              "DKIM-Signature inserted above the message headers", out[:400])
        check(dkim.verify(out, dnsfunc=lambda name, timeout=5: w.txt(name)), "dkimpy verifies the outbound message",
              out[:1500])
        result, checked = w.through_opendkim(out, "192.0.2.10")
        ar = header_values(checked, "Authentication-Results")
        check(any("dkim=pass" in a and "header.d=example.com" in a for a in ar),
              "opendkim (verify mode) says dkim=pass", f"{result}\n{ar}\n{env.output('opendkim')[-1500:]}")

        # 1b. simple/simple: the signed bytes are the bytes the next hop receives, even for a
        # folded Subject, a header without a space after the colon and tabs in values.
        w.reload("Canonicalization simple/simple\n")
        odd = ("From: alice@example.com\r\nTo:bob@elsewhere.example\r\n"
               "Subject: a folded\r\n\tsubject  with  spaces\r\nDate:\tSun, 22 Nov 2026 12:00:00 +0000\r\n"
               "\r\nbody line\r\n\r\n\r\n")
        code, text = env.send(odd, "alice@example.com", ["bob@elsewhere.example"], port=env.submission_port)
        n += 1
        out = strip_sink_prefix(env.wait_delivered(n)[-1])
        sigs = header_values(out, "DKIM-Signature")
        check(bool(sigs) and "c=simple/simple;" in sigs[0], "simple/simple signature made", sigs)
        check(dkim.verify(out, dnsfunc=lambda name, timeout=5: w.txt(name)),
              "simple/simple verifies at the next hop (header bytes exact)", out[:1200])
        result, checked = w.through_opendkim(out, "192.0.2.10")
        check(any("dkim=pass" in a for a in header_values(checked, "Authentication-Results")),
              "opendkim verifies the simple/simple signature", result)
        w.reload("")

        # 2. Forwarded mail from a foreign domain: re-signed by the catch-all key.
        code, text = env.send(message("List <news@lists.other.example>"), "bounce@lists.other.example",
                              ["carol@elsewhere.example"], port=env.submission_port)
        n += 1
        out = strip_sink_prefix(env.wait_delivered(n)[-1])
        sigs = header_values(out, "DKIM-Signature")
        check(len(sigs) == 1 and f"d={RELAY_DOMAIN};" in sigs[0] and "s=fwd;" in sigs[0],
              "forwarded mail re-signed by the catch-all '*' key", sigs)
        check(dkim.verify(out, dnsfunc=lambda name, timeout=5: w.txt(name)), "dkimpy verifies the re-signed message")

        # 3. Inbound mail signed by opendkim, from an outside client; plus a forged AR.
        src = message(f"Carol <carol@{SENDER_DOMAIN}>", "dave@example.org",
                      extra_headers=[f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d=bank.example"])
        result, signed = w.through_opendkim(src, "127.0.0.1")
        check("DKIM-Signature:" in signed, "opendkim signed the inbound test message", result)
        signed_b = signed.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        code, text = env.send(signed_b, f"carol@{SENDER_DOMAIN}", ["dave@example.org"], source="127.0.0.2")
        check(code == 250, "inbound accepted", f"{code} {text}")
        n += 1
        out = strip_sink_prefix(env.wait_delivered(n)[-1])
        ar = header_values(out, "Authentication-Results")
        want = (f"{AUTHSERV_ID}; dkim=pass (2048-bit key; unprotected) header.d={SENDER_DOMAIN} "
                f"header.i=@{SENDER_DOMAIN} header.a=rsa-sha256 header.s=ext header.b=")
        check(any(a.startswith(want) for a in ar), "inbound opendkim-signed mail gets dkim=pass in OpenDKIM's form",
              f"{ar}\n{env.output('inkan-dkim')[-1500:]}")
        check(not any("bank.example" in a for a in ar), "forged AR with our authserv-id removed", ar)
        check(len(header_values(out, "DKIM-Signature")) == 1, "inbound mail is verified, not re-signed")

        # 4. Tampered inbound mail.
        tampered = signed_b.replace(b"Hello from inkan.", b"Hello from mallory")
        code, text = env.send(tampered, f"carol@{SENDER_DOMAIN}", ["dave@example.org"], source="127.0.0.2")
        n += 1
        out = strip_sink_prefix(env.wait_delivered(n)[-1])
        ar = header_values(out, "Authentication-Results")
        check(any('dkim=fail reason="signature verification failed" (2048-bit key; unprotected)' in a for a in ar),
              "tampered mail gets dkim=fail", ar)

        # 5. On-* actions (reload with SIGUSR1).
        w.reload("On-BadSignature reject\nOn-KeyNotFound tempfail\nAlwaysAddARHeader yes\n")
        code, text = env.send(tampered, f"carol@{SENDER_DOMAIN}", ["dave@example.org"], source="127.0.0.2")
        check(code == 550 and "5.7.0 bad DKIM signature data" in text, "On-BadSignature reject → 550 5.7.0",
              f"{code} {text}")
        nokey = dkim.sign(message(f"x@{SENDER_DOMAIN}").encode(), b"nokey", SENDER_DOMAIN.encode(),
                          open(w.sender_key, "rb").read(), include_headers=[b"from", b"to", b"subject"])
        nokey += message(f"x@{SENDER_DOMAIN}").encode()
        code, text = env.send(nokey, f"x@{SENDER_DOMAIN}", ["dave@example.org"], source="127.0.0.2")
        check(code == 451 and "4.7.5 DKIM key retrieval failed" in text, "On-KeyNotFound tempfail → 451 4.7.5",
              f"{code} {text}")
        code, text = env.send(message(f"y@{SENDER_DOMAIN}"), f"y@{SENDER_DOMAIN}", ["dave@example.org"],
                              source="127.0.0.2")
        n += 1
        out = strip_sink_prefix(env.wait_delivered(n)[-1])
        check(code == 250 and f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in header_values(out, "Authentication-Results"),
              "AlwaysAddARHeader → dkim=none on unsigned mail", header_values(out, "Authentication-Results"))
        dead_port = env.dns_port + 1 if env.dns_port < 65000 else env.dns_port - 1
        w.reload(f"Nameservers 127.0.0.1@{dead_port}\nDNSTimeout 2\n")
        code, text = env.send(signed_b, f"carol@{SENDER_DOMAIN}", ["dave@example.org"], source="127.0.0.2")
        check(code == 451 and "4.7.5 DKIM key retrieval failed" in text,
              "On-DNSError (default tempfail) honoured on unreachable DNS → 451 4.7.5", f"{code} {text}")

        # Log lines in OpenDKIM's words.
        log = env.output("inkan-dkim")
        check("DKIM-Signature field added (s=sel, d=example.com)" in log, "log: DKIM-Signature field added", log[-2000:])
        check("bad signature data" in log, "log: bad signature data")
        check("key retrieval failed (s=nokey, d=sender.example)" in log, "log: key retrieval failed")

        # 6. Clean stop.
        pidfile = env.path("inkan-dkim.pid")
        rc = w.stop_dkim()
        check(rc == 0, "SIGTERM → exit 0", rc)
        check(not os.path.exists(pidfile), "PidFile removed on stop")
    if failures:
        print(f"{len(failures)} check(s) failed: " + "; ".join(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
