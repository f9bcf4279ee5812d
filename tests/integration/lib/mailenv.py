"""mailenv — a private mail world on loopback for inkan's integration tests and demo.

Starts, in a fresh temporary directory and on free high ports of 127.0.0.1 only:
  * unbound, authoritative for the test records (local-zone "." static: nothing recurses,
    nothing leaves loopback),
  * smtp-sink, which writes every message it receives to a file,
  * a private Postfix (its own config directory, queue and log; no chroot) whose smtpd uses
    the given milters / policy services and relays everything to the sink,
  * any daemons under test (inkan-dkim, inkan-spf, ...), as child processes,
  * optionally a SASL authentication server speaking Dovecot's auth protocol (start_sasl_auth),
    so that Postfix's own Dovecot SASL client performs real SMTP AUTH for test users.
Everything started is stopped by close() (also on exceptions, via `with MailEnv() as env`).

Postfix's master must run as root (it drops to the `postfix` user), as on any real host.
"""
import base64
import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import socketserver
import subprocess
import tempfile
import threading
import time

MASTER = "/usr/lib/postfix/sbin/master"
UNBOUND = "/usr/sbin/unbound"
SMTP_SINK = "/usr/sbin/smtp-sink"

MASTER_CF = """# private inkan test instance -- no chroot, loopback only
{smtpd_listen} inet n - n - - smtpd
{submission_listen} inet n - n - - smtpd
  -o syslog_name=postfix/submission
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def free_port(host="127.0.0.1"):
    """A TCP and UDP port that is free right now on host (both, so DNS can use it too)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
                return port
    raise RuntimeError("no free port")


def wait_tcp(host, port, timeout=30, proc=None, what="service"):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {proc.returncode}")
        try:
            socket.create_connection((host, port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {host}:{port} after {timeout}s")


def wait_unix(path, timeout=30, proc=None, what="service"):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {proc.returncode}")
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {path} after {timeout}s")


def unfold_headers(data):
    """Header fields of a message (bytes or str) as a list of unfolded 'Name: value' lines."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    data = data.replace("\r\n", "\n")
    head = data.split("\n\n", 1)[0]
    return re.sub(r"\n[ \t]+", " ", head).split("\n")


class _DovecotAuthHandler(socketserver.StreamRequestHandler):
    """One Postfix smtpd (xsasl_dovecot_server.c) talking Dovecot's authentication protocol 1.x:
    handshake (VERSION/MECH/SPID/CUID/COOKIE/DONE), then AUTH/CONT requests answered with
    OK (user=...), CONT or FAIL. Only the PLAIN mechanism (RFC 4616) is offered."""

    def send(self, line):
        self.wfile.write(line.encode() + b"\n")
        self.wfile.flush()

    def check_plain(self, rid, b64):
        try:
            authzid, authcid, password = base64.b64decode(b64, validate=True).decode().split("\0")
        except (ValueError, UnicodeDecodeError):
            self.server.attempts.append(("?", False))
            self.send(f"FAIL\t{rid}\treason=Invalid PLAIN response")
            return
        ok = self.server.users.get(authcid) == password and authzid in ("", authcid)
        self.server.attempts.append((authcid, ok))
        self.send(f"OK\t{rid}\tuser={authcid}" if ok else f"FAIL\t{rid}\tuser={authcid}")

    def handle(self):
        self.send("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t%d\nCUID\t%d\nCOOKIE\t%032x\nDONE"
                  % (os.getpid(), threading.get_ident() & 0xffff, time.time_ns()))
        waiting = set()  # request ids that got an empty CONT (PLAIN without an initial response)
        for raw in self.rfile:
            f = raw.rstrip(b"\r\n").decode("utf-8", "replace").split("\t")
            if f[0] == "AUTH" and len(f) >= 3:
                rid, mech = f[1], f[2].upper()
                params = dict(a.split("=", 1) if "=" in a else (a, "") for a in f[3:])
                if mech != "PLAIN":
                    self.send(f"FAIL\t{rid}\treason=Unsupported authentication mechanism")
                elif "resp" in params:
                    self.check_plain(rid, params["resp"])
                else:
                    waiting.add(rid)
                    self.send(f"CONT\t{rid}\t")
            elif f[0] == "CONT" and len(f) >= 3 and f[1] in waiting:
                waiting.discard(f[1])
                self.check_plain(f[1], f[2])


class _DovecotAuthServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class MailEnv:
    def __init__(self, keep=False, prefix="inkan-mailenv-"):
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        self.keep = keep
        self.procs = []  # (name, Popen)
        self.token = f"INKAN_MAILENV={os.getpid()}-{time.time_ns()}"
        self.env = dict(os.environ, INKAN_MAILENV=self.token.split("=", 1)[1])
        self.dns_port = None
        self.sink_port = None
        self.smtpd_port = None
        self.submission_port = None
        self.ports = {}     # extra smtpd listeners: name -> port (start_postfix(listeners=...))
        self.servers = []   # in-process socket servers (start_sasl_auth), shut down by close()
        self.pf_etc = os.path.join(self.dir, "postfix-etc")
        self.pf_log = os.path.join(self.dir, "postfix.log")
        self.dump = os.path.join(self.dir, "sink")

    # -------------------------------------------------------------- processes
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self, name, argv, env=None, **kw):
        out = open(self.path(name + ".out"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             env=env or self.env, **kw)
        out.close()
        self.procs.append((name, p))
        return p

    def output(self, name):
        try:
            with open(self.path(name + ".out"), "rb") as fh:
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = [(n, q) for n, q in self.procs if q is not p]

    def _token_pids(self):
        me, out = os.getpid(), []
        needle = self.token.encode()
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != me:
                with contextlib.suppress(OSError):
                    with open(f"/proc/{d}/environ", "rb") as fh:
                        if needle in fh.read():
                            out.append(int(d))
        return out

    def close(self):
        for srv in self.servers:
            with contextlib.suppress(Exception):
                srv.shutdown()
                srv.server_close()
        self.servers = []
        for _name, p in reversed(list(self.procs)):
            self.stop(p)
        # Postfix children outlive master briefly; anything still carrying our token goes.
        for _ in range(50):
            left = self._token_pids()
            if not left:
                break
            time.sleep(0.1)
        for pid in self._token_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -------------------------------------------------------------- DNS
    def start_dns(self, records, local_zones=()):
        """records: list of (owner, type, rdata) as in a zone file, e.g.
        ("sel._domainkey.example.com", "TXT", '"v=DKIM1; k=rsa; " "p=MIIB..."').
        Names not listed answer NXDOMAIN (local-zone "." static).
        local_zones: optional (zone, type) pairs, e.g. ("broken.test", "refuse") to make every
        query under a name fail with REFUSED (a DNS error: SPF temperror)."""
        self.dns_port = free_port()
        lines = [
            "server:\n",
            f"    interface: 127.0.0.1@{self.dns_port}\n",
            "    port: %d\n" % self.dns_port,
            '    username: ""\n', '    chroot: ""\n', f'    directory: "{self.dir}"\n',
            f'    pidfile: "{self.path("unbound.pid")}"\n',
            "    use-syslog: no\n", '    logfile: ""\n', "    verbosity: 0\n",
            "    num-threads: 1\n", '    module-config: "iterator"\n',
            "    do-not-query-localhost: no\n", "    do-ip6: no\n",
            '    local-zone: "." static\n',
        ]
        for zone, ztype in local_zones:
            lines.append(f'    local-zone: "{zone}" {ztype}\n')
        for owner, typ, rdata in records:
            rr = f"{owner} 300 IN {typ} {rdata}".replace("'", "\\'")
            lines.append(f"    local-data: '{rr}'\n")
        conf = self.path("unbound.conf")
        with open(conf, "w") as fh:
            fh.write("".join(lines))
        subprocess.run([UNBOUND + "-checkconf", conf], check=True, stdout=subprocess.DEVNULL)
        p = self.start("unbound", [UNBOUND, "-d", "-c", conf])
        wait_tcp("127.0.0.1", self.dns_port, proc=p, what="unbound")
        return self.dns_port

    @property
    def nameserver(self):
        return f"127.0.0.1:{self.dns_port}"

    # -------------------------------------------------------------- sink
    def start_sink(self):
        self.sink_port = free_port()
        os.makedirs(self.dump, exist_ok=True)
        pw = pwd.getpwnam("postfix")
        os.chown(self.dump, pw.pw_uid, pw.pw_gid)
        p = self.start("smtp-sink", [SMTP_SINK, "-u", "postfix", "-d", self.dump + "/%M.",
                                     f"127.0.0.1:{self.sink_port}", "64"])
        wait_tcp("127.0.0.1", self.sink_port, proc=p, what="smtp-sink")

    def delivered(self):
        """Messages the sink received so far, oldest first, as bytes (smtp-sink's own
        X-Client-*/Received lines before the message are kept as they are)."""
        files = sorted(glob.glob(os.path.join(self.dump, "*")), key=os.path.getmtime)
        out = []
        for f in files:
            with open(f, "rb") as fh:
                out.append(fh.read())
        return out

    def wait_delivered(self, n, timeout=30):
        t0 = time.time()
        while time.time() - t0 < timeout:
            msgs = self.delivered()
            if len(msgs) >= n:
                time.sleep(0.1)  # let the sink finish writing
                return self.delivered()
            time.sleep(0.1)
        raise RuntimeError(f"{len(self.delivered())} of {n} messages reached the sink in {timeout}s;"
                           f" postfix log:\n{self.postfix_log()[-3000:]}")

    # -------------------------------------------------------------- SASL
    def start_sasl_auth(self, users):
        """A SASL authentication server speaking Dovecot's auth protocol on a UNIX socket, for
        Postfix's `smtpd_sasl_type = dovecot` (no Dovecot or Cyrus packages needed; the SMTP AUTH
        exchange, {auth_type} and {auth_authen} are Postfix's own). users: {name: password}.
        Returns the socket path for smtpd_sasl_path. Attempts are recorded in
        self.sasl_attempts as (user, ok)."""
        path = self.path("sasl-auth")
        srv = _DovecotAuthServer(path, _DovecotAuthHandler)
        os.chmod(path, 0o666)  # smtpd connects as the postfix user
        srv.users = dict(users)
        srv.attempts = self.sasl_attempts = []
        threading.Thread(target=srv.serve_forever, name="sasl-auth", daemon=True).start()
        self.servers.append(srv)
        return path

    # -------------------------------------------------------------- postfix
    def start_postfix(self, milters=(), policy=None, spawn=None, spawn_user="nobody", extra_main="",
                      listeners=()):
        """milters: list of milter socket specs in Postfix syntax (inet:127.0.0.1:PORT, unix:/path).
        policy: a check_policy_service target; spawn: argv of a policy server spawned from master.cf
        (like policyd-spf). Two listeners: smtpd_port (inbound, 127.0.0.1) and submission_port
        (same host; a milter tells them apart only by its own InternalHosts/ports).
        listeners: extra smtpd listeners as (name, {parameter: value}) pairs, each on a free
        127.0.0.1 port (self.ports[name]) with syslog_name postfix/<name> and the given `-o`
        overrides, e.g. ("orig", {"milter_macro_daemon_name": "ORIGINATING"}) for {daemon_name}.
        extra_main: lines appended to main.cf."""
        if self.sink_port is None:
            self.start_sink()
        self.smtpd_port = free_port()
        self.submission_port = free_port()
        spool, data = self.path("postfix-spool"), self.path("postfix-data")
        for d in (self.pf_etc, spool, data):
            os.makedirs(d, 0o755, exist_ok=True)
        pw = pwd.getpwnam("postfix")
        os.chown(data, pw.pw_uid, pw.pw_gid)
        restrictions = ["permit_mynetworks", "reject_unauth_destination"]
        mcf = MASTER_CF.format(smtpd_listen=f"127.0.0.1:{self.smtpd_port}",
                               submission_listen=f"127.0.0.1:{self.submission_port}")
        for name, opts in listeners:
            port = self.ports[name] = free_port()
            mcf += f"127.0.0.1:{port} inet n - n - - smtpd\n  -o syslog_name=postfix/{name}\n"
            for k, v in dict(opts).items():
                v = str(v)
                mcf += f"  -o {{ {k} = {v} }}\n" if re.search(r"\s", v) else f"  -o {k}={v}\n"
        rcpt = []
        extra = ""
        if spawn:
            mcf += f"inkanpolicy unix - n n - 0 spawn user={spawn_user} argv={spawn}\n"
            rcpt.append("check_policy_service unix:private/inkanpolicy")
            extra += "inkanpolicy_time_limit = 3600s\n"
        if policy:
            rcpt.append("check_policy_service " + policy)
        main = f"""# private inkan test instance -- generated by tests/integration/lib/mailenv.py
compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.inkan.test
mydomain = inkan.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:local delivery is disabled
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{self.sink_port}
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_helo_required = no
biff = no
maillog_file = {self.pf_log}
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C INKAN_MAILENV={self.env['INKAN_MAILENV']}
export_environment = TZ MAIL_CONFIG LANG INKAN_MAILENV
smtpd_relay_restrictions = {", ".join(restrictions)}
smtpd_recipient_restrictions = {", ".join(rcpt)}
smtpd_milters = {", ".join(milters)}
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
{extra}{extra_main}
"""
        with open(os.path.join(self.pf_etc, "main.cf"), "w") as fh:
            fh.write(main)
        with open(os.path.join(self.pf_etc, "master.cf"), "w") as fh:
            fh.write(mcf)
        env = dict(self.env, MAIL_CONFIG=self.pf_etc)
        subprocess.run(["/usr/sbin/postfix", "-c", self.pf_etc, "check"], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p = self.start("postfix-master", [MASTER, "-c", self.pf_etc, "-d"], env=env)
        wait_tcp("127.0.0.1", self.smtpd_port, proc=p, what="postfix")
        return p

    def postfix_log(self):
        try:
            with open(self.pf_log, "rb") as fh:
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def postfix_run(self, argv):
        """Runs a Postfix command-line tool (postqueue, postcat, postsuper ...) against this
        instance (-c and MAIL_CONFIG); returns its stdout as text, raising on failure."""
        argv = [argv[0], "-c", self.pf_etc] + list(argv[1:])
        r = subprocess.run(argv, env=dict(self.env, MAIL_CONFIG=self.pf_etc), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{argv}: status {r.returncode}: {r.stderr.decode('utf-8', 'replace')}")
        return r.stdout.decode("utf-8", "replace")

    def queue(self):
        """The messages in this instance's queues (`postqueue -j`), one dict each: queue_name
        ("hold", "deferred", "active", "incoming", "maildrop"), queue_id, sender, recipients ..."""
        out = self.postfix_run(["/usr/sbin/postqueue", "-j"])
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def postcat(self, queue_id, parts="-h"):
        """A queued message as `postcat -q` prints it (parts: -h headers, -b body, -e envelope)."""
        return self.postfix_run(["/usr/sbin/postcat", parts, "-q", queue_id])

    def send(self, message, mail_from, rcpts, port=None, helo="client.example.net", source=None,
             login=None, xclient=None):
        """Send one message over SMTP. Returns (code, text) of the final reply; an SMTP
        rejection at any stage is returned, not raised.
        login: (user, password) for SMTP AUTH (needs smtpd_sasl_auth_enable, see start_sasl_auth).
        xclient: {attribute: value} sent as XCLIENT (needs smtpd_authorized_xclient_hosts)
        before EHLO is repeated."""
        if isinstance(message, str):
            message = message.encode()
        port = port or self.smtpd_port
        s = smtplib.SMTP(timeout=60, source_address=(source, 0) if source else None)
        try:
            s.connect("127.0.0.1", port)
            s.ehlo(helo)
            if xclient:
                code, text = s.docmd("XCLIENT", " ".join(f"{k}={v}" for k, v in xclient.items()))
                if code >= 400:
                    return code, text.decode()
                s.ehlo(helo)
            if login:
                s.login(*login)
            code, text = s.mail(mail_from)
            if code >= 400:
                return code, text.decode()
            for r in ([rcpts] if isinstance(rcpts, str) else rcpts):
                code, text = s.rcpt(r)
                if code >= 400:
                    return code, text.decode()
            code, text = s.data(message)
            return code, text.decode()
        except smtplib.SMTPResponseException as e:
            return e.smtp_code, e.smtp_error.decode() if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        finally:
            with contextlib.suppress(Exception):
                s.quit()
