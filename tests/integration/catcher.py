#!/usr/bin/python3
"""catcher: a server on loopback that an attacker would run, recording what reaches it.

  catcher.py --mode https|proxy --certs DIR --log FILE --ready-file FILE
             [--cert server|untrusted] [--tunnel] [--mitm] [--max-lifetime S]

https   a TLS server with gen-certs.sh's certificate --cert (server: signed by
        the test CA; untrusted: by the second CA).  Every request is logged
        and answered 401 in Cloudflare's envelope.
proxy   a plain-HTTP proxy.  A CONNECT is logged, then refused (403); with
        --tunnel, passed through to its target (a proxy that only watches);
        with --mitm, answered 200 and the TLS inside terminated with --cert,
        its requests logged as https logs them (an intercepting proxy).

The log has one JSON object per line: {"method", "target"} for a CONNECT,
{"method", "path", "authorization_sha256"} for a request, where the hash is of
the bearer token (the value itself never lands in a file).  The listening
port goes to --ready-file once the server listens.
"""

import argparse
import hashlib
import json
import os
import select
import socket
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


def log(path, entry):
    with LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def read_head(sock):
    """The request line and headers, as text (None on EOF or garbage)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def bearer_sha256(head):
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "authorization":
            token = value.strip()
            if token.lower().startswith("bearer "):
                token = token[7:].strip()
            return hashlib.sha256(token.encode()).hexdigest()
    return None


def answer_requests(sock, args):
    """Log each request on an HTTP/1.1 connection and refuse it."""
    body = json.dumps({"success": False, "result": None, "messages": [],
                       "errors": [{"code": 1000, "message": "Invalid API Token"}]}).encode()
    head = read_head(sock)
    if head is None:
        return
    method, path = (head.split(" ") + ["", ""])[:2]
    log(args.log, {"method": method, "path": path, "authorization_sha256": bearer_sha256(head)})
    sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def tls_context(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(args.certs, args.cert + ".pem"),
                            os.path.join(args.certs, args.cert + ".key"))
    return context


def serve_tls(sock, args):
    try:
        with tls_context(args).wrap_socket(sock, server_side=True) as tls:
            answer_requests(tls, args)
    except (OSError, ssl.SSLError):
        pass


def pipe(client, target):
    host, _, port = target.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as upstream:
        socks = [client, upstream]
        while True:
            ready, _, _ = select.select(socks, [], [], 60)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (upstream if s is client else client).sendall(data)


def serve_proxy(sock, args):
    head = read_head(sock)
    if head is None:
        return
    method, target = (head.split(" ") + ["", ""])[:2]
    if method != "CONNECT":
        log(args.log, {"method": method, "path": target,
                       "authorization_sha256": bearer_sha256(head)})
        sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return
    log(args.log, {"method": "CONNECT", "target": target})
    if not (args.tunnel or args.mitm):
        sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return
    sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if args.mitm:
        serve_tls(sock, args)
    else:
        pipe(sock, target)


def handle(sock, args):
    sock.settimeout(30)
    try:
        if args.mode == "https":
            serve_tls(sock, args)
        else:
            serve_proxy(sock, args)
    except OSError:
        pass
    finally:
        sock.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("https", "proxy"), required=True)
    p.add_argument("--certs", required=True)
    p.add_argument("--cert", default="server")
    p.add_argument("--log", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--tunnel", action="store_true")
    p.add_argument("--mitm", action="store_true")
    p.add_argument("--max-lifetime", type=float, default=900)
    args = p.parse_args(argv)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    open(args.log, "a", encoding="utf-8").close()
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % server.getsockname()[1])
    os.replace(tmp, args.ready_file)

    end = time.monotonic() + args.max_lifetime
    while time.monotonic() < end:
        ready, _, _ = select.select([server], [], [], 1)
        if ready:
            client, _ = server.accept()
            threading.Thread(target=handle, args=(client, args), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
