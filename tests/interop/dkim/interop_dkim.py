#!/usr/bin/python3
"""DKIM interoperability tests: inkan against dkimpy, Mail::DKIM and libopendkim.

Run by ctest (tests/interop/dkim/CMakeLists.txt), one case per test:

  interop_dkim.py --inkan BUILD/tools/inkan --work DIR --case CASE

Cases
  keygen-shape            inkan keygen writes what opendkim-genkey writes (key bytes masked)
  inkan-to-PEER-ALG       inkan signs the corpus, PEER verifies (pass), tampered copies fail
  PEER-to-inkan-ALG       PEER signs the corpus, inkan verifies (pass), tampered copies fail
                          PEER: dkimpy | maildkim (RSA only) | opendkim;  ALG: rsa | ed25519
  multi                   six signatures by four implementations, checked by all of them
  testkey                 inkan testkey: ok, mismatch, missing, revoked, small key, t=y, ...
  cli                     line ends kept, exit codes, x= expiry, A-R clause text, --nameserver

Everything is hermetic: keys are generated here (inkan keygen and openssl), inkan reads them
from a --zone master file (or a DNS server on 127.0.0.1 started here), dkimpy through
dnsfunc=, Mail::DKIM through a fake Net::DNS resolver (maildkim.pl), libopendkim through
`opendkim -t` with TestDNSData. Exit 0 = pass, 77 = skipped (a peer is not installed), 1 = fail.
"""
import argparse
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

DOMAIN = "example.com"
SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
CANONS = ["relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"]

FAILURES = []

# Where a peer departs from RFC 6376 or its test harness cannot carry the message unchanged.
# These combinations are not counted as inkan failures; the peer's deviant verdict is still
# checked (a non-pass), so a fixed peer shows up as a note. dkimpy agrees with inkan on all.
KNOWN = [
    ("maildkim", "no-final-newline", lambda canon, direction, alg: canon.endswith("/simple"),
     "Mail::DKIM 1.20230212 does not add the CRLF that RFC 6376 §3.4.3 adds to a body without "
     "a trailing CRLF (simple body)"),
    ("opendkim", "no-final-newline",
     lambda canon, direction, alg: direction == "peer-signs" or canon.endswith("/relaxed"),
     "libopendkim refuses a body whose last line has no CRLF: signing says 'CRLF at end of "
     "body missing', verifying with a relaxed body says 'message not signed' (also for "
     "dkimpy's signatures)"),
    ("opendkim", "whitespace", lambda canon, direction, alg: canon.startswith("simple/"),
     "opendkim -t rebuilds each header field as 'Name: ' + value without the value's leading "
     "whitespace (milter semantics, anchor-features.md §1.4), so simple header "
     "canonicalization of 'Subject:   x' or 'x-lower-case:y' cannot match the file"),
    ("opendkim", "*",
     lambda canon, direction, alg: direction == "peer-signs" and alg == "ed25519" and
     canon.startswith("simple/"),
     "libopendkim 2.11.0~beta2 Ed25519 signatures with simple header canonicalization verify "
     "nowhere, not even in opendkim itself (dkimpy rejects them too)"),
]


def known(peer, message, canon, direction, alg):
    for p, m, pred, why in KNOWN:
        if p == peer and m in (message, "*") and pred(canon, direction, alg):
            return why
    return None



def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, flush=True)
    return cond


def run(cmd, data=None, expect=None):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if expect is not None and p.returncode not in (expect if isinstance(expect, tuple) else (expect,)):
        raise RuntimeError("%s: exit %d, want %s\nstdout: %s\nstderr: %s" % (
            " ".join(cmd), p.returncode, expect, p.stdout[-2000:], p.stderr[-2000:]))
    return p


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


# ------------------------------------------------------------------------------------------
# Corpus (CRLF line ends; the LF-only case is derived from one of them)

def corpus():
    crlf = b"\r\n"

    def msg(headers, body):
        return crlf.join(h.encode("latin-1") if isinstance(h, str) else h for h in headers) + \
            crlf + crlf + body

    base = ["From: Alice Example <alice@example.com>", "To: Bob <bob@example.org>",
            "Date: Sun, 22 Nov 2026 14:00:00 +0000", "Message-ID: <%s@example.com>"]
    out = []
    out.append(("basic", msg([base[0], base[1], "Subject: hello", base[2], base[3] % "basic"],
                             b"Hi Bob,\r\n\r\nsee you.\r\n")))
    out.append(("folded", msg([
        "Received: from a.example.net (a.example.net [192.0.2.1])\r\n\tby mx.example.com",
        "Received: from b.example.net\r\n by a.example.net",
        base[0],
        "To: Bob <bob@example.org>,\r\n  Carol <carol@example.org>,\r\n\tDan <dan@example.org>",
        "Subject: a subject that is long enough\r\n\tto be folded over\r\n  three lines",
        base[2], base[3] % "folded"], b"Body.\r\n")))
    out.append(("whitespace", msg([
        base[0], base[1], "Subject:   spaces   and\ttabs\t \t", "X-Trailing: value  \t ",
        "x-lower-case:mixed  Case ", base[2], base[3] % "ws"],
        b"line with trailing spaces   \r\nline with tabs\t\t\r\n   leading\r\n \t \r\n"
        b"inner   runs\t\tof  wsp\r\nend\r\n")))
    out.append(("empty-body", msg([base[0], base[1], "Subject: empty", base[2],
                                   base[3] % "empty"], b"")))
    out.append(("blank-lines-at-end", msg([base[0], base[1], "Subject: blanks", base[2],
                                           base[3] % "blank"],
                                          b"text\r\n\r\n\r\n  \r\n\r\n\r\n")))
    out.append(("no-final-newline", msg([base[0], base[1], "Subject: no newline", base[2],
                                         base[3] % "nonl"], b"last line without CRLF")))
    out.append(("8bit", msg([base[0], base[1], b"Subject: caf\xe9 cr\xe8me", base[2],
                             base[3] % "8bit", "Content-Type: text/plain; charset=latin1",
                             "Content-Transfer-Encoding: 8bit"],
                            b"Caf\xe9, cr\xe8me br\xfbl\xe9e.\r\n")))
    out.append(("utf8", msg(["From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.com>",
                             "To: \xe5\xa4\xaa\xe9\x83\x8e <taro@example.org>",
                             "Subject: Gr\xc3\xbc\xc3\x9fe \xe6\x97\xa5\xe6\x9c\xac", base[2],
                             base[3] % "utf8", "MIME-Version: 1.0",
                             "Content-Type: text/plain; charset=utf-8",
                             "Content-Transfer-Encoding: 8bit"],
                            "Grüße aus 日本 — ✓\r\n".encode("utf-8"))))
    attachment = base64.encodebytes(bytes(range(256)) * 8).replace(b"\n", b"\r\n")
    mime_body = (b"This is a multi-part message in MIME format.\r\n"
                 b"--=_b1\r\nContent-Type: multipart/alternative; boundary=\"=_b2\"\r\n\r\n"
                 b"--=_b2\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe=\r\n"
                 b" soft break\r\n--=_b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                 b"<p>Hello</p>\r\n--=_b2--\r\n\r\n--=_b1\r\n"
                 b"Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                 b"Content-Transfer-Encoding: base64\r\n"
                 b"Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n" +
                 attachment + b"--=_b1--\r\n")
    out.append(("mime", msg([base[0], base[1], "Subject: mime", base[2], base[3] % "mime",
                             "MIME-Version: 1.0",
                             "Content-Type: multipart/mixed;\r\n\tboundary=\"=_b1\""], mime_body)))
    lines = []
    size = 0
    i = 0
    while size < 1024 * 1024:
        line = ("%06d " % i + "abcdefghijklmnopqrstuvwxyz0123456789" * 2).encode() + b"\r\n"
        lines.append(line)
        size += len(line)
        i += 1
    out.append(("1mb", msg([base[0], base[1], "Subject: big", base[2], base[3] % "big"],
                           b"".join(lines))))
    out.append(("lf-only", msg([base[0], base[1], "Subject: unix\r\n\tfolded", base[2],
                                base[3] % "lf"], b"line one\r\n\r\nline three  \r\n")))
    return out


def to_lf(data):
    return data.replace(b"\r\n", b"\n")


def to_crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def split_message(data):
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return data, b""
    return data[:i + 2], data[i + 4:]


def tamper_body(data):
    head, body = split_message(data)
    m = re.search(rb"[A-Za-z0-9]", body)
    if m is None:
        return head + b"\r\n" + body + b"tampered\r\n"
    c = body[m.start():m.start() + 1]
    repl = b"b" if c != b"b" else b"c"
    return head + b"\r\n" + body[:m.start()] + repl + body[m.start() + 1:]


def tamper_header(data):
    new, n = re.subn(rb"(?m)^Subject:", b"Subject: X", data, count=1)
    assert n == 1
    return new


# ------------------------------------------------------------------------------------------
# Keys and their DNS records

class Keys:
    """Keys made by inkan keygen and openssl; their records as a zone, a dict and files."""

    def __init__(self, inkan, work):
        self.work = work
        self.records = {}   # owner name (lower-case, no dot) -> TXT value
        self.files = {}     # selector -> private key file
        self.algs = {}      # selector -> "rsa" | "ed25519"
        zone = ["$ORIGIN %s." % DOMAIN, "$TTL 300"]
        for sel, extra in (("inkrsa", []), ("inked", ["-a", "ed25519"])):
            run([inkan, "keygen", "-D", work, "-d", DOMAIN, "-s", sel] + extra, expect=0)
            txt = open(os.path.join(work, sel + ".txt")).read()
            zone.append(txt.rstrip("\n"))
            self.records["%s._domainkey.%s" % (sel, DOMAIN)] = txt_value(txt)
            self.files[sel] = os.path.join(work, sel + ".private")
            self.algs[sel] = "ed25519" if extra else "rsa"
        for sel, args, alg in (("osslrsa", ["-algorithm", "RSA", "-pkeyopt",
                                            "rsa_keygen_bits:3072"], "rsa"),
                               ("ossled", ["-algorithm", "ed25519"], "ed25519")):
            path = os.path.join(work, sel + ".pem")
            run(["openssl", "genpkey"] + args + ["-out", path], expect=0)
            os.chmod(path, 0o600)
            der = run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                      expect=0).stdout
            p = base64.b64encode(der if alg == "rsa" else der[-32:]).decode()
            value = "v=DKIM1; k=%s; p=%s" % (alg, p)
            self.records["%s._domainkey.%s" % (sel, DOMAIN)] = value
            chunks = [value[i:i + 255] for i in range(0, len(value), 255)]
            zone.append("%s._domainkey IN TXT ( %s )" % (sel, " ".join('"%s"' % c for c in chunks)))
            self.files[sel] = path
            self.algs[sel] = alg
        self.zone = os.path.join(work, "zone.db")
        with open(self.zone, "w") as f:
            f.write("\n".join(zone) + "\n")
        self.tabfile = os.path.join(work, "keys.tab")      # Mail::DKIM fake resolver
        self.spacefile = os.path.join(work, "keys.space")  # opendkim TestDNSData
        with open(self.tabfile, "w") as f, open(self.spacefile, "w") as g:
            for name, value in self.records.items():
                f.write("%s\t%s\n" % (name, value))
                g.write("%s %s\n" % (name, value))

    def selector(self, alg, origin):
        """The selector of a key of `alg` made by `origin` ("inkan" or "openssl")."""
        return {("rsa", "inkan"): "inkrsa", ("ed25519", "inkan"): "inked",
                ("rsa", "openssl"): "osslrsa", ("ed25519", "openssl"): "ossled"}[(alg, origin)]

    def dnsfunc(self, name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return self.records.get(name.rstrip(".").lower(), "").encode() or None

    def ed25519_seed_b64(self, sel):
        der = run(["openssl", "pkey", "-in", self.files[sel], "-outform", "DER"], expect=0).stdout
        return base64.b64encode(der[-32:])


def txt_value(zone_text):
    """The TXT value of a one-record zone snippet: the quoted strings joined (RFC 6376 §3.6.2.2)."""
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', zone_text)
    return "".join(re.sub(r"\\(.)", r"\1", s) for s in strings)


# ------------------------------------------------------------------------------------------
# The three implementations

class Inkan:
    def __init__(self, path, keys):
        self.path, self.keys = path, keys

    def sign(self, data, sel, canon, extra=()):
        return run([self.path, "dkim", "sign", "--key", self.keys.files[sel], "-d", DOMAIN,
                    "-s", sel, "-c", canon] + list(extra), data, expect=0).stdout

    def verify(self, data, extra=()):
        """[(result, selector, line)] and the exit code."""
        p = run([self.path, "dkim", "verify", "--zone", self.keys.zone, "--max-signatures", "10"]
                + list(extra), data, expect=(0, 1))
        out = []
        for line in p.stdout.decode().splitlines():
            m = re.match(r"dkim=(\w+)", line)
            s = re.search(r"header\.s=(\S+)", line)
            out.append((m.group(1) if m else "?", s.group(1) if s else "", line))
        return out, p.returncode


class Dkimpy:
    name = "dkimpy"

    def __init__(self, keys):
        import dkim  # noqa: F401  (checked by the caller)
        self.keys = keys

    def sign(self, data, sel, canon):
        import dkim
        alg = self.keys.algs[sel]
        h, b = canon.split("/")
        if alg == "rsa":
            key = open(self.keys.files[sel], "rb").read()
        else:
            key = self.keys.ed25519_seed_b64(sel)
        sig = dkim.sign(data, sel.encode(), DOMAIN.encode(), key,
                        canonicalize=(h.encode(), b.encode()),
                        signature_algorithm=b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256",
                        linesep=b"\r\n")
        return sig + data

    def verify(self, data):
        import dkim
        d = dkim.DKIM(data, minkey=1024)
        n = len(re.findall(rb"(?mi)^DKIM-Signature:", split_message(data)[0]))
        out = []
        for i in range(n):
            try:
                ok = d.verify(idx=i, dnsfunc=self.keys.dnsfunc)
            except dkim.DKIMException as e:
                ok = False
                print("  dkimpy: %s" % e)
            out.append(("pass" if ok else "fail", self._selector(data, i)))
        return out

    @staticmethod
    def _selector(data, idx):
        head, _ = split_message(data)
        fields = re.findall(rb"(?mi)^DKIM-Signature:([^\n]*(?:\n[ \t][^\n]*)*)", head)
        m = re.search(rb"(?:^|;)\s*s\s*=\s*([^;\s]+)", fields[idx])
        return m.group(1).decode() if m else ""


class MailDkim:
    name = "maildkim"

    def __init__(self, keys):
        self.keys = keys
        self.script = os.path.join(HERE, "maildkim.pl")

    def sign(self, data, sel, canon):
        sig = run(["perl", self.script, "sign", "--key", self.keys.files[sel], "--domain", DOMAIN,
                   "--selector", sel, "--canon", canon], data, expect=0).stdout
        return sig + b"\r\n" + data

    def verify(self, data):
        p = run(["perl", self.script, "verify", "--dns", self.keys.tabfile], data, expect=0)
        out = []
        for line in p.stdout.decode().splitlines():
            m = re.match(r"(\S+) d=\S* s=(\S*) a=(\S*) detail=(.*)", line)
            out.append((m.group(1), m.group(2)) if m else ("?", ""))
        return out


class OpenDkim:
    name = "opendkim"

    def __init__(self, keys, binary):
        self.keys, self.binary, self.n = keys, binary, 0

    def _conf(self, lines):
        self.n += 1
        path = os.path.join(self.keys.work, "opendkim-%d.conf" % self.n)
        with open(path, "w") as f:
            f.write("\n".join(["Syslog no", "RequireSafeKeys no"] + lines) + "\n")
        return path

    def _run(self, conf, data):
        self.n += 1
        path = os.path.join(self.keys.work, "opendkim-msg-%d.eml" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        p = run([self.binary, "-x", conf, "-t", path, "-vvv"], expect=0)
        os.unlink(path)
        return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")

    def sign(self, data, sel, canon):
        alg = self.keys.algs[sel]
        conf = self._conf(["Mode s", "Domain " + DOMAIN, "Selector " + sel,
                           "KeyFile " + self.keys.files[sel], "Canonicalization " + canon,
                           "SignatureAlgorithm " + ("rsa-sha256" if alg == "rsa" else
                                                    "ed25519-sha256")])
        out = self._run(conf, data)
        m = re.search(r"hname='DKIM-Signature' hvalue='([^']*)'", out)
        if not m:
            print("  opendkim did not sign: %s" % " | ".join(
                line for line in out.splitlines() if "mlfi_" not in line)[-300:])
            return None
        field = ("DKIM-Signature: " + m.group(1)).replace("\n", "\r\n").encode()
        return field + b"\r\n" + data

    def clauses(self, data):
        conf = self._conf(["Mode v", "MaximumSignaturesToVerify 10",
                           "TestDNSData file:" + self.keys.spacefile])
        out = self._run(conf, data)
        m = re.search(r"hname='Authentication-Results' hvalue='[^;]*;\s*(.*?)'", out, re.S)
        if not m:
            return []
        return [c.strip() for c in re.split(r";\s*", m.group(1)) if c.strip().startswith("dkim=")]

    def verify(self, data):
        out = []
        for c in self.clauses(data):
            r = re.match(r"dkim=(\w+)", c).group(1)
            s = re.search(r"header\.s=(\S+)", c)
            out.append((r, s.group(1) if s else ""))
        return out


def dkimpy_available():
    try:
        import dkim  # noqa: F401
        import nacl  # noqa: F401
        return True
    except ImportError:
        return False


def make_peer(name, keys, opendkim_bin):
    if name == "dkimpy":
        try:
            import dkim  # noqa: F401
            import nacl  # noqa: F401
        except ImportError as e:
            skip("python3-dkim/python3-nacl not importable by %s: %s" % (sys.executable, e))
        return Dkimpy(keys)
    if name == "maildkim":
        if run(["perl", "-MMail::DKIM::Verifier", "-MNet::DNS", "-e", "1"]).returncode != 0:
            skip("Mail::DKIM (libmail-dkim-perl) is not installed")
        return MailDkim(keys)
    if name == "opendkim":
        if not opendkim_bin or not os.access(opendkim_bin, os.X_OK):
            skip("opendkim is not installed")
        return OpenDkim(keys, opendkim_bin)
    raise SystemExit("unknown peer " + name)


# ------------------------------------------------------------------------------------------
# Cases

def results_for(results, sel):
    return [r for r, s, *rest in results if s == sel]


def case_inkan_to_peer(inkan, keys, peer, alg):
    sel = keys.selector(alg, "inkan")
    for idx, (name, data) in enumerate(corpus()):
        for ci, canon in enumerate(CANONS):
            what = "%s %s %s" % (name, canon, alg)
            if name == "lf-only":
                signed = inkan.sign(to_lf(data), sel, canon)
                check(b"\r" not in signed, "%s: inkan kept LF-only line ends" % what)
                check(signed.endswith(to_lf(data)), "%s: message unchanged after the fields" % what)
                signed = to_crlf(signed)
            else:
                signed = inkan.sign(data, sel, canon)
                check(signed.endswith(data), "%s: message unchanged after the fields" % what)
            got = peer.verify(signed)
            why = known(peer.name, name, canon, "inkan-signs", alg)
            if why:
                print("  known divergence (%s): %s; %s says %s" % (what, why, peer.name, got))
                if got == [("pass", sel)]:
                    print("  note: %s passed it anyway: the divergence may be gone" % peer.name)
            else:
                check(got == [("pass", sel)], "%s: %s verifies inkan's signature: got %s" % (
                    what, peer.name, got))
            mine, rc = inkan.verify(signed)
            check(rc == 0 and [r for r, *_ in mine] == ["pass"],
                  "%s: inkan verifies its own signature: got %s" % (what, mine))
            if isinstance(peer, OpenDkim) and rc == 0 and ci == 0 and not why:
                # The clause text is OpenDKIM's, byte for byte (anchor-features.md §2.6).
                theirs = peer.clauses(signed)
                check(theirs == [mine[0][2]], "%s: A-R clause: inkan %r, opendkim %r" % (
                    what, mine[0][2], theirs))
            if ci != idx % len(CANONS):
                continue
            for tname, tampered in (("body", tamper_body(signed)),
                                    ("header", tamper_header(signed))):
                got = peer.verify(tampered)
                check(all(r != "pass" for r, _ in got) and (len(got) == 1 or why),
                      "%s: %s rejects the %s-tampered copy: got %s" % (what, peer.name, tname, got))
                mine, rc = inkan.verify(tampered)
                check(rc == 1 and len(mine) == 1 and mine[0][0] == "fail",
                      "%s: inkan rejects the %s-tampered copy: got %s" % (what, tname, mine))
        print("ok %s" % name, flush=True)


def case_peer_to_inkan(inkan, keys, peer, alg):
    sel = keys.selector(alg, "openssl")
    for idx, (name, data) in enumerate(corpus()):
        for ci, canon in enumerate(CANONS):
            what = "%s %s %s" % (name, canon, alg)
            why = known(peer.name, name, canon, "peer-signs", alg)
            signed = peer.sign(data, sel, canon)
            if signed is None:
                check(why is not None, "%s: %s did not sign" % (what, peer.name))
                print("  known divergence (%s): %s; %s did not sign" % (what, why, peer.name))
                continue
            if name == "lf-only":
                mine, rc = inkan.verify(to_lf(signed))
            else:
                mine, rc = inkan.verify(signed)
            if why:
                # inkan must agree with dkimpy on the peer's deviant signature.
                ref = Dkimpy(keys).verify(signed) if dkimpy_available() else None
                print("  known divergence (%s): %s; inkan says %s, dkimpy %s" % (
                    what, why, [r for r, *_ in mine], ref))
                if ref is not None:
                    check([r for r, *_ in mine] == [r for r, _ in ref],
                          "%s: inkan and dkimpy agree on %s's signature: %s vs %s" % (
                              what, peer.name, mine, ref))
                continue
            check(rc == 0 and [(r, s) for r, s, _ in mine] == [("pass", sel)],
                  "%s: inkan verifies %s's signature: got %s" % (what, peer.name, mine))
            if ci != idx % len(CANONS):
                continue
            for tname, tampered in (("body", tamper_body(signed)),
                                    ("header", tamper_header(signed))):
                mine, rc = inkan.verify(tampered)
                check(rc == 1 and len(mine) == 1 and mine[0][0] == "fail",
                      "%s: inkan rejects the %s-tampered copy: got %s" % (what, tname, mine))
                got = peer.verify(tampered)
                check(len(got) == 1 and got[0][0] != "pass",
                      "%s: %s rejects its own %s-tampered copy: got %s" % (
                          what, peer.name, tname, got))
        print("ok %s" % name, flush=True)


def case_multi(inkan, keys, opendkim_bin):
    peers = [make_peer(n, keys, opendkim_bin) for n in ("dkimpy", "maildkim", "opendkim")]
    dkimpy, maildkim, opendkim = peers
    for name, data in corpus():
        if name in ("lf-only", "no-final-newline", "whitespace"):
            continue  # LF-only is inkan's input form; the other two are in KNOWN for the peers
        # inkan signs with the openssl keys (RSA + Ed25519 in one pass); the peers sign on top
        # with the keys inkan keygen made: dkimpy (Ed25519), Mail::DKIM (RSA), libopendkim
        # (RSA, then Ed25519).
        signed = run([inkan.path, "dkim", "sign", "--key", keys.files["osslrsa"], "-d", DOMAIN,
                      "-s", "osslrsa", "-c", "relaxed/simple", "--ed25519-key",
                      keys.files["ossled"], "-S", "ossled"], data, expect=0).stdout
        signed = dkimpy.sign(signed, "inked", "relaxed/relaxed")
        signed = maildkim.sign(signed, "inkrsa", "simple/simple")
        signed = opendkim.sign(signed, "inkrsa", "simple/relaxed")
        signed = opendkim.sign(signed, "inked", "relaxed/relaxed")
        want_sels = ["inked", "inkrsa", "inkrsa", "inked", "osslrsa", "ossled"]   # top first
        n = len(want_sels)
        mine, rc = inkan.verify(signed)
        check(rc == 0 and [(r, s) for r, s, _ in mine] == [("pass", s) for s in want_sels],
              "%s: inkan verifies %d signatures: got %s" % (name, n, mine))
        got = dkimpy.verify(signed)
        check(got == [("pass", s) for s in want_sels],
              "%s: dkimpy verifies %d signatures: got %s" % (name, n, got))
        got = maildkim.verify(signed)
        # Debian 12's Mail::DKIM has no Ed25519: those are "invalid", never "pass".
        want = [("pass" if keys.algs[s] == "rsa" else "invalid", s) for s in want_sels]
        check(got == want, "%s: Mail::DKIM verifies the RSA signatures: got %s" % (name, got))
        got = opendkim.verify(signed)
        check(sorted(got) == sorted(("pass", s) for s in want_sels),
              "%s: libopendkim verifies %d signatures: got %s" % (name, n, got))
        for tname, tampered in (("body", tamper_body(signed)), ("header", tamper_header(signed))):
            mine, rc = inkan.verify(tampered)
            check(rc == 1 and len(mine) == n and all(r == "fail" for r, *_ in mine),
                  "%s: inkan fails all %d on the %s-tampered copy: got %s" % (name, n, tname, mine))
            for peer in peers:
                got = peer.verify(tampered)
                check(len(got) == n and all(r != "pass" for r, _ in got),
                      "%s: %s fails all %d on the %s-tampered copy: got %s" % (
                          name, peer.name, n, tname, got))
        print("ok %s" % name, flush=True)


def mask_key(text):
    return re.sub(r"[A-Za-z0-9+/=]{40,}", lambda m: "K" * len(m.group()), text)


def case_keygen_shape(inkan, work):
    genkey = shutil.which("opendkim-genkey")
    if not genkey:
        skip("opendkim-genkey (opendkim-tools) is not installed")
    variants = [[], ["-r"], ["-t"], ["-S"], ["-t", "-S", "-r"], ["-b", "1024"], ["-b", "4096"],
                ["-a"], ["--append-domain", "-d", "example.net"], ["-n", "a note"],
                ["-h", "sha1:sha256"], ["-s", "sel2024", "-d", "example.org"], ["-d", "mail.example.com", "--subdomains"],
                ["-rt"]]
    for i, v in enumerate(variants):
        a, b = os.path.join(work, "genkey%d" % i), os.path.join(work, "inkan%d" % i)
        os.makedirs(a)
        os.makedirs(b)
        run([genkey, "-D", a] + v, expect=0)
        run([inkan, "keygen", "-D", b] + v, expect=0)
        sel = v[v.index("-s") + 1] if "-s" in v else "default"
        theirs = open(os.path.join(a, sel + ".txt")).read()
        ours = open(os.path.join(b, sel + ".txt")).read()
        check(mask_key(ours) == mask_key(theirs),
              "keygen %s: .txt shape\n  inkan:  %r\n  genkey: %r" % (v, ours, theirs))
        for line in re.findall(r'"([^"]*)"', ours):
            check(len(line) <= 255, "keygen %s: character-string of %d > 255 octets" % (v, len(line)))
        priv = os.path.join(b, sel + ".private")
        check(os.stat(priv).st_mode & 0o777 == 0o600, "keygen %s: .private mode %o" % (
            v, os.stat(priv).st_mode & 0o777))
        check(open(priv).read().startswith("-----BEGIN PRIVATE KEY-----"),
              "keygen %s: .private is PKCS#8 PEM as genkey writes it" % v)
        der = run(["openssl", "pkey", "-in", priv, "-pubout", "-outform", "DER"], expect=0).stdout
        p = re.search(r"p=(\S*)", txt_value(ours)).group(1)
        check(base64.b64decode(p) == der, "keygen %s: p= is the public half of .private" % v)
        bits = int(v[v.index("-b") + 1]) if "-b" in v else 2048
        text = run(["openssl", "pkey", "-in", priv, "-noout", "-text"], expect=0).stdout.decode()
        check("(%d bit" % bits in text, "keygen %s: a %d-bit key" % (v, bits))
        print("ok keygen %s" % v, flush=True)
    # Ed25519 (opendkim-genkey has none): k=ed25519, p= the raw 32-byte key (RFC 8463 §4).
    d = os.path.join(work, "ed")
    os.makedirs(d)
    run([inkan, "keygen", "-a", "ed25519", "-D", d, "-d", DOMAIN, "-s", "ed"], expect=0)
    txt = open(os.path.join(d, "ed.txt")).read()
    check(txt.startswith('ed._domainkey\tIN\tTXT\t( "v=DKIM1; h=sha256; k=ed25519; "\n\t  "p='),
          "keygen ed25519: record shape %r" % txt)
    check(txt.endswith('" )  ; ----- DKIM key ed for example.com\n'), "keygen ed25519: comment")
    der = run(["openssl", "pkey", "-in", os.path.join(d, "ed.private"), "-pubout", "-outform",
               "DER"], expect=0).stdout
    p = re.search(r"p=(\S*)", txt_value(txt)).group(1)
    check(base64.b64decode(p) == der[-32:], "keygen ed25519: p= is the raw public key")
    # Existing files are never overwritten.
    before = open(os.path.join(d, "ed.private"), "rb").read()
    p = run([inkan, "keygen", "-a", "ed25519", "-D", d, "-d", DOMAIN, "-s", "ed"], expect=2)
    check(b"exists" in p.stderr, "keygen refuses to overwrite: %r" % p.stderr)
    check(open(os.path.join(d, "ed.private"), "rb").read() == before, "keygen: key unchanged")
    os.unlink(os.path.join(d, "ed.txt"))
    run([inkan, "keygen", "-a", "ed25519", "-D", d, "-d", DOMAIN, "-s", "ed"], expect=2)
    check(open(os.path.join(d, "ed.private"), "rb").read() == before,
          "keygen: key unchanged when only .txt was missing")
    check(not os.path.exists(os.path.join(d, "ed.txt")), "keygen: no half-written pair")
    # Bad arguments.
    for bad in (["-b", "512"], ["-b", "x"], ["-s", "../evil"], ["-s", "a/b"], ["-d", "bad domain"],
                ["-a", "ed448"], ["-n", 'quote"'], ["-h", "sha256; p=x"], ["--bogus"]):
        p = run([inkan, "keygen", "-D", d] + bad)
        check(p.returncode == 2, "keygen %s: exit %d, want 2" % (bad, p.returncode))
    print("ok keygen ed25519 / overwrite / usage", flush=True)


def case_testkey(inkan, keys, work):
    def testkey(sel, key, zone, extra=()):
        p = run([inkan, "testkey", "-d", DOMAIN, "-s", sel, "-k", key, "--zone", zone] + list(extra))
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    def zone(name, text):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    rc, out = testkey("inkrsa", keys.files["inkrsa"], os.path.join(work, "inkrsa.txt"))
    check(rc == 0 and "key OK" in out, "testkey: keygen output as zone: %d %s" % (rc, out))
    rc, out = testkey("inked", keys.files["inked"], os.path.join(work, "inked.txt"))
    check(rc == 0 and "key OK" in out, "testkey ed25519: %d %s" % (rc, out))
    rc, out = testkey("osslrsa", keys.files["osslrsa"], keys.zone, ["--origin", "."])
    check(rc == 0 and "key OK" in out, "testkey: full zone: %d %s" % (rc, out))
    rc, out = testkey("inkrsa", keys.files["osslrsa"], keys.zone)
    check(rc == 1 and "mismatch" in out, "testkey: wrong private key: %d %s" % (rc, out))
    rc, out = testkey("inkrsa", keys.files["inked"], keys.zone)
    check(rc == 1 and "type mismatch" in out, "testkey: key type: %d %s" % (rc, out))
    rc, out = testkey("nosuch", keys.files["inkrsa"], keys.zone)
    check(rc == 1 and "NXDOMAIN" in out, "testkey: missing record: %d %s" % (rc, out))
    z = zone("nodata.db", "nodata._domainkey IN A 192.0.2.1\n")
    rc, out = testkey("nodata", keys.files["inkrsa"], z)
    check(rc == 1 and "NODATA" in out, "testkey: no TXT: %d %s" % (rc, out))
    z = zone("revoked.db", 'rev._domainkey IN TXT "v=DKIM1; k=rsa; p="\n')
    rc, out = testkey("rev", keys.files["inkrsa"], z)
    check(rc == 1 and "revoked" in out, "testkey: revoked: %d %s" % (rc, out))
    z = zone("syntax.db", 'bad._domainkey IN TXT "v=DKIM1; k=rsa; p=!!notbase64"\n')
    rc, out = testkey("bad", keys.files["inkrsa"], z)
    check(rc == 1 and "syntax" in out, "testkey: syntax: %d %s" % (rc, out))
    small = os.path.join(work, "small.pem")
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512", "-out",
         small], expect=0)
    os.chmod(small, 0o600)
    der = run(["openssl", "pkey", "-in", small, "-pubout", "-outform", "DER"], expect=0).stdout
    z = zone("small.db", 'small._domainkey IN TXT "v=DKIM1; k=rsa; p=%s"\n' %
             base64.b64encode(der).decode())
    rc, out = testkey("small", small, z)
    check(rc == 1 and "too small" in out, "testkey: 512-bit key: %d %s" % (rc, out))
    d = os.path.join(work, "testmode")
    os.makedirs(d)
    run([inkan, "keygen", "-t", "-D", d, "-d", DOMAIN, "-s", "tm"], expect=0)
    rc, out = testkey("tm", os.path.join(d, "tm.private"), os.path.join(d, "tm.txt"))
    check(rc == 0 and "t=y" in out, "testkey: t=y note: %d %s" % (rc, out))
    os.chmod(os.path.join(d, "tm.private"), 0o644)
    rc, out = testkey("tm", os.path.join(d, "tm.private"), os.path.join(d, "tm.txt"))
    check(rc == 0 and "not secure" in out, "testkey: readable key warned: %d %s" % (rc, out))
    p = run([inkan, "testkey", "-d", DOMAIN, "-s", "x"])
    check(p.returncode == 2, "testkey: missing -k is a usage error")
    p = run([inkan, "testkey", "-d", DOMAIN, "-s", "x", "-k", "/nonexistent", "--zone", keys.zone])
    check(p.returncode == 2, "testkey: unreadable key is an I/O error")
    print("ok testkey", flush=True)


class DnsServer:
    """A tiny authoritative server on 127.0.0.1 for --nameserver (dnspython, UDP)."""

    def __init__(self, records):
        import dns.message
        import dns.rcode
        import dns.rdata
        import dns.rdataclass
        import dns.rdatatype
        self.records = records
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = False

        def serve():
            while not self.stop:
                try:
                    data, addr = self.sock.recvfrom(4096)
                except OSError:
                    return
                q = dns.message.from_wire(data)
                r = dns.message.make_response(q)
                qname = q.question[0].name.to_text().rstrip(".").lower()
                if qname not in self.records:
                    r.set_rcode(dns.rcode.NXDOMAIN)
                elif q.question[0].rdtype == dns.rdatatype.TXT:
                    value = self.records[qname]
                    chunks = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
                    rrset = r.find_rrset(r.answer, q.question[0].name, dns.rdataclass.IN,
                                         dns.rdatatype.TXT, create=True)
                    rrset.add(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, chunks),
                              300)
                self.sock.sendto(r.to_wire(max_size=65535), addr)

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stop = True
        self.sock.close()


def case_cli(inkan, keys, work, opendkim_bin):
    data = dict(corpus())["basic"]
    # Line ends: CRLF in -> CRLF out; LF in -> LF out; the message itself is untouched.
    signed = inkan.sign(data, "inkrsa", "relaxed/relaxed")
    head = signed[:len(signed) - len(data)]
    check(head.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;"),
          "cli: signature field %r" % head[:80])
    check(b"\n" not in head.replace(b"\r\n", b""), "cli: CRLF input gives CRLF fields")
    signed_lf = inkan.sign(to_lf(data), "inkrsa", "relaxed/relaxed")
    check(b"\r" not in signed_lf, "cli: LF input gives LF fields")
    # The resinfo line (anchor-features.md §2.6).
    mine, rc = inkan.verify(signed)
    check(rc == 0 and re.fullmatch(
        r"dkim=pass \(2048-bit key\) header\.d=example\.com header\.i=@example\.com "
        r"header\.a=rsa-sha256 header\.s=inkrsa header\.b=[A-Za-z0-9+/]{8}", mine[0][2]) is not None,
        "cli: resinfo line %r" % mine)
    signed_ed = inkan.sign(data, "inked", "relaxed/relaxed")
    mine, rc = inkan.verify(signed_ed)
    check(rc == 0 and re.fullmatch(
        r"dkim=pass header\.d=example\.com header\.i=@example\.com header\.a=ed25519-sha256 "
        r"header\.s=inked header\.b=[A-Za-z0-9+/]{8}", mine[0][2]) is not None,
        "cli: ed25519 resinfo line (no key-size comment) %r" % mine)
    mine, rc = inkan.verify(tamper_body(signed))
    check(rc == 1 and re.match(r'dkim=fail reason="[^"]+" \(2048-bit key\) header\.d=', mine[0][2])
          is not None, "cli: fail line carries reason and key size: %r" % mine)
    # Unsigned: dkim=none, exit 1.
    p = run([inkan.path, "dkim", "verify", "--zone", keys.zone], data)
    check(p.returncode == 1 and p.stdout == b"dkim=none\n", "cli: unsigned %d %r" % (
        p.returncode, p.stdout))
    # Key not in DNS: not pass, exit 1.
    other = run([inkan.path, "dkim", "sign", "--key", keys.files["inkrsa"], "-d", DOMAIN, "-s",
                 "unpublished"], data, expect=0).stdout
    mine, rc = inkan.verify(other)
    check(rc == 1 and mine[0][0] in ("permerror", "fail") and "reason=" in mine[0][2],
          "cli: missing key: %r" % mine)
    # x=: pass before, not after (fixed clocks on both sides).
    t0 = 1795349429
    signed_x = inkan.sign(data, "inkrsa", "relaxed/relaxed", ["-x", "60", "--time", str(t0)])
    check(b"t=%d" % t0 in signed_x and b"x=%d" % (t0 + 60) in signed_x, "cli: t= and x= written")
    mine, rc = inkan.verify(signed_x, ["--time", str(t0 + 30)])
    check(rc == 0, "cli: x= not reached: %r" % mine)
    mine, rc = inkan.verify(signed_x, ["--time", str(t0 + 61)])
    check(rc == 1 and mine[0][0] != "pass", "cli: x= passed: %r" % mine)
    # --clock-drift: OpenDKIM's ClockDrift tolerance (expired when now >= x + drift).
    mine, rc = inkan.verify(signed_x, ["--time", str(t0 + 61), "--clock-drift", "300"])
    check(rc == 0, "cli: x= within --clock-drift: %r" % mine)
    mine, rc = inkan.verify(signed_x, ["--time", str(t0 + 360), "--clock-drift", "300"])
    check(rc == 1 and mine[0][0] != "pass", "cli: x= beyond --clock-drift: %r" % mine)
    # --headers, -i, -a.
    signed_h = inkan.sign(data, "inkrsa", "simple/simple",
                          ["--headers", "from:subject", "-i", "alice@example.com"])
    field = signed_h[:len(signed_h) - len(data)].replace(b"\r\n\t", b"").replace(b"\r\n ", b"")
    check(re.search(rb"h=[Ff]rom:[Ss]ubject(:[Ff]rom)?;", field) is not None and
          b"i=alice@example.com" in field, "cli: --headers and -i: %r" % field)
    check(inkan.verify(signed_h)[1] == 0, "cli: --headers signature verifies")
    p = run([inkan.path, "dkim", "sign", "--key", keys.files["inkrsa"], "-d", DOMAIN, "-s", "x",
             "-a", "ed25519-sha256"], data)
    check(p.returncode == 2, "cli: -a not fitting the key is a usage error")
    # Usage and I/O errors exit 2.
    for args in (["dkim"], ["dkim", "frob"], ["dkim", "sign"], ["dkim", "verify", "--bogus"],
                 ["dkim", "verify", "--zone", "/nonexistent"],
                 ["dkim", "sign", "--key", "/nonexistent", "-d", DOMAIN, "-s", "x"]):
        p = run([inkan.path] + args, data)
        check(p.returncode == 2, "cli: %s exits %d, want 2" % (args, p.returncode))
    # A world-readable key is refused unless allowed.
    loose = os.path.join(work, "loose.pem")
    shutil.copy(keys.files["inkrsa"], loose)
    os.chmod(loose, 0o644)
    p = run([inkan.path, "dkim", "sign", "--key", loose, "-d", DOMAIN, "-s", "inkrsa"], data)
    check(p.returncode == 2, "cli: readable key refused")
    p = run([inkan.path, "dkim", "sign", "--key", loose, "-d", DOMAIN, "-s", "inkrsa",
             "--unsafe-key-ok"], data)
    check(p.returncode == 0, "cli: --unsafe-key-ok")
    # --nameserver against a DNS server on loopback.
    try:
        import dns.message  # noqa: F401
    except ImportError:
        print("note: dnspython missing, --nameserver not tested")
        return
    server = DnsServer(keys.records)
    try:
        ns = "127.0.0.1:%d" % server.port
        p = run([inkan.path, "dkim", "verify", "--nameserver", ns], signed)
        check(p.returncode == 0 and p.stdout.startswith(b"dkim=pass"),
              "cli: verify --nameserver: %d %r %r" % (p.returncode, p.stdout, p.stderr))
        p = run([inkan.path, "testkey", "-d", DOMAIN, "-s", "inked", "-k", keys.files["inked"],
                 "--nameserver", ns])
        check(p.returncode == 0 and b"key OK" in p.stdout, "cli: testkey --nameserver: %r %r" % (
            p.stdout, p.stderr))
        p = run([inkan.path, "testkey", "-d", DOMAIN, "-s", "absent", "-k", keys.files["inked"],
                 "--nameserver", ns])
        check(p.returncode == 1 and b"NXDOMAIN" in p.stdout, "cli: testkey NXDOMAIN via DNS: %r" %
              p.stdout)
    finally:
        server.close()
    # Nobody answers any more: temporary DNS failure -> temperror (never pass), exit 1.
    p = run([inkan.path, "dkim", "verify", "--nameserver", ns, "--timeout", "300"], signed)
    check(p.returncode == 1 and p.stdout.startswith(b"dkim=temperror reason="),
          "cli: verify with a dead server: %d %r" % (p.returncode, p.stdout))
    p = run([inkan.path, "testkey", "-d", DOMAIN, "-s", "inked", "-k", keys.files["inked"],
             "--nameserver", ns, "--timeout", "300"])
    check(p.returncode == 1 and b"DNS error" in p.stdout, "cli: testkey with a dead server: %r" %
          p.stdout)
    print("ok cli", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inkan", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--opendkim", default=shutil.which("opendkim") or "/usr/sbin/opendkim")
    a = ap.parse_args()
    if not os.access(a.inkan, os.X_OK):
        raise SystemExit("inkan binary not found: " + a.inkan)
    if os.path.exists(a.work):
        shutil.rmtree(a.work)
    os.makedirs(a.work)
    os.chmod(a.work, 0o700)
    inkan_path = os.path.abspath(a.inkan)

    if a.case == "keygen-shape":
        case_keygen_shape(inkan_path, a.work)
    else:
        keys = Keys(inkan_path, a.work)
        inkan = Inkan(inkan_path, keys)
        m = re.fullmatch(r"inkan-to-(\w+)-(rsa|ed25519)", a.case)
        n = re.fullmatch(r"(\w+)-to-inkan-(rsa|ed25519)", a.case)
        if m:
            case_inkan_to_peer(inkan, keys, make_peer(m.group(1), keys, a.opendkim), m.group(2))
        elif n:
            case_peer_to_inkan(inkan, keys, make_peer(n.group(1), keys, a.opendkim), n.group(2))
        elif a.case == "multi":
            case_multi(inkan, keys, a.opendkim)
        elif a.case == "testkey":
            case_testkey(inkan_path, keys, a.work)
        elif a.case == "cli":
            case_cli(inkan, keys, a.work, a.opendkim)
        else:
            raise SystemExit("unknown case " + a.case)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
