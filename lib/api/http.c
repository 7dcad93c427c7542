#include "api/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "api/curl_transport.h"
#include "core/safe_file.h"
#include "core/timeutil.h"

#define SYSTEM_CA_PATH "/etc/ssl/certs"

/* A CA bundle is a few hundred KiB. */
#define CA_FILE_MAX (16 * 1024 * 1024)

/* A CA file libcurl would wait on (a FIFO) or read without end
 * (/dev/zero) is refused before libcurl opens it, unread. */
static cft_code check_ca_file(const char *path, cft_error *err)
{
	char what[340];
	int fd;
	snprintf(what, sizeof(what), "CA file %.300s", path);
	cft_code rc = cft_file_open(AT_FDCWD, path, what, CA_FILE_MAX, 0, &fd, err);
	if (rc == CFT_E_NOT_FOUND)
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: %s", what, strerror(ENOENT));
	if (!rc)
		close(fd);
	return rc;
}

struct cft_http {
	CURL *curl;
	char *base_url;
	char *ca_file;
	char *proxy;                 /* NULL: none */
	long timeout_ms;
	int64_t deadline_ms;         /* 0: none beyond timeout_ms */
	size_t max_response;
	unsigned jitter_seed;
	char errbuf[CURL_ERROR_SIZE];
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

cft_code cft_http_new(const cft_http_options *opts, cft_http **out, cft_error *err)
{
	if (!opts || !opts->base_url || !out)
		return cft_fail(err, CFT_E_INVALID_ARG, "no API URL");
	/* Only HTTPS: a token must never cross the network in the clear. */
	if (!starts_with(opts->base_url, "https://") || strlen(opts->base_url) < 9)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"the API URL must start with https:// (got \"%.200s\")",
				opts->base_url);
	if (strpbrk(opts->base_url, " \t\r\n?#"))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"the API URL may not contain spaces, '?' or '#'");

	cft_http *h = calloc(1, sizeof(*h));
	if (!h)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	h->base_url = strdup(opts->base_url);
	h->ca_file = opts->ca_file && *opts->ca_file ? strdup(opts->ca_file) : NULL;
	h->proxy = opts->proxy && *opts->proxy ? strdup(opts->proxy) : NULL;
	h->curl = curl_easy_init();
	if (!h->base_url || !h->curl || (opts->ca_file && *opts->ca_file && !h->ca_file) ||
	    (opts->proxy && *opts->proxy && !h->proxy)) {
		cft_http_free(h);
		return cft_fail(err, CFT_E_NOMEM, NULL);
	}
	size_t n = strlen(h->base_url);
	while (n > 0 && h->base_url[n - 1] == '/')
		h->base_url[--n] = '\0';
	h->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	h->max_response = opts->max_response > 0 ? opts->max_response : 4 * 1024 * 1024;
	h->jitter_seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (h->ca_file && check_ca_file(h->ca_file, err) != CFT_OK) {
		cft_http_free(h);
		return CFT_E_INVALID_ARG;
	}
	*out = h;
	return CFT_OK;
}

const char *cft_http_base_url(const cft_http *h)
{
	return h->base_url;
}

cft_http *cft_http_free(cft_http *h)
{
	if (!h)
		return NULL;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->base_url);
	free(h->ca_file);
	free(h->proxy);
	free(h);
	return NULL;
}

void cft_http_response_clear(cft_http_response *rs)
{
	if (!rs)
		return;
	/* Create and roll answers carry token values: wipe every body. */
	if (rs->body) {
		cft_wipe(rs->body, rs->cap);
		free(rs->body);
	}
	memset(rs, 0, sizeof(*rs));
	rs->retry_after_s = -1;
}

typedef struct sink {
	cft_http_response *rs;
	size_t max;
	bool too_large;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	sink *s = userp;
	cft_http_response *rs = s->rs;
	size_t n = size * nmemb;

	if (n > s->max || rs->len + n > s->max) {
		s->too_large = true;
		return 0;  /* makes curl stop with CURLE_WRITE_ERROR */
	}
	if (rs->len + n + 1 > rs->cap) {
		size_t cap = rs->cap ? rs->cap : 4096;
		while (cap < rs->len + n + 1)
			cap *= 2;
		/* Grow by hand rather than realloc so the old copy is wiped. */
		char *nb = malloc(cap);
		if (!nb)
			return 0;
		if (rs->body) {
			memcpy(nb, rs->body, rs->len);
			cft_wipe(rs->body, rs->cap);
			free(rs->body);
		}
		rs->body = nb;
		rs->cap = cap;
	}
	memcpy(rs->body + rs->len, data, n);
	rs->len += n;
	rs->body[rs->len] = '\0';
	return n;
}

/* The result of one attempt, before the retry policy looks at it. */
typedef enum attempt_kind {
	ATTEMPT_ANSWER,           /* an HTTP answer arrived */
	ATTEMPT_NOT_SENT,         /* failed before the request left: always safe to retry */
	ATTEMPT_LOST,             /* failed after sending: safe only for idempotent calls */
	ATTEMPT_FATAL,            /* do not retry (TLS, too large, bad URL) */
} attempt_kind;

cft_code cft_curl_failure(CURLcode rc, const char *errbuf, cft_error *err)
{
	const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);

	cft_error_clear(err);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return cft_fail(err, CFT_E_TIMEOUT, "%s", why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CRL_BADFILE:
		return cft_fail(err, CFT_E_TLS, "%s", why);
	case CURLE_SSL_CONNECT_ERROR:
		/* A handshake that failed because the peer hung up is a network
		 * problem; one that failed on a certificate is a TLS verdict. */
		if (strstr(why, "reset") || strstr(why, "EOF") || strstr(why, "SYSCALL"))
			return cft_fail(err, CFT_E_NETWORK, "%s", why);
		return cft_fail(err, CFT_E_TLS, "%s", why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return cft_fail(err, CFT_E_INVALID_ARG, "API URL: %s", why);
	case CURLE_OUT_OF_MEMORY:
		return cft_fail(err, CFT_E_NOMEM, NULL);
	default:
		return cft_fail(err, CFT_E_NETWORK, "%s", why);
	}
}

static attempt_kind classify_curl(CURLcode rc, bool too_large, const char *errbuf,
				  cft_error *err)
{
	if (too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		cft_error_clear(err);
		cft_fail(err, CFT_E_TOO_LARGE, "answer exceeds the size cap");
		return ATTEMPT_FATAL;
	}
	switch (cft_curl_failure(rc, errbuf, err)) {
	case CFT_E_TIMEOUT:
		return ATTEMPT_LOST;
	case CFT_E_NETWORK:
		/* No connection was made (a handshake the peer hung up on
		 * included): the request never left. */
		return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
				       rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR
			       ? ATTEMPT_NOT_SENT
			       : ATTEMPT_LOST;
	default:
		return ATTEMPT_FATAL;  /* TLS, a bad URL, out of memory */
	}
}

/* Headers that curl reads from a list it does not own: the Authorization
 * node points into locked secret memory instead of a strdup'ed copy, so the
 * token is not left in an ordinary heap block after the call. */
typedef struct header_list {
	struct curl_slist nodes[3];
} header_list;

static void header_list_init(header_list *hl, cft_secret *auth_line, bool has_body)
{
	size_t i = 0;
	static char accept[] = "Accept: application/json";
	static char ctype[] = "Content-Type: application/json";

	hl->nodes[i++].data = accept;
	if (has_body)
		hl->nodes[i++].data = ctype;
	if (auth_line)
		hl->nodes[i++].data = cft_secret_buffer(auth_line);
	for (size_t k = 0; k < i; k++)
		hl->nodes[k].next = k + 1 < i ? &hl->nodes[k + 1] : NULL;
}

cft_secret *cft_http_auth_line(const cft_secret *bearer)
{
	static const char prefix[] = "Authorization: Bearer ";
	size_t plen = sizeof(prefix) - 1, tlen = cft_secret_len(bearer);
	cft_secret *line = cft_secret_alloc(plen + tlen);
	if (!line)
		return NULL;
	char *b = cft_secret_buffer(line);
	memcpy(b, prefix, plen);
	memcpy(b + plen, cft_secret_str(bearer), tlen);
	cft_secret_set_len(line, plen + tlen);
	return line;
}

void cft_http_set_deadline(cft_http *h, int64_t deadline_ms)
{
	if (h)
		h->deadline_ms = deadline_ms;
}

static bool is_idempotent(const char *method)
{
	return strcmp(method, "POST") != 0;
}

/* One request on the wire.  Fills rs on an answer. */
static attempt_kind attempt_once(cft_http *h, const char *method, const char *url,
				 const char *body, header_list *hl, long budget_ms,
				 cft_http_response *rs, cft_error *err)
{
	CURL *c = h->curl;
	sink s = { .rs = rs, .max = h->max_response };

	cft_http_response_clear(rs);
	curl_easy_reset(c);   /* keeps the connection cache, drops the options */
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	cft_curl_transport(c, h->ca_file, h->proxy);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cftoken/" CFTOKEN_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, budget_ms);
	/* One connection for every call of the handle (the reset above keeps
	 * it). */
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, &hl->nodes[0]);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	/* An answer whose Content-Length passes the cap is refused before a
	 * byte of it is read (not after megabytes, which a slow machine may
	 * not read within the deadline); on_body catches one that does not
	 * say its length. */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_response);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	}

	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		return classify_curl(rc, s.too_large, h->errbuf, err);

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	char *ct = NULL;
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(rs->content_type, sizeof(rs->content_type), "%s", ct);
	struct curl_header *hdr = NULL;
	if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK)
		rs->retry_after_s = cft_parse_retry_after(hdr->value, time(NULL));
	if (!rs->body) {
		rs->body = calloc(1, 1);
		rs->cap = rs->body ? 1 : 0;
	}
	return ATTEMPT_ANSWER;
}

static bool status_is_retryable(long status, bool idempotent)
{
	/* A 429 was not acted on.  A 5xx on create may have created the
	 * token: the caller sweeps before it creates again (lib/mint/orphans.c). */
	if (status == 429)
		return true;
	return status >= 500 && status <= 599 && idempotent;
}

cft_code cft_http_call(cft_http *h, const char *method, const char *path,
		       const char *body, const cft_secret *bearer,
		       cft_http_response *rs, cft_error *err)
{
	_cleanup_secret_ cft_secret *auth = NULL;
	header_list hl;
	cft_error last = { 0 }, telling = { 0 };
	bool idempotent = is_idempotent(method);

	if (!h || !method || !path || !rs)
		return cft_fail(err, CFT_E_INVALID_ARG, "bad HTTP call");
	if (bearer) {
		auth = cft_http_auth_line(bearer);
		if (!auth)
			return cft_fail(err, CFT_E_NOMEM, NULL);
	}
	header_list_init(&hl, auth, body != NULL);

	size_t url_len = strlen(h->base_url) + strlen(path) + 1;
	char *url = malloc(url_len);
	if (!url)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	snprintf(url, url_len, "%s%s", h->base_url, path);

	int64_t start = cft_now_ms(), deadline = start + h->timeout_ms;
	if (h->deadline_ms > 0 && h->deadline_ms < deadline)
		deadline = h->deadline_ms;
	cft_code result = CFT_OK;
	unsigned attempt = 0;

	for (;;) {
		int64_t remaining = deadline - cft_now_ms();
		if (remaining <= 0) {
			/* An answer in hand (a last 503, say) explains more than
			 * "timeout" does. */
			if (rs->status == 0)
				result = last.code != CFT_OK ? last.code : CFT_E_TIMEOUT;
			break;
		}
		attempt++;
		attempt_kind kind = attempt_once(h, method, url, body, &hl, (long)remaining,
						 rs, &last);
		rs->attempts = attempt;
		/* A last attempt cut short by the deadline says less than the
		 * failure that caused the retries: keep that one. */
		if (kind != ATTEMPT_ANSWER && last.code != CFT_E_TIMEOUT)
			telling = last;
		int64_t wait;
		if (kind == ATTEMPT_ANSWER) {
			if (!status_is_retryable(rs->status, idempotent))
				break;  /* the caller reads this answer */
			wait = (rs->status == 429 && rs->retry_after_s >= 0)
				       ? rs->retry_after_s * 1000
				       : cft_backoff_ms(attempt, &h->jitter_seed);
		} else if (kind == ATTEMPT_NOT_SENT ||
			   (kind == ATTEMPT_LOST && idempotent && last.code != CFT_E_TIMEOUT)) {
			wait = cft_backoff_ms(attempt, &h->jitter_seed);
		} else {
			result = last.code;
			break;
		}
		/* Waiting past the deadline only to fail is worse than failing
		 * now with the answer in hand. */
		if (cft_now_ms() + wait >= deadline) {
			if (kind != ATTEMPT_ANSWER)
				result = last.code;
			break;
		}
		cft_sleep_ms(wait);
	}
	free(url);

	if (result != CFT_OK) {
		cft_http_response_clear(rs);
		if (last.code == CFT_E_TIMEOUT && telling.code != CFT_OK)
			last = telling;
		if (err) {
			if (last.code == CFT_OK)
				cft_fail(&last, result, NULL);
			*err = last;
			size_t dl = strlen(err->detail);
			snprintf(err->detail + dl, sizeof(err->detail) - dl,
				 "%s%s %s: %u attempt%s in %.1f s", dl ? "; " : "", method,
				 path, attempt, attempt == 1 ? "" : "s",
				 (double)(cft_now_ms() - start) / 1000.0);
		}
		return err ? err->code : result;
	}
	return CFT_OK;
}

void cft_curl_transport(CURL *c, const char *ca_file, const char *proxy)
{
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* HTTP/2 where the server offers it, else HTTP/1.1 kept alive, and
	 * the TLS session cached for a connection made again. */
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 1L);
	/* "" is no proxy, whatever the environment says; a configured one is
	 * used for every host (NO_PROXY does not bypass it either). */
	curl_easy_setopt(c, CURLOPT_PROXY, proxy ? proxy : "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	if (ca_file) {
		/* An extra CA: the file, plus the system's directory so that
		 * ordinary certificates still verify. */
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, SYSTEM_CA_PATH);
	}
}
