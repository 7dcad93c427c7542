/* One request of exec --proxy's forwarder (forwarder.c), on its way to
 * the API: a libcurl transfer that the forwarder's connection thread
 * drives itself, a step at a time, so that the request body and the
 * answer stream through without being held whole.  The body is fed in
 * the pieces libmicrohttpd hands over (each consumed before the next is
 * read from the client); the answer is read in pieces as the client
 * takes them.  Nothing here blocks past the request's deadlines. */
#pragma once

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/secret.h"

/* The connection to the API one client connection uses, kept between
 * its requests (a kept-alive client keeps its upstream connection). */
typedef struct fwd_upstream fwd_upstream;

fwd_upstream *fwd_upstream_new(void);
void fwd_upstream_free(fwd_upstream *u);

/* The largest piece of request body the forwarder hands on at once, and
 * libcurl's upload buffer: each piece is one turn of the connection's
 * thread from reading the program to writing the API, and on two cores
 * 1 MiB pieces carried a 20 MB upload at a median 0.87x of a direct one
 * where 256 KiB pieces gave 0.79-0.95x (bench/forwarder.sh, README). */
#define FWD_UPLOAD_PIECE (1024 * 1024)

typedef struct fwd_limits {
	const char *ca_file;         /* extra CA bundle, or NULL */
	const char *proxy;           /* the configured proxy, or NULL */
	long connect_ms;             /* to reach the API and finish TLS */
	long idle_ms;                /* no byte moved either way */
	long request_ms;             /* the whole request */
	const atomic_bool *stopping;  /* set: every wait ends at once */
} fwd_limits;

typedef struct fwd_relay fwd_relay;

/* Why a request did not end in a complete answer. */
typedef enum fwd_failure {
	FWD_OK,
	FWD_UNREACHABLE,             /* no answer: connect, TLS, reset */
	FWD_TIMEOUT,                 /* a deadline passed */
	FWD_CLIENT_GONE,             /* the client hung up: the call was cancelled */
	FWD_NOMEM,
} fwd_failure;

/* Starts the transfer: method, the full upstream URL, the client's
 * headers (curl "Name: value" lines, taken over; those the forwarder
 * must not pass on already left out), body_len (-1: none, -2: of
 * unknown length), and the token to send.  client_fd: the client's
 * socket, watched while we wait for the API, so that a client that
 * hangs up cancels the call. */
fwd_relay *fwd_relay_start(fwd_upstream *u, const fwd_limits *lim, const char *method,
			   const char *url, struct curl_slist *headers, int64_t body_len,
			   const cft_secret *token, int client_fd);

/* Passes n bytes of the request body on; returns once the API took them
 * (or the call failed: they are dropped, the failure is kept). */
void fwd_relay_feed(fwd_relay *r, const char *data, size_t n);

/* The body is complete: waits for the answer's status and headers.
 * FWD_OK, or why none came. */
fwd_failure fwd_relay_answer(fwd_relay *r);
long fwd_relay_status(const fwd_relay *r);
/* The answer's length, or -1 when it did not say. */
int64_t fwd_relay_length(const fwd_relay *r);
/* The answer's i-th header to pass on, split at its colon; false after
 * the last.  Hop-by-hop headers and the length are left out. */
bool fwd_relay_header(const fwd_relay *r, size_t i, const char **name, const char **value);
/* A text for the client and the log when an answer failed (no token in it):
 * cftoken's phrase for it (could not reach the Cloudflare API, ... could
 * not be verified, ... did not answer in time), then the particulars. */
const char *fwd_relay_error(const fwd_relay *r);
/* FWD_OK, or why the request ended without its whole answer. */
fwd_failure fwd_relay_failure(const fwd_relay *r);

/* Up to max bytes of the answer's body into buf: how many, 0 at its end,
 * -1 when it broke off (then the client must not take it as whole). */
ssize_t fwd_relay_read(fwd_relay *r, char *buf, size_t max);

/* Cancels the call if it is still running, and frees r. */
void fwd_relay_free(fwd_relay *r);

/* Whether a header of the client's request or of the API's answer is one
 * the forwarder drops: hop-by-hop (RFC 9110 7.6.1), the length (each
 * side frames its own body), Authorization and Host (request), Expect
 * (libmicrohttpd answered it already). */
bool fwd_header_dropped(const char *name);
