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

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/l1_record.h"
#include "core/secret.h"

typedef struct forwarder forwarder;

typedef struct fwd_options {
	const char *api_url;         /* https://HOST/client/v4: where requests go */
	const char *ca_file;         /* extra CA bundle, or NULL */
	const char *proxy;           /* [defaults] proxy, or NULL */
	long connect_ms;             /* to reach the API (the command's --timeout) */
	long idle_ms;                /* no byte either way ends a call (--proxy-timeout);
				      * 0: 2 minutes */
	/* For the line that explains a refused request (config/refusal.h):
	 * the profile's name and its permission names, which must outlive
	 * the forwarder. */
	const char *profile;
	const char *const *permissions;
	size_t n_permissions;
	/* learn: called once for each request passed on to the API, on its
	 * connection's thread (so perhaps on several at once), with its
	 * method, its path after /client/v4 (query included: ids, never a
	 * credential) and the API's status, 0 when no answer came (the API
	 * unreachable or too slow, the client gone).  NULL: nothing recorded. */
	void (*record)(void *ctx, const char *method, const char *path, int status);
	void *record_ctx;
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

/* Where the forwarder gets its next token: exec's own obtain.  Called on
 * a forwarder thread, one call at a time. */
typedef struct fwd_source {
	/* The first request after the token's renew_at asks for a fresh one
	 * (other requests go on with the current one meanwhile): 0 and *out,
	 * or an error, and the current token serves on until it expires
	 * (asking again 30 seconds later).  *handle: NULL, or what retire
	 * gets back once no request uses the token. */
	cft_code (*renew)(void *ctx, cft_l1_record *out, void **handle, cft_error *err);
	/* A token with a handle is no longer used: replaced and its last
	 * request ended, or the forwarder stopped. */
	void (*retire)(void *ctx, void *handle, const char *id);
	void *ctx;
} fwd_source;

/* Starts serving, sending r's token (copied) to the API; src (or NULL:
 * no renewal) renews it when due.  handle: r's, as fwd_source says. */
cft_code fwd_serve(forwarder *f, const cft_l1_record *r, void *handle, const fwd_source *src,
		   cft_error *err);

/* Stops serving (requests under way are cancelled), retires the token
 * (src->retire), closes the port and wipes the secrets.  NULL-safe. */
void fwd_free(forwarder *f);
