#!/usr/bin/python3
"""emuctl: talk to the emulator's control API from shell tests.

  emuctl.py --url https://127.0.0.1:PORT --ca ca.pem METHOD /__emu/PATH [JSON_BODY]

Prints the JSON answer on one line. Exit status 1 on an HTTP error (the
answer is still printed), 2 on bad usage or when the emulator is unreachable.
--url and --ca default to $CFEMU_URL and $CFEMU_CA. A PATH without a leading
slash is taken relative to /__emu/ ("log" means /__emu/log).

Examples:
  emuctl.py ... GET /__emu/log
  emuctl.py ... POST /__emu/faults '{"path": "/tokens$", "method": "POST", "kind": "status", "status": 429, "headers": {"Retry-After": "1"}}'
  emuctl.py ... PATCH /__emu/tokens/<id> '{"expires_in": -60}'
"""

import argparse
import json
import os
import ssl
import sys
import urllib.error
import urllib.request


def main(argv=None):
    p = argparse.ArgumentParser(description="cfemu control client")
    p.add_argument("--url", default=os.environ.get("CFEMU_URL"),
                   help="emulator base URL, e.g. https://127.0.0.1:PORT ($CFEMU_URL)")
    p.add_argument("--ca", default=os.environ.get("CFEMU_CA"),
                   help="CA certificate to trust ($CFEMU_CA)")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("body", nargs="?")
    args = p.parse_args(argv)
    if not args.url or not args.ca:
        p.error("--url and --ca are required (or set CFEMU_URL and CFEMU_CA)")

    path = args.path if args.path.startswith("/") else "/__emu/" + args.path
    data = None
    if args.body is not None:
        try:
            json.loads(args.body)
        except ValueError as e:
            p.error("JSON_BODY is not JSON: %s" % e)
        data = args.body.encode()

    context = ssl.create_default_context(cafile=args.ca)
    request = urllib.request.Request(args.url.rstrip("/") + path, data=data,
                                     method=args.method.upper(),
                                     headers={"Content-Type": "application/json"})
    status = 0
    try:
        with urllib.request.urlopen(request, context=context, timeout=args.timeout) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as e:
        status = 1
        text = e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        sys.stderr.write("emuctl: %s\n" % e)
        return 2
    try:
        text = json.dumps(json.loads(text))
    except ValueError:
        pass
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head
        sys.stdout = None
    return status


if __name__ == "__main__":
    sys.exit(main())
