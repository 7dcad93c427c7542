/* exec --proxy's forwarder: plain HTTP on 127.0.0.1, for the program
 * cftoken runs, which sends a per-run stand-in as its Bearer token; each
 * request with that stand-in goes on to the API with the real token.  The
 * program never holds a token the API would take.
 *
 * libmicrohttpd serves the loopback side (a thread per client connection,
 * and its listening thread); libcurl is the client to the API
 * (forward_relay.c), with the transport settings of every API call.
 * Only cftoken-backend links it. */
#pragma once

#include <stdint.h>

#include "core/error.h"
#include "core/secret.h"

typedef struct forwarder forwarder;

typedef struct fwd_options {
	const char *api_url;         /* https://HOST/client/v4: where requests go */
	const char *ca_file;         /* extra CA bundle, or NULL */
	const char *proxy;           /* [defaults] proxy, or NULL */
	long connect_ms;             /* to reach the API (the command's --timeout) */
} fwd_options;

/* The stand-in's length: a Cloudflare token's (cft_token_is_cloudflare_shaped). */
#define FWD_STAND_IN_LEN 40

/* Listens on 127.0.0.1, on a port the kernel picks, and makes the
 * stand-in (getrandom).  Serves nothing until fwd_serve: a program can be
 * started between the two without a thread running (fork). */
cft_code fwd_listen(const fwd_options *o, forwarder **out, cft_error *err);
uint16_t fwd_port(const forwarder *f);
/* "http://127.0.0.1:PORT/client/v4" */
const char *fwd_base_url(const forwarder *f);
const cft_secret *fwd_stand_in(const forwarder *f);

/* Starts serving, sending token (copied) to the API. */
cft_code fwd_serve(forwarder *f, const cft_secret *token, cft_error *err);

/* Stops serving (requests under way are cancelled), closes the port and
 * wipes both secrets.  NULL-safe. */
void fwd_free(forwarder *f);
