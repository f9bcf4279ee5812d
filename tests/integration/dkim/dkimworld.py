"""dkimworld — the inkan-dkim integration world, shared by the ctest integration test and the demo.

On top of mailenv.MailEnv (unbound + private Postfix + smtp-sink, loopback only) it generates
DKIM keys, publishes them in DNS, writes an unchanged seed-style OpenDKIM deployment
(opendkim.conf + KeyTable + SigningTable + TrustedHosts: three virtual domains with one key each
and a catch-all `*` key that re-signs forwarded mail) and starts inkan-dkim on it. It can also
start the real `opendkim` (Debian package) as a second milter, driven by the milter-client CLI,
to sign inbound test mail and to verify what inkan-dkim signed.
"""
import base64
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from mailenv import MailEnv, free_port, unfold_headers, wait_tcp  # noqa: E402

# The seed deployments' domains.
DOMAINS = ["example.net", "example.org", "example.com"]
RELAY_DOMAIN = "relay.example.com"  # the catch-all key for forwarded mail
SENDER_DOMAIN = "sender.example"    # an outside domain whose mail opendkim signs
AUTHSERV_ID = "mx.inkan.test"


def openssl_rsa_key(path, bits=2048):
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}",
                    "-out", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return base64.b64encode(der).decode()


def make_key(path, inkan=None):
    """A 2048-bit RSA key at path (0600); returns the base64 p= value. Uses `inkan keygen`
    when an inkan CLI with keygen is given, openssl otherwise."""
    if inkan and os.access(inkan, os.X_OK):
        d = os.path.dirname(path)
        sel = os.path.basename(path).split(".")[0]
        r = subprocess.run([inkan, "keygen", "-b", "2048", "-s", sel, "-d", "example.invalid", "-D", d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        txt = os.path.join(d, sel + ".txt")
        if r.returncode == 0 and os.path.exists(os.path.join(d, sel + ".private")) and os.path.exists(txt):
            os.replace(os.path.join(d, sel + ".private"), path)
            os.chmod(path, 0o600)
            with open(txt) as fh:
                m = re.search(r"p=([A-Za-z0-9+/=\"\s]+)", fh.read())
            os.unlink(txt)
            if m:
                return re.sub(r"[\"\s]", "", m.group(1))
    return openssl_rsa_key(path)


def txt_rdata(p):
    """A DKIM key record as zone-file TXT rdata, split into <=255-byte strings."""
    rec = f"v=DKIM1; h=sha256; k=rsa; p={p}"
    return " ".join('"%s"' % rec[i:i + 250] for i in range(0, len(rec), 250))


class DkimWorld:
    def __init__(self, inkan_dkim, milter_client=None, inkan=None, keep=False):
        self.inkan_dkim = inkan_dkim
        self.milter_client = milter_client
        self.inkan = inkan
        self.env = MailEnv(keep=keep, prefix="inkan-dkim-")
        self.keys = {}       # (domain, selector) -> p=
        self.records = []
        self.dkim_proc = None
        self.dkim_port = None
        self.opendkim_port = None
        self.etc = self.env.path("etc")
        os.makedirs(self.etc, exist_ok=True)
        self.keydir = self.env.path("keys")
        os.makedirs(self.keydir, 0o700, exist_ok=True)

    # ------------------------------------------------------------------ setup
    def add_key(self, domain, selector, publish=True):
        path = os.path.join(self.keydir, f"{selector}.{domain}.private")
        p = make_key(path, self.inkan)
        self.keys[(domain, selector)] = p
        if publish:
            self.records.append((f"{selector}._domainkey.{domain}", "TXT", txt_rdata(p)))
        return path

    def txt(self, name):
        """The TXT answer for dkimpy's dnsfunc."""
        name = name.decode() if isinstance(name, bytes) else name
        name = name.rstrip(".").lower()
        for (d, s), p in self.keys.items():
            if name == f"{s}._domainkey.{d}" and (f"{s}._domainkey.{d}", "TXT", txt_rdata(p)) in self.records:
                return f"v=DKIM1; h=sha256; k=rsa; p={p}".encode()
        return None

    def write_seed_config(self, extra=""):
        """The unchanged seed-style OpenDKIM deployment: refile tables, TrustedHosts."""
        kt = ["# keyname                domain:selector:keyfile"]
        st = ["# sender pattern   keyname"]
        for d in DOMAINS:
            kt.append(f"sel._domainkey.{d}  {d}:sel:{self.keydir}/sel.{d}.private")
            st.append(f"*@{d} sel._domainkey.{d}")
        kt.append(f"relay  {RELAY_DOMAIN}:fwd:{self.keydir}/fwd.{RELAY_DOMAIN}.private")
        st.append("* relay")
        with open(os.path.join(self.etc, "KeyTable"), "w") as fh:
            fh.write("\n".join(kt) + "\n")
        with open(os.path.join(self.etc, "SigningTable"), "w") as fh:
            fh.write("\n".join(st) + "\n")
        with open(os.path.join(self.etc, "TrustedHosts"), "w") as fh:
            fh.write("127.0.0.1\n::1\nlocalhost\n")
        conf = f"""# seed-style /etc/opendkim.conf (Debian defaults + a KeyTable deployment)
Syslog                  yes
SyslogSuccess           yes
LogWhy                  yes
Canonicalization        relaxed/simple
OversignHeaders         From
UMask                   007
Socket                  inet:{self.dkim_port}@127.0.0.1
PidFile                 {self.env.path('inkan-dkim.pid')}
TrustAnchorFile         /usr/share/dns/root.key
Mode                    sv
SubDomains              no
AutoRestart             yes
AutoRestartRate         10/1h
KeyTable                file:{self.etc}/KeyTable
SigningTable            refile:{self.etc}/SigningTable
ExternalIgnoreList      refile:{self.etc}/TrustedHosts
InternalHosts           refile:{self.etc}/TrustedHosts
Nameservers             127.0.0.1@{self.env.dns_port}
DNSTimeout              5
AuthservID              {AUTHSERV_ID}
MinimumKeyBits          1024
{extra}"""
        path = os.path.join(self.etc, "opendkim.conf")
        with open(path, "w") as fh:
            fh.write(conf)
        return path

    def start(self, with_opendkim=True):
        for d in DOMAINS:
            self.add_key(d, "sel")
        self.add_key(RELAY_DOMAIN, "fwd")
        self.sender_key = self.add_key(SENDER_DOMAIN, "ext")
        self.env.start_dns(self.records)
        self.dkim_port = free_port()
        conf = self.write_seed_config()
        self.dkim_proc = self.env.start("inkan-dkim", [self.inkan_dkim, "-f", "-x", conf])
        wait_tcp("127.0.0.1", self.dkim_port, proc=self.dkim_proc, what="inkan-dkim")
        if with_opendkim:
            self.start_opendkim()
        self.env.start_postfix(milters=[f"inet:127.0.0.1:{self.dkim_port}"])

    def reload(self, extra):
        """Rewrites opendkim.conf with `extra` lines and sends SIGUSR1 (as Debian's unit does)."""
        self.write_seed_config(extra)
        before = self.env.output("inkan-dkim").count("configuration reloaded")
        os.kill(self.dkim_proc.pid, signal.SIGUSR1)
        for _ in range(100):
            if self.env.output("inkan-dkim").count("configuration reloaded") > before:
                return
            time.sleep(0.05)
        raise RuntimeError("inkan-dkim did not reload:\n" + self.env.output("inkan-dkim")[-2000:])

    def stop_dkim(self):
        self.dkim_proc.send_signal(signal.SIGTERM)
        return self.dkim_proc.wait(30)

    def start_opendkim(self):
        """The real opendkim: signs mail from 127.0.0.1 for sender.example, verifies the rest."""
        self.opendkim_port = free_port()
        conf = os.path.join(self.etc, "opendkim-anchor.conf")
        with open(conf, "w") as fh:
            fh.write(f"""Socket inet:{self.opendkim_port}@127.0.0.1
Mode sv
Domain {SENDER_DOMAIN}
Selector ext
KeyFile {self.sender_key}
RequireSafeKeys no
Canonicalization relaxed/simple
Nameservers 127.0.0.1@{self.env.dns_port}
AuthservID opendkim.anchor
Background no
""")
        p = self.env.start("opendkim", ["/usr/sbin/opendkim", "-f", "-x", conf])
        wait_tcp("127.0.0.1", self.opendkim_port, proc=p, what="opendkim")

    def through_opendkim(self, message, client_addr):
        """Runs a message through opendkim with milter-client; returns (result line, message)."""
        if isinstance(message, str):
            message = message.encode()
        path = self.env.path("mc-%d.eml" % time.time_ns())
        with open(path, "wb") as fh:
            fh.write(message)
        r = subprocess.run([self.milter_client, "-s", f"inet:127.0.0.1:{self.opendkim_port}", "-i", "OPENDKIM1",
                            "-D", "connect:j=opendkim.anchor", "--client-addr", client_addr,
                            "--client-host", "[%s]" % client_addr, path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        out = r.stdout.decode("utf-8", "replace")
        result = next((l for l in out.splitlines() if l.startswith("result:")), "result: ?")
        body = out.split("--- message ---\n", 1)[1] if "--- message ---\n" in out else ""
        return result, body

    def close(self):
        self.env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def message(from_addr, to_addr="rcpt@elsewhere.example", subject="inkan-dkim test", body="Hello from inkan.\r\n",
            extra_headers=()):
    h = [f"From: {from_addr}", f"To: {to_addr}", f"Subject: {subject}",
         "Date: Sun, 22 Nov 2026 12:00:00 +0000", f"Message-ID: <{time.time_ns()}@inkan.test>"]
    h.extend(extra_headers)
    return "\r\n".join(h) + "\r\n\r\n" + body


def strip_sink_prefix(raw):
    """smtp-sink writes X-Client-*/X-Helo-Args... lines of its own first; drop them."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    lines = raw.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines) and re.match(r"^X-(Client|Helo|Mail|Rcpt)-[A-Za-z-]+:", lines[i]):
        i += 1
    return "\r\n".join(lines[i:]).encode()


def header_values(raw, name):
    return [l.split(":", 1)[1].strip() for l in unfold_headers(raw) if l.lower().startswith(name.lower() + ":")]


def raw_headers(raw, name):
    """Header fields with their folding kept (to print them as the next hop receives them)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    head = raw.replace("\r\n", "\n").split("\n\n", 1)[0]
    out, cur = [], None
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur += "\n" + line
            continue
        if cur is not None:
            out.append(cur)
        cur = line
    if cur is not None:
        out.append(cur)
    return [f for f in out if f.lower().startswith(name.lower() + ":")]
