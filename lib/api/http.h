/* The HTTPS transport under the API client (internal to libcftoken).
 * One call = one deadline: connection failures, 5xx and 429 are retried
 * with backoff (429 after Retry-After) until the deadline, then the last
 * answer or failure is returned.  TLS verification is never switched off. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/secret.h"

typedef struct cft_http cft_http;

typedef struct cft_http_options {
	const char *base_url;      /* https://host/client/v4, no trailing slash needed */
	const char *ca_file;       /* extra CA bundle, or NULL */
	/* The proxy the configuration names, or NULL: none.  The proxy
	 * variables of the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY ...)
	 * are never used: a variable must not steer a token to a host. */
	const char *proxy;
	long timeout_ms;           /* one deadline per call */
	size_t max_response;       /* answers larger than this are refused */
} cft_http_options;

typedef struct cft_http_response {
	long status;
	char *body;                /* NUL-terminated; wiped when freed */
	size_t len;
	size_t cap;
	char content_type[96];
	long retry_after_s;        /* -1 when absent or unparseable */
	unsigned attempts;
} cft_http_response;

cft_code cft_http_new(const cft_http_options *opts, cft_http **out, cft_error *err);
cft_http *cft_http_free(cft_http *h);
/* The base URL calls go to, without a trailing '/'. */
const char *cft_http_base_url(const cft_http *h);

/* From now on no call, retries included, runs past deadline_ms
 * (cft_now_ms()); 0: each call has its own timeout only. */
void cft_http_set_deadline(cft_http *h, int64_t deadline_ms);

/* method: GET, POST, PUT, DELETE.  path: appended to base_url ("/accounts/..").
 * body: JSON text or NULL.  bearer: the token; never logged.
 * Returns CFT_OK when an HTTP answer arrived (any status: the caller reads
 * it), else a transport error (network, TLS, timeout, too large). */
cft_code cft_http_call(cft_http *h, const char *method, const char *path,
		       const char *body, const cft_secret *bearer,
		       cft_http_response *rs, cft_error *err);

void cft_http_response_clear(cft_http_response *rs);

/* "Authorization: Bearer TOKEN", a header line in a secret of its own
 * (for a curl_slist node that points into it), or NULL when out of memory. */
cft_secret *cft_http_auth_line(const cft_secret *bearer);
