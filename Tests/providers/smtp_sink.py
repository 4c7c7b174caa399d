#!/usr/bin/env python3
"""An independent SMTP server for testing baton's SMTP client: aiosmtpd's
Controller on 127.0.0.1, recording every message it accepts.

    smtp_sink.py OUT.jsonl [--port N] [--host 127.0.0.1] [--starttls]
                 [--require-auth] [--rcpt-reply ADDR=CODE ...] [--data-reply CODE]

Prints `listening PORT` on stdout (flushed) once it accepts connections; port 0
(the default) picks a free port. Each accepted message is appended to OUT.jsonl
as one JSON line, written and flushed before the server answers 250 to the DATA,
so a client that has its 250 will find its line:

    {"mail_from": "...", "rcpt_tos": ["..."], "data": "<the message, text>",
     "auth": true|false, "auth_mechanism": "PLAIN"|"LOGIN"|null, "auth_login": "..."|null,
     "starttls": true|false, "helo": "...", "esmtp": true|false, "peer": "127.0.0.1:PORT",
     "received_at": "2026-...Z"}

Options:
  --starttls          offer STARTTLS with a throw-away self-signed certificate
                      (made with `openssl req`); the line records whether it was used.
  --require-auth      refuse MAIL before AUTH (530), as a submission server does.
                      AUTH PLAIN/LOGIN is always offered, without TLS, and any
                      non-empty user/password is accepted; password "bad" is
                      refused with 535 (to test the client's auth-failure path).
  --rcpt-reply A=CODE answer RCPT TO:<A> with CODE (e.g. 550, 451, 452); repeatable.
  --data-reply CODE   answer every DATA with CODE instead of 250 (e.g. 554, 451);
                      nothing is recorded then.

Runs until SIGTERM or SIGINT, then stops the server and exits 0.
"""

import argparse
import datetime
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd 1.4 logs a warning about its own deprecated Session.login_data on every AUTH.
logging.getLogger("mail.log").addFilter(lambda rec: "login_data is deprecated" not in rec.getMessage())

REPLIES = {
    421: "Service not available, closing transmission channel",
    450: "Requested mail action not taken: mailbox unavailable",
    451: "Requested action aborted: local error in processing",
    452: "Requested action not taken: insufficient system storage",
    550: "Requested action not taken: mailbox unavailable",
    552: "Requested mail action aborted: exceeded storage allocation",
    553: "Requested action not taken: mailbox name not allowed",
    554: "Transaction failed",
}


def reply(code):
    return f"{code} {REPLIES.get(code, 'Injected reply')}"


class Recorder:
    def __init__(self, path, rcpt_replies, data_reply):
        self.path = path
        self.rcpt_replies = rcpt_replies
        self.data_reply = data_reply
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.rcpt_replies.get(address.lower())
        if code is not None:
            return reply(code)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply is not None:
            return reply(self.data_reply)
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        peer = session.peer
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": content.decode("utf-8", "replace"),
            "auth": bool(session.authenticated),
            "auth_mechanism": getattr(session, "sink_auth_mechanism", None),
            "auth_login": getattr(session, "sink_auth_login", None),
            "starttls": session.ssl is not None,
            "helo": session.host_name,
            "esmtp": bool(session.extended_smtp),
            "peer": f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
            "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    if not auth_data.login or not auth_data.password or auth_data.password == b"bad":
        return AuthResult(success=False, handled=False)
    session.sink_auth_mechanism = mechanism
    session.sink_auth_login = auth_data.login.decode("utf-8", "replace")
    return AuthResult(success=True)


class SinkController(Controller):
    """Controller that also works with port 0: once the server is bound, it
    learns the real port before its start-up self-connection."""

    def _trigger_server(self):
        if self.port == 0 and self.server is not None and self.server.sockets:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def self_signed(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="file to append one JSON line per received message")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--require-auth", action="store_true")
    ap.add_argument("--rcpt-reply", action="append", default=[], metavar="ADDR=CODE")
    ap.add_argument("--data-reply", type=int, default=None, metavar="CODE")
    args = ap.parse_args(argv)

    rcpt = {}
    for item in args.rcpt_reply:
        addr, _, code = item.rpartition("=")
        rcpt[addr.strip("<>").lower()] = int(code)

    open(args.out, "a").close()  # exists from the start (empty until a message)
    tmp = tempfile.mkdtemp(prefix="smtp-sink.")
    try:
        kw = {}
        if args.starttls:
            kw["tls_context"] = self_signed(tmp)
            kw["require_starttls"] = False
        controller = SinkController(
            Recorder(args.out, rcpt, args.data_reply),
            hostname=args.host, port=args.port,
            authenticator=authenticator, auth_require_tls=False,
            auth_required=args.require_auth, auth_exclude_mechanism=[],
            server_hostname="smtp-sink.localhost", ident="baton smtp-sink (aiosmtpd)",
            **kw)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        controller.start()
        print(f"listening {controller.port}", flush=True)
        while not stop.wait(3600):
            pass
        controller.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
