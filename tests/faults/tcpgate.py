#!/usr/bin/python3
"""tcpgate: the network between cftoken and the API emulator, for fault tests.

  tcpgate.py --target 127.0.0.1:PORT --certs DIR --mode-file FILE --ready-file FILE
             [--applied-file FILE]

Listens on a free loopback port (written to --ready-file once listening) and
does what --mode-file says, read at every connection.  --applied-file gets
the mode once the gate acts on it (the listening socket closed for
"refused", open again for the others), so a test waits for that instead of
sleeping and hoping the gate has looked:

  forward        pass bytes both ways to --target (the emulator); a reset on
                 one side is a reset on the other
  refused        close the listening socket: connections are refused
  tls-untrusted  answer the TLS handshake with a certificate of a CA nobody
                 trusts (gen-certs.sh's untrusted.pem)
  tls-expired    ... with a certificate that expired yesterday (expired.pem)
  tls-wronghost  ... with a certificate for wrong.example (wronghost.pem)

The emulator's own faults (5xx, 429, blackhole, ...) pass through "forward".
The same URL serves every mode, so caches keyed by the API URL stay the same.
"""

import argparse
import os
import select
import socket
import ssl
import struct
import sys
import threading
import time

TLS_CERTS = {"tls-untrusted": "untrusted", "tls-expired": "expired",
             "tls-wronghost": "wronghost"}


def read_mode(path):
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip() or "forward"
    except OSError:
        return "forward"


def announce(path, mode, applied):
    """Writes mode to path (atomically) when it is not what was last written."""
    if path and mode != applied:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(mode + "\n")
        os.replace(tmp, path)
    return mode


def hard_close(sock):
    """Close with an RST, as the peer we stand for did."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def pipe(client, target):
    try:
        upstream = socket.create_connection(target, timeout=5)
    except OSError:
        hard_close(client)
        return
    upstream.settimeout(None)
    socks = [client, upstream]
    reset = False
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], 120)
            if not ready:
                break
            done = False
            for s in ready:
                other = upstream if s is client else client
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    reset = done = True
                    break
                if not data:
                    done = True
                    break
                other.sendall(data)
            if done:
                break
    except OSError:
        reset = True
    for s in socks:
        if reset:
            hard_close(s)
        else:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def bad_tls(client, certs, name):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(certs, name + ".pem"),
                            os.path.join(certs, name + ".key"))
    client.settimeout(10)
    try:
        with context.wrap_socket(client, server_side=True) as tls:
            tls.recv(1)  # a client that accepted the certificate is a failure to see
    except (OSError, ssl.SSLError):
        pass
    finally:
        client.close()


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, help="HOST:PORT of the emulator")
    p.add_argument("--certs", required=True, help="gen-certs.sh's directory")
    p.add_argument("--mode-file", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--applied-file")
    p.add_argument("--max-lifetime", type=float, default=1800)
    args = p.parse_args(argv)
    host, port = args.target.rsplit(":", 1)
    target = (host, int(port))

    server = listen(0)
    port = server.getsockname()[1]
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.replace(tmp, args.ready_file)

    end = time.monotonic() + args.max_lifetime
    applied = None
    while time.monotonic() < end:
        mode = read_mode(args.mode_file)
        if mode == "refused":
            if server is not None:
                server.close()
                server = None
            applied = announce(args.applied_file, mode, applied)
            time.sleep(0.05)
            continue
        if server is None:
            for _ in range(100):
                try:
                    server = listen(port)
                    break
                except OSError:
                    time.sleep(0.05)
            if server is None:
                sys.stderr.write("tcpgate: cannot listen on %d again\n" % port)
                return 1
        applied = announce(args.applied_file, mode, applied)
        ready, _, _ = select.select([server], [], [], 0.05)
        if not ready:
            continue
        try:
            client, _ = server.accept()
        except OSError:
            continue
        mode = read_mode(args.mode_file)
        if mode in TLS_CERTS:
            worker = threading.Thread(target=bad_tls, args=(client, args.certs, TLS_CERTS[mode]))
        else:
            worker = threading.Thread(target=pipe, args=(client, target))
        worker.daemon = True
        worker.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
