#!/usr/bin/python3
"""bench/forwarder.sh's measurements, run by `cftoken exec --proxy` (so the
forwarder is CLOUDFLARE_API_BASE_URL, the stand-in CLOUDFLARE_API_TOKEN);
the real token comes on standard input, for the direct requests.

  forwarder.py latency ROUNDS UPSTREAM_URL CA   GET .../tokens/verify, each
      round one request through the forwarder and one straight to the API,
      each side on its own kept-alive connection; the added latency is the
      median of the per-round differences
  forwarder.py upload MB UPSTREAM_URL CA        a body of MB megabytes PUT to
      /__echo/upload (tests/integration/echo_upstream.py), 5 times each way, alternated
  forwarder.py rss                               run by a plain exec under
      cache = none: the backend's peak RSS without the forwarder
Prints one line of JSON; the backend's peak RSS (VmHWM) is read at the end."""
import http.client
import json
import os
import ssl
import statistics
import sys
import time
import urllib.parse


def conn_to(url, ca):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port,
                                           context=ssl.create_default_context(cafile=ca)), u.path
    return http.client.HTTPConnection(u.hostname, u.port), u.path


def timed(conn, method, path, token, body=None):
    t = time.perf_counter()
    conn.request(method, path, body=body, headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit("%s %s: %d" % (method, path, r.status))
    return (time.perf_counter() - t) * 1000


def peak_rss_kib():
    with open("/proc/%d/status" % os.getppid()) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def main():
    if sys.argv[1] == "rss":
        print(json.dumps({"backend_peak_rss_kib": peak_rss_kib()}))
        return
    what, n, upstream, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    real = sys.stdin.read().strip()
    stand_in = os.environ["CLOUDFLARE_API_TOKEN"]
    account = os.environ["CLOUDFLARE_ACCOUNT_ID"]
    fwd, fwd_base = conn_to(os.environ["CLOUDFLARE_API_BASE_URL"], ca)
    direct, direct_base = conn_to(upstream, ca)
    out = {}
    if what == "latency":
        path = "/accounts/%s/tokens/verify" % account
        for _ in range(20):  # warm both connections and both servers
            timed(fwd, "GET", fwd_base + path, stand_in)
            timed(direct, "GET", direct_base + path, real)
        through, straight = [], []
        for _ in range(n):
            through.append(timed(fwd, "GET", fwd_base + path, stand_in))
            straight.append(timed(direct, "GET", direct_base + path, real))
        added = sorted(a - b for a, b in zip(through, straight))
        out = {"rounds": n, "through_ms": statistics.median(through),
               "direct_ms": statistics.median(straight),
               "added_median_ms": statistics.median(added),
               "added_p90_ms": added[int(len(added) * 0.9)]}
    else:
        body = os.urandom(n * 1000 * 1000)
        through, straight = [], []
        for _ in range(5):
            through.append(timed(fwd, "PUT", fwd_base + "/__echo/upload", stand_in, body))
            straight.append(timed(direct, "PUT", direct_base + "/__echo/upload", real, body))
        out = {"mb": n, "through_mb_s": n / (min(through) / 1000),
               "direct_mb_s": n / (min(straight) / 1000)}
        out["ratio"] = out["through_mb_s"] / out["direct_mb_s"]
    out["backend_peak_rss_kib"] = peak_rss_kib()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
