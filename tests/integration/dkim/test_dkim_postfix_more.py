#!/usr/bin/python3
"""inkan-dkim through a real Postfix: the features test_dkim_postfix.py does not cover.

One private world (unbound + Postfix + smtp-sink on loopback, inkan-dkim reconfigured between
cases with SIGUSR1). Postfix has three smtpd listeners: smtpd_port, submission_port and "orig"
(`-o milter_macro_daemon_name=ORIGINATING`, so its {daemon_name} differs), SMTP AUTH through
Postfix's Dovecot SASL client (mailenv.start_sasl_auth), and {daemon_port} added to
milter_connect_macros. Outside clients connect from 127.0.0.2 (InternalHosts is 127.0.0.1,
::1, localhost), so signing happens only for the reason under test.

  1. Quarantine: On-BadSignature quarantine and On-NoSignature quarantine → Postfix puts the
     tampered and the unsigned message in its hold queue (postqueue -j, postcat -q, the
     cleanup's "milter-hold" line; Postfix drops the QUARANTINE reason text, so the outcome
     and action are checked in inkan-dkim's log); nothing of them reaches the sink,
     while a correctly signed message is delivered with dkim=pass. Released with postsuper -H,
     a held message is delivered with the AR that was added when it was held.
  2. SMTP AUTH from outside InternalHosts ({auth_type}/{auth_authen}): signed after AUTH PLAIN,
     verified (dkim=none) without AUTH, 535 for a wrong password; XCLIENT LOGIN=<user> from an
     authorized proxy (Postfix: sasl_method=XCLIENT) signed, LOGIN=[UNAVAILABLE] verified.
  3. MTA ORIGINATING: mail through the listener whose {daemon_name} is listed is signed, the
     same mail through the default listener is not. MacroList daemon_port=<orig port> decides
     likewise; MacroList daemon_name=MSA|SUBMISSION (no listed value) signs nothing; a bare
     MacroList name signs whenever the MTA sends the macro.
  4. Host lists from files in single-key mode (Domain/Selector/KeyFile): InternalHosts as a bare
     /path host-list file with a CIDR entry and a "!" exception; ExternalIgnoreList as file:
     silences "external host ... attempted to send as example.com" for its clients only.
Usage: test_dkim_postfix_more.py INKAN_DKIM   (as root; exit 77 = skipped)
"""
import glob
import os
import re
import signal
import sys
import time

import dkim  # python3-dkim (Debian's /usr/bin/python3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dkimworld import (AUTHSERV_ID, DOMAINS, RELAY_DOMAIN, SENDER_DOMAIN, DkimWorld, header_values,  # noqa: E402
                       message, strip_sink_prefix)
from mailenv import free_port, wait_tcp  # noqa: E402

OUTSIDE = "127.0.0.2"   # not in InternalHosts (TrustedHosts: 127.0.0.1, ::1, localhost)
RCPT = "rcpt@elsewhere.example"
USER, PASSWORD = "alice", "correct horse battery staple"
XCLIENT_PROXY = "127.0.0.3"  # smtpd_authorized_xclient_hosts (a webmail front end, say)

failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
        if detail:
            print("     " + str(detail)[:3000].replace("\n", "\n     "), flush=True)
    return cond


class World:
    """DkimWorld's keys, DNS and tables, with an opendkim.conf written per case."""

    def __init__(self, inkan_dkim, keep):
        self.w = DkimWorld(inkan_dkim, keep=keep)
        self.env = self.w.env
        self.tags = 0

    def start(self):
        w, env = self.w, self.env
        for d in DOMAINS:
            w.add_key(d, "sel")
        w.add_key(RELAY_DOMAIN, "fwd")
        self.sender_key = w.add_key(SENDER_DOMAIN, "ext")
        env.start_dns(w.records)
        w.dkim_port = free_port()
        w.write_seed_config()  # KeyTable, SigningTable, TrustedHosts (opendkim.conf rewritten below)
        self.conf = self.write_conf("")
        w.dkim_proc = env.start("inkan-dkim", [w.inkan_dkim, "-f", "-x", self.conf])
        wait_tcp("127.0.0.1", w.dkim_port, proc=w.dkim_proc, what="inkan-dkim")
        sasl = env.start_sasl_auth({USER: PASSWORD})
        env.start_postfix(
            milters=[f"inet:127.0.0.1:{w.dkim_port}"],
            listeners=[("orig", {"milter_macro_daemon_name": "ORIGINATING"})],
            extra_main=f"""smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl}
milter_connect_macros = j {{daemon_name}} {{daemon_addr}} {{daemon_port}} v _
smtpd_authorized_xclient_hosts = {XCLIENT_PROXY}
""")

    def write_conf(self, case, keys=None, hosts=None):
        """The seed deployment's opendkim.conf with `keys` (default: KeyTable + refile SigningTable)
        and `hosts` (default: refile TrustedHosts for InternalHosts and ExternalIgnoreList)
        replaced, and `case` lines added."""
        etc = self.w.etc
        if keys is None:
            keys = f"KeyTable file:{etc}/KeyTable\nSigningTable refile:{etc}/SigningTable\n"
        if hosts is None:
            hosts = f"ExternalIgnoreList refile:{etc}/TrustedHosts\nInternalHosts refile:{etc}/TrustedHosts\n"
        conf = f"""# seed-style /etc/opendkim.conf, test_dkim_postfix_more.py
Syslog                  yes
SyslogSuccess           yes
LogWhy                  yes
Canonicalization        relaxed/simple
OversignHeaders         From
UMask                   007
Socket                  inet:{self.w.dkim_port}@127.0.0.1
PidFile                 {self.env.path('inkan-dkim.pid')}
Mode                    sv
SubDomains              no
Nameservers             127.0.0.1@{self.env.dns_port}
DNSTimeout              5
AuthservID              {AUTHSERV_ID}
MinimumKeyBits          1024
{keys}{hosts}{case}"""
        path = os.path.join(etc, "opendkim.conf")
        with open(path, "w") as fh:
            fh.write(conf)
        return path

    def reload(self, case, **kw):
        self.write_conf(case, **kw)
        before = self.env.output("inkan-dkim").count("configuration reloaded")
        os.kill(self.w.dkim_proc.pid, signal.SIGUSR1)
        for _ in range(200):
            if self.env.output("inkan-dkim").count("configuration reloaded") > before:
                return
            time.sleep(0.05)
        raise RuntimeError("inkan-dkim did not reload:\n" + self.env.output("inkan-dkim")[-2000:])

    # ------------------------------------------------------------------ mail
    def tag(self, what):
        self.tags += 1
        return f"more-{self.tags}-{what}"

    def signed_inbound(self, tag):
        """A message from sender.example signed (dkimpy) with its published ext key."""
        raw = message(f"Carol <carol@{SENDER_DOMAIN}>", RCPT, subject=tag).encode()
        with open(self.sender_key, "rb") as fh:
            sig = dkim.sign(raw, b"ext", SENDER_DOMAIN.encode(), fh.read(),
                            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        return sig + raw

    def send(self, msg, mail_from, **kw):
        code, text = self.env.send(msg, mail_from, [RCPT], **kw)
        m = re.search(r"queued as ([0-9A-Za-z]+)", text or "")
        return code, text, (m.group(1) if m else None)

    def find_delivered(self, tag):
        for f in glob.glob(os.path.join(self.env.dump, "*")):
            with open(f, "rb") as fh:
                if re.search(rb"^Subject: " + re.escape(tag.encode()) + rb"\r?$", fh.read(), re.M):
                    return f
        return None

    def wait_delivered(self, tag, timeout=30):
        """The message with Subject `tag` as the sink received it (sink lines stripped)."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            f = self.find_delivered(tag)
            if f:
                time.sleep(0.1)  # let smtp-sink finish the file
                with open(f, "rb") as fh:
                    return strip_sink_prefix(fh.read())
            time.sleep(0.05)
        return None

    def deliver(self, what, msg_from, mail_from, **kw):
        """Send an unsigned message with a fresh tag; returns (code, text, delivered message)."""
        tag = self.tag(what)
        code, text, _ = self.send(message(msg_from, RCPT, subject=tag), mail_from, **kw)
        return code, text, (self.wait_delivered(tag) if code == 250 else None)

    def verifies(self, out):
        return bool(out) and dkim.verify(out, dnsfunc=lambda name, timeout=5: self.w.txt(name))

    def log_lines(self, qid):
        return [l for l in self.env.output("inkan-dkim").splitlines() if qid and qid in l]

    def wait_log(self, pattern, timeout=10):
        t0 = time.time()
        while time.time() - t0 < timeout:
            m = re.search(pattern, self.env.postfix_log(), re.M)
            if m:
                return m
            time.sleep(0.1)
        return None


def sigs_of(out):
    return header_values(out, "DKIM-Signature") if out else []


def ar_of(out):
    return header_values(out, "Authentication-Results") if out else []


# ---------------------------------------------------------------------- cases
def case_quarantine(t):
    env = t.env
    t.reload("On-BadSignature quarantine\nOn-NoSignature quarantine\n")
    held = {}
    tag_bad = t.tag("tampered")
    tampered = t.signed_inbound(tag_bad).replace(b"Hello from inkan.", b"Hello from mallory")
    code, text, held["bad"] = t.send(tampered, f"carol@{SENDER_DOMAIN}", source=OUTSIDE)
    check(code == 250 and held["bad"], "quarantine: tampered message accepted (250) for the hold queue",
          f"{code} {text}")
    tag_none = t.tag("unsigned")
    code, text, held["none"] = t.send(message(f"Dan <dan@{SENDER_DOMAIN}>", RCPT, subject=tag_none),
                                      f"dan@{SENDER_DOMAIN}", source=OUTSIDE)
    check(code == 250 and held["none"], "quarantine: unsigned message accepted (250) for the hold queue",
          f"{code} {text}")
    tag_good = t.tag("good")
    code, text, good_qid = t.send(t.signed_inbound(tag_good), f"carol@{SENDER_DOMAIN}", source=OUTSIDE)
    out = t.wait_delivered(tag_good)
    check(code == 250 and out is not None, "quarantine: correctly signed message delivered to the sink",
          f"{code} {text}\n{env.postfix_log()[-1500:]}")
    check(any(a.startswith(f"{AUTHSERV_ID}; dkim=pass") for a in ar_of(out)),
          "quarantine: delivered message has dkim=pass", ar_of(out))

    # The sink has the good message a moment before qmgr removes its queue file.
    for _ in range(100):
        queue = env.queue()
        by_id = {q.get("queue_id"): q for q in queue}
        if good_qid not in by_id:
            break
        time.sleep(0.1)
    for what, qid in held.items():
        q = by_id.get(qid, {})
        check(q.get("queue_name") == "hold", f"quarantine ({what}): {qid} is in Postfix's hold queue",
              queue)
        check([r.get("address") for r in q.get("recipients", [])] == [RCPT],
              f"quarantine ({what}): held with its recipient", q)
    check(good_qid not in by_id, "quarantine: the good message is not left in a queue", queue)
    check(t.find_delivered(tag_bad) is None and t.find_delivered(tag_none) is None,
          "quarantine: neither held message reached the sink")

    head = env.postcat(held["bad"], "-h")
    check('dkim=fail reason="signature verification failed"' in head and f"Subject: {tag_bad}" in head,
          "quarantine: postcat shows the held tampered message with its dkim=fail AR", head[-1500:])
    head = env.postcat(held["none"], "-h")
    check(f"Subject: {tag_none}" in head and "Authentication-Results:" not in head,
          "quarantine: postcat shows the held unsigned message (no AR without AlwaysAddARHeader)",
          head[-1500:])

    for what, qid in held.items():
        m = t.wait_log(rf"postfix/cleanup\[\d+\]: {qid}: milter-hold: END-OF-MESSAGE from "
                       rf"\S+\[{re.escape(OUTSIDE)}\]: milter triggers HOLD action; from=<[^>]*> to=<{RCPT}>")
        check(m is not None, f"quarantine ({what}): maillog has cleanup's milter-hold line for {qid}",
              "\n".join(l for l in env.postfix_log().splitlines() if qid and qid in l))
    # Postfix drops the QUARANTINE reason text (milter8.c), so inkan-dkim's own log names it.
    bad = "\n".join(t.log_lines(held["bad"]))
    none = "\n".join(t.log_lines(held["none"]))
    check("bad signature data" in bad and "quarantine" in bad,
          "quarantine: inkan-dkim logs 'bad signature data' and the quarantine action", bad)
    check("no signature data" in none and "quarantine" in none,
          "quarantine: inkan-dkim logs 'no signature data' and the quarantine action", none)

    # Released by the administrator, the held message goes on unchanged (AR from hold time).
    env.postfix_run(["/usr/sbin/postsuper", "-H", held["bad"]])
    env.postfix_run(["/usr/sbin/postqueue", "-f"])
    out = t.wait_delivered(tag_bad)
    check(out is not None and any('dkim=fail reason="signature verification failed"' in a for a in ar_of(out)),
          "quarantine: released with postsuper -H, it is delivered with its dkim=fail AR",
          f"{ar_of(out)}\n{env.postfix_log()[-1500:]}")
    check(t.find_delivered(tag_none) is None, "quarantine: the other message stays held")


def case_sasl(t):
    env = t.env
    t.reload("AlwaysAddARHeader yes\n")
    before = len(env.sasl_attempts)
    code, text, out = t.deliver("sasl-auth", "Alice <alice@example.com>", "alice@example.com", source=OUTSIDE,
                                login=(USER, PASSWORD))
    check(env.sasl_attempts[before:] == [(USER, True)], "sasl: Postfix authenticated alice through the SASL server",
          env.sasl_attempts)
    sigs = sigs_of(out)
    check(code == 250 and len(sigs) == 1 and "d=example.com;" in sigs[0] and "s=sel;" in sigs[0],
          f"sasl: AUTH PLAIN from {OUTSIDE} (not internal) → signed d=example.com s=sel",
          f"{code} {text}\n{sigs}\n{env.output('inkan-dkim')[-1500:]}")
    check(t.verifies(out), "sasl: dkimpy verifies the authenticated client's message")
    check(not ar_of(out), "sasl: signed, not verified (no Authentication-Results added)", ar_of(out))

    code, text, out = t.deliver("sasl-none", "Alice <alice@example.com>", "alice@example.com", source=OUTSIDE)
    check(code == 250 and not sigs_of(out), f"sasl: the same mail from {OUTSIDE} without AUTH is not signed",
          f"{code} {text}\n{sigs_of(out)}")
    check(f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in ar_of(out), "sasl: ... it is verified instead (dkim=none)", ar_of(out))

    code, text, _ = t.send(message("Alice <alice@example.com>", RCPT, subject=t.tag("sasl-bad")),
                           "alice@example.com", source=OUTSIDE, login=(USER, "wrong"))
    check(code == 535 and "5.7.8" in text, "sasl: wrong password → 535 5.7.8, nothing sent", f"{code} {text}")
    check(env.sasl_attempts[-1] == (USER, False), "sasl: the SASL server refused the wrong password",
          env.sasl_attempts)

    # XCLIENT LOGIN= (an authorized proxy vouching for its user): smtpd_sasl_auth_extern sets
    # the SASL method/username, which Postfix passes on as {auth_type}/{auth_authen}.
    code, text, out = t.deliver("xclient-login", "Alice <alice@example.com>", "alice@example.com",
                                source=XCLIENT_PROXY, xclient={"LOGIN": USER})
    check(code == 250 and len(sigs_of(out)) == 1 and t.verifies(out),
          f"sasl: XCLIENT LOGIN={USER} from the authorized proxy {XCLIENT_PROXY} → signed",
          f"{code} {text}\n{sigs_of(out)}")
    code, text, out = t.deliver("xclient-nologin", "Alice <alice@example.com>", "alice@example.com",
                                source=XCLIENT_PROXY, xclient={"LOGIN": "[UNAVAILABLE]"})
    check(code == 250 and not sigs_of(out) and f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in ar_of(out),
          "sasl: XCLIENT LOGIN=[UNAVAILABLE] from the same proxy → verified, not signed",
          f"{code} {text}\n{sigs_of(out)} {ar_of(out)}")


def case_mta_macrolist(t):
    env = t.env
    orig = env.ports["orig"]

    def pair(label):
        """(signatures via the orig listener, via smtpd_port), both from OUTSIDE."""
        res = []
        for port in (orig, env.smtpd_port):
            code, text, out = t.deliver(f"{label}-{port}", "Alice <alice@example.com>", "alice@example.com",
                                        port=port, source=OUTSIDE)
            check(code == 250 and out is not None, f"{label}: accepted and delivered via port {port}",
                  f"{code} {text}")
            res.append(out)
        return res

    t.reload("MTA ORIGINATING\nAlwaysAddARHeader yes\n")
    via_orig, via_smtpd = pair("mta")
    sigs = sigs_of(via_orig)
    check(len(sigs) == 1 and "d=example.com;" in sigs[0] and t.verifies(via_orig),
          "MTA ORIGINATING: mail through the listener with {daemon_name}=ORIGINATING is signed (verifies)",
          f"{sigs}\n{env.output('inkan-dkim')[-1500:]}")
    check(not sigs_of(via_smtpd) and f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in ar_of(via_smtpd),
          "MTA ORIGINATING: the same mail through the default listener ({daemon_name}=mx.inkan.test) is verified",
          f"{sigs_of(via_smtpd)} {ar_of(via_smtpd)}")

    t.reload(f"MacroList daemon_port={orig}\nAlwaysAddARHeader yes\n")
    via_orig, via_smtpd = pair("macrolist")
    check(len(sigs_of(via_orig)) == 1 and t.verifies(via_orig),
          f"MacroList daemon_port={orig}: mail through that port is signed", sigs_of(via_orig))
    check(not sigs_of(via_smtpd) and f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in ar_of(via_smtpd),
          f"MacroList daemon_port={orig}: mail through port {env.smtpd_port} is verified", sigs_of(via_smtpd))

    t.reload("MacroList daemon_name=MSA|SUBMISSION\nAlwaysAddARHeader yes\n")
    via_orig, via_smtpd = pair("macrolist-nomatch")
    check(not sigs_of(via_orig) and not sigs_of(via_smtpd),
          "MacroList daemon_name=MSA|SUBMISSION: no listener's value matches → nothing signed",
          f"{sigs_of(via_orig)} {sigs_of(via_smtpd)}")

    t.reload("MacroList {daemon_port}\n")
    via_orig, via_smtpd = pair("macrolist-any")
    check(len(sigs_of(via_orig)) == 1 and len(sigs_of(via_smtpd)) == 1,
          "MacroList {daemon_port} (name only): any value counts → both signed",
          f"{sigs_of(via_orig)} {sigs_of(via_smtpd)}")


def case_host_files(t):
    env, etc = t.env, t.w.etc
    internal = os.path.join(etc, "internal.hosts")
    with open(internal, "w") as fh:
        fh.write("# internal networks\n127.0.0.1\n127.0.0.4/30   # the test relays\n!127.0.0.6\n")
    ignore = os.path.join(etc, "external-ignore.hosts")
    with open(ignore, "w") as fh:
        fh.write("127.0.0.8/29\n")
    keyfile = os.path.join(t.w.keydir, "sel.example.com.private")
    t.reload("AlwaysAddARHeader yes\n", keys=f"Domain example.com\nSelector sel\nKeyFile {keyfile}\n",
             hosts=f"InternalHosts {internal}\nExternalIgnoreList file:{ignore}\n")

    def one(src, label):
        tag = t.tag(label)
        code, text, qid = t.send(message("Alice <alice@example.com>", RCPT, subject=tag), "alice@example.com",
                                 source=src)
        out = t.wait_delivered(tag) if code == 250 else None
        check(code == 250 and out is not None, f"host files: mail from {src} accepted and delivered", f"{code} {text}")
        return out, qid

    out, _ = one("127.0.0.5", "cidr")
    sigs = sigs_of(out)
    check(len(sigs) == 1 and "d=example.com;" in sigs[0] and "s=sel;" in sigs[0] and t.verifies(out),
          "InternalHosts file: 127.0.0.5 (in 127.0.0.4/30) is internal → signed by the single key",
          f"{sigs}\n{env.output('inkan-dkim')[-1500:]}")
    out, qid = one("127.0.0.6", "negated")
    check(not sigs_of(out) and f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in ar_of(out),
          "InternalHosts file: 127.0.0.6 ('!127.0.0.6') is not internal → verified", sigs_of(out))
    lines = "\n".join(t.log_lines(qid))
    check("attempted to send as example.com" in lines,
          "ExternalIgnoreList: 127.0.0.6 is not listed → 'external host ... attempted to send as example.com'",
          lines or env.output("inkan-dkim")[-1500:])
    out, qid = one("127.0.0.9", "ignored")
    check(not sigs_of(out), "host files: 127.0.0.9 is not internal → not signed", sigs_of(out))
    lines = "\n".join(t.log_lines(qid))
    check(bool(lines) and "attempted to send as" not in lines,
          "ExternalIgnoreList file: 127.0.0.9 (in 127.0.0.8/29) → no 'attempted to send as' notice", lines)


def case_peerlist(t):
    """PeerList: inkan-dkim accepts a peer at connect, so Postfix skips the milter for that SMTP
    session and the message passes untouched; other clients are still verified."""
    env = t.env
    t.reload("AlwaysAddARHeader yes\nPeerList 127.0.0.12\n")

    def one(src, label):
        tag = t.tag(label)
        code, text, qid = t.send(message(f"Carol <carol@{SENDER_DOMAIN}>", RCPT, subject=tag),
                                 f"carol@{SENDER_DOMAIN}", source=src)
        out = t.wait_delivered(tag) if code == 250 else None
        check(code == 250 and out is not None, f"PeerList: mail from {src} accepted and delivered", f"{code} {text}")
        return out

    out = one("127.0.0.12", "peer")
    check(out is not None and not ar_of(out) and not sigs_of(out),
          "PeerList: a peer's message passes untouched (no A-R, no signature)",
          f"{ar_of(out)}\n{env.output('inkan-dkim')[-1500:]}")
    out = one("127.0.0.13", "not-peer")
    check(f"{AUTHSERV_ID}; dkim=none; dkim-atps=neutral" in ar_of(out),
          "PeerList: a non-peer's message is verified (dkim=none added)", ar_of(out))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("SKIP: needs root (Postfix master)")
        return 77
    t0 = time.time()
    t = World(sys.argv[1], keep=bool(os.environ.get("INKAN_KEEP")))
    try:
        t.start()
        for case in (case_quarantine, case_sasl, case_mta_macrolist, case_host_files, case_peerlist):
            print(f"--- {case.__name__[5:]}", flush=True)
            try:
                case(t)
            except Exception as e:  # a broken case must not hide the others
                check(False, f"{case.__name__}: {type(e).__name__}: {e}", t.env.output("inkan-dkim")[-1500:])
    finally:
        if os.environ.get("INKAN_KEEP"):
            print("world kept in", t.env.dir)
        t.w.close()
    print(f"({time.time() - t0:.1f}s)")
    if failures:
        print(f"{len(failures)} check(s) failed: " + "; ".join(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
