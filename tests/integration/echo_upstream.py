#!/usr/bin/python3
"""An HTTPS stand-in for the API in front of the emulator, for
test_forwarder.sh: what the emulator cannot show about a forwarded request.

  /client/v4/__echo/upload   (any method) answers with the body's length and
                             SHA-256 and the request's header names: the
                             emulator takes at most 1 MiB, this any size; a
                             body cut short is noted in EVENTS "upload: cut short";
                             with ?announce, "receiving upload" once its
                             headers are in, before the body
  /client/v4/__echo/bytes?n=N  answers N bytes (i % 251), chunked, slowly
                             enough that they cannot all be held at once
  /client/v4/__echo/slow     answers a byte every 0.1 s for 30 s; notes in
                             EVENTS "slow: cancelled" when the reader went away
  /client/v4/__echo/hold?until=PATH&account=ID  answers a byte every 0.2 s
                             until PATH exists (60 s at most), then the
                             emulator's verdict on the request's token, verified
                             only then, as a last line of JSON
  anything else              is passed on to the emulator (--upstream) as it is

Usage: echo_upstream.py --cert PEM --key KEY --ca CA --upstream URL
       --ready-file FILE --events FILE"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
       "transfer-encoding", "upgrade", "content-length"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle holds
    # the body until the client's delayed ACK, 40 ms later (as the emulator says).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def echo_upload(self):
        if "announce" in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                               keep_blank_values=True):
            note(self.server, "receiving upload")
        try:
            data = self.body()
        except (OSError, ValueError):
            data = None
        expected = int(self.headers.get("Content-Length") or -1)
        if data is None or len(data) < expected:
            note(self.server, "upload: cut short")
            self.close_connection = True
            return
        auth = self.headers.get("Authorization", "")
        answer = json.dumps({
            "success": True, "errors": [], "messages": [],
            "result": {"method": self.command, "length": len(data),
                       "sha256": hashlib.sha256(data).hexdigest(),
                       "query": urllib.parse.urlsplit(self.path).query,
                       "bearer_sha256": hashlib.sha256(auth[7:].encode()).hexdigest(),
                       "headers": sorted(k.lower() for k in self.headers.keys()),
                       "x_cftest": self.headers.get("X-Cftest")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def echo_bytes(self, n):
        self.body()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pattern = bytes(i % 251 for i in range(251 * 64))
        sent = 0
        while sent < n:
            piece = pattern[sent % 251:][:min(n - sent, 16000)]
            self.send_chunk(piece)
            sent += len(piece)
        self.send_chunk(b"")

    def echo_slow(self):
        self.body()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(300):
                self.send_chunk(b".")
                time.sleep(0.1)
            self.send_chunk(b"")
            note(self.server, "slow: finished")
        except OSError:
            note(self.server, "slow: cancelled")
            self.close_connection = True

    def echo_hold(self, until, account):
        self.body()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = time.time() + 60
        while not os.path.exists(until) and time.time() < end:
            self.send_chunk(b".")
            time.sleep(0.2)
        up = urllib.parse.urlsplit(self.server.upstream)
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=self.server.ctx,
                                           timeout=30)
        conn.request("GET", "/client/v4/accounts/%s/tokens/verify" % account,
                     headers={"Authorization": self.headers.get("Authorization", "")})
        r = conn.getresponse()
        verdict = {"status": r.status, "answer": json.loads(r.read() or b"null")}
        conn.close()
        self.send_chunk(b"\n" + json.dumps(verdict).encode() + b"\n")
        self.send_chunk(b"")

    def pass_on(self):
        data = self.body()
        up = urllib.parse.urlsplit(self.server.upstream)
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=self.server.ctx,
                                           timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP | {"host"}}
        conn.request(self.command, self.path, body=data if data else None, headers=headers)
        r = conn.getresponse()
        answer = r.read()
        conn.close()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() not in ("date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def handle_any(self):
        path = urllib.parse.urlsplit(self.path)
        if path.path == "/client/v4/__echo/upload":
            self.echo_upload()
        elif path.path == "/client/v4/__echo/bytes":
            self.echo_bytes(int(urllib.parse.parse_qs(path.query)["n"][0]))
        elif path.path == "/client/v4/__echo/slow":
            self.echo_slow()
        elif path.path == "/client/v4/__echo/hold":
            q = urllib.parse.parse_qs(path.query)
            self.echo_hold(q["until"][0], q["account"][0])
        else:
            self.pass_on()

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = handle_any


def note(server, line):
    with server.lock, open(server.events, "a") as f:
        f.write(line + "\n")


def main():
    p = argparse.ArgumentParser()
    for name in ("cert", "key", "ca", "upstream", "ready-file", "events"):
        p.add_argument("--" + name, required=True)
    a = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(a.cert, a.key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.ctx = ssl.create_default_context(cafile=a.ca)
    server.upstream = a.upstream
    server.events = a.events
    server.lock = threading.Lock()
    with open(a.ready_file + ".new", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(a.ready_file + ".new", a.ready_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
