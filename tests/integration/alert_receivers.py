#!/usr/bin/env python3
"""Loopback receivers for tests/integration/alerts_test.sh: an HTTP webhook receiver that checks pgmig's
HMAC signature, and an SMTP sink (with optional AUTH PLAIN/LOGIN) that records every message.

  alert_receivers.py http --mode ok|fail:N|hang|status:CODE --record FILE --port-file FILE
      (the HMAC key comes from the environment variable RECEIVER_SECRET; unset: signatures are not required)
  alert_receivers.py smtp --record FILE --port-file FILE [--user NAME] [--tls-cert CERT --tls-key KEY]
      (with --user, AUTH is required and the password comes from RECEIVER_SMTP_PASSWORD; with --tls-cert,
      STARTTLS is offered and every STARTTLS command is recorded)

Each request or message is one JSON line in FILE. Secrets are never written to FILE.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def record(path, entry):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def run_http(args):
    secret = os.environ.get("RECEIVER_SECRET", "").encode()
    lock = threading.Lock()
    state = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):  # quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                state["count"] += 1
                n = state["count"]
            timestamp = self.headers.get("X-Pgmig-Timestamp", "")
            signature = self.headers.get("X-Pgmig-Signature", "")
            expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            sig_ok = bool(secret) and hmac.compare_digest(signature, expected)
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            record(args.record, {"n": n, "path_len": len(self.path), "content_type": self.headers.get("Content-Type"),
                                 "user_agent": self.headers.get("User-Agent"), "signature_ok": sig_ok,
                                 "signed": bool(signature), "timestamp_fresh": fresh, "body": parsed})
            mode = args.mode
            if mode == "hang":
                time.sleep(60)
                return
            status = 200
            if mode.startswith("fail:") and n <= int(mode.split(":")[1]):
                status = 500
            elif mode.startswith("status:"):
                status = int(mode.split(":")[1])
            elif secret and not sig_ok:
                status = 401  # a real receiver refuses a bad signature
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            out = b"ok" if status == 200 else b"refused"
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


def run_smtp(args):
    password = os.environ.get("RECEIVER_SMTP_PASSWORD", "")

    async def handle(reader, writer):
        def send(line):
            writer.write((line + "\r\n").encode())

        session = {"auth_user": None, "auth_ok": False, "mail_from": None, "rcpt": [], "tls": False}

        def check(user, pw):
            ok = args.user is not None and user == args.user and pw == password
            session["auth_user"] = user
            session["auth_ok"] = ok
            return ok

        send("220 localhost pgmig-test-sink ESMTP")
        await writer.drain()
        while True:
            raw = await reader.readline()
            if not raw:
                break
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                if verb == "EHLO":
                    lines = ["250-localhost"]
                    if args.tls_cert and not session["tls"]:
                        lines.append("250-STARTTLS")
                    if args.user:
                        lines.append("250-AUTH PLAIN LOGIN")
                    lines.append("250 8BITMIME")
                    for ln in lines:
                        send(ln)
                else:
                    send("250 localhost")
            elif verb == "STARTTLS" and args.tls_cert:
                record(args.record, {"starttls": True})
                send("220 ready to start TLS")
                await writer.drain()
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(args.tls_cert, args.tls_key)
                try:
                    await writer.start_tls(context)
                except (ssl.SSLError, ConnectionError, OSError) as e:
                    record(args.record, {"tls_failed": str(e)[:200]})
                    break
                session["tls"] = True
                continue
            elif verb == "AUTH":
                parts = line.split(" ")
                mech = parts[1].upper() if len(parts) > 1 else ""
                if mech == "PLAIN":
                    if len(parts) > 2:
                        blob = parts[2]
                    else:
                        send("334 ")
                        await writer.drain()
                        blob = (await reader.readline()).decode().strip()
                    try:
                        _, user, pw = base64.b64decode(blob).decode().split("\0")
                    except Exception:
                        user, pw = "", ""
                elif mech == "LOGIN":
                    if len(parts) > 2:
                        user = base64.b64decode(parts[2]).decode()
                    else:
                        send("334 " + base64.b64encode(b"Username:").decode())
                        await writer.drain()
                        user = base64.b64decode((await reader.readline()).strip()).decode()
                    send("334 " + base64.b64encode(b"Password:").decode())
                    await writer.drain()
                    pw = base64.b64decode((await reader.readline()).strip()).decode()
                else:
                    send("504 unsupported mechanism")
                    await writer.drain()
                    continue
                send("235 authenticated" if check(user, pw) else "535 authentication failed")
            elif verb == "MAIL":
                if args.user and not session["auth_ok"]:
                    send("530 authentication required")
                else:
                    session["mail_from"] = line[10:]
                    session["rcpt"] = []
                    send("250 ok")
            elif verb == "RCPT":
                session["rcpt"].append(line[8:])
                send("250 ok")
            elif verb == "DATA":
                send("354 go ahead")
                await writer.drain()
                data = []
                while True:
                    d = (await reader.readline()).decode(errors="replace")
                    if d in (".\r\n", ".\n", ""):
                        break
                    data.append(d[1:] if d.startswith("..") else d)
                record(args.record, {"mail_from": session["mail_from"], "rcpt": session["rcpt"], "tls": session["tls"],
                                     "auth_user": session["auth_user"], "auth_ok": session["auth_ok"],
                                     "data": "".join(data)})
                send("250 queued")
            elif verb == "QUIT":
                send("221 bye")
                await writer.drain()
                break
            elif verb in ("RSET", "NOOP"):
                send("250 ok")
            else:
                send("502 not implemented")
            await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.port_file + ".tmp", args.port_file)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["http", "smtp"])
    p.add_argument("--mode", default="ok")
    p.add_argument("--record", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--user")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    if args.kind == "http":
        run_http(args)
    else:
        run_smtp(args)


if __name__ == "__main__":
    sys.exit(main())
