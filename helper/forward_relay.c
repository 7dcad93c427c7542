/* One forwarded request: a libcurl transfer in a multi handle of its
 * client connection's own, driven by that connection's thread.  curl is
 * paused, never blocked: its read callback pauses when the piece of body
 * in hand is sent, its write callback when the answer's buffer is full,
 * and each wait polls the API's sockets (and the client's, to see it hang
 * up) with the request's deadlines. */
#include "forward_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api/curl_transport.h"
#include "api/http.h"
#include "core/timeutil.h"

/* The answer's bytes held between the API and the client: enough for
 * curl's largest piece (CURL_MAX_WRITE_SIZE) several times over. */
#define ANSWER_BUFFER (64 * 1024)
#define MAX_HEADERS 96
/* A wait wakes this often to look at the forwarder's stop flag. */
#define POLL_SLICE_MS 200

struct fwd_upstream {
	CURLM *multi;
	CURL *easy;
};

typedef struct header {
	char *name;                  /* "name\0value": one allocation */
	const char *value;
} header;

struct fwd_relay {
	fwd_upstream *u;
	const fwd_limits *lim;
	struct curl_slist *headers;  /* the client's, and "Expect:" */
	struct curl_slist auth_node; /* points into auth_line's locked page */
	cft_secret *auth_line;
	int client_fd;
	bool watch_client;
	bool in_multi;

	const char *up;              /* the piece of body not yet sent */
	size_t up_left;
	bool up_eof;
	bool send_paused;

	char *answer;
	size_t answer_len;
	bool recv_paused;

	long status;
	bool headers_done;
	header hdrs[MAX_HEADERS];
	size_t n_hdrs;
	int64_t length;

	bool done;
	fwd_failure failure;
	int64_t started_ms, last_ms;
	char errbuf[CURL_ERROR_SIZE];
	char error[CURL_ERROR_SIZE + 128];
};

fwd_upstream *fwd_upstream_new(void)
{
	fwd_upstream *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->multi = curl_multi_init();
	u->easy = curl_easy_init();
	if (!u->multi || !u->easy) {
		fwd_upstream_free(u);
		return NULL;
	}
	return u;
}

void fwd_upstream_free(fwd_upstream *u)
{
	if (!u)
		return;
	if (u->easy)
		curl_easy_cleanup(u->easy);
	if (u->multi)
		curl_multi_cleanup(u->multi);
	free(u);
}

bool fwd_header_dropped(const char *name)
{
	static const char *const dropped[] = {
		"Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
		"Content-Length", "Authorization", "Host", "Expect",
	};
	if (!strncasecmp(name, "Proxy-", 6))
		return true;
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (!strcasecmp(name, dropped[i]))
			return true;
	return false;
}

static void clear_headers(fwd_relay *r)
{
	for (size_t i = 0; i < r->n_hdrs; i++)
		free(r->hdrs[i].name);
	r->n_hdrs = 0;
	r->length = -1;
}

static void set_pause(fwd_relay *r)
{
	curl_easy_pause(r->u->easy, (r->recv_paused ? CURLPAUSE_RECV : 0) |
					    (r->send_paused ? CURLPAUSE_SEND : 0));
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userp)
{
	fwd_relay *r = userp;
	size_t n = size * nmemb;
	if (r->up_left == 0) {
		if (r->up_eof)
			return 0;
		r->send_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (n > r->up_left)
		n = r->up_left;
	memcpy(buf, r->up, n);
	r->up += n;
	r->up_left -= n;
	r->last_ms = cft_now_ms();
	return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	fwd_relay *r = userp;
	size_t n = size * nmemb;
	if (n > ANSWER_BUFFER - r->answer_len) {
		/* Held by curl until the client has taken what we hold. */
		r->recv_paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	memcpy(r->answer + r->answer_len, data, n);
	r->answer_len += n;
	r->last_ms = cft_now_ms();
	return n;
}

static void keep_header(fwd_relay *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	if (!colon || colon == line || r->n_hdrs >= MAX_HEADERS)
		return;
	size_t name_len = (size_t)(colon - line);
	const char *v = colon + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	char *s = malloc(n + 2);
	if (!s)
		return;
	memcpy(s, line, name_len);
	s[name_len] = '\0';
	memcpy(s + name_len + 1, v, (size_t)(end - v));
	s[name_len + 1 + (size_t)(end - v)] = '\0';
	if (!strcasecmp(s, "Content-Length")) {
		char *stop;
		errno = 0;
		long long len = strtoll(s + name_len + 1, &stop, 10);
		if (!errno && *stop == '\0' && len >= 0)
			r->length = len;
	}
	if (fwd_header_dropped(s)) {
		free(s);
		return;
	}
	r->hdrs[r->n_hdrs].name = s;
	r->hdrs[r->n_hdrs].value = s + name_len + 1;
	r->n_hdrs++;
}

/* Each header line of each answer (a 100 Continue's too, and the proxy's
 * to CONNECT: suppressed); the body follows the final one's blank line. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
	fwd_relay *r = userp;
	size_t n = size * nmemb;
	r->last_ms = cft_now_ms();
	if (r->headers_done)
		return n;  /* trailers: not passed on */
	if (n >= 5 && !memcmp(line, "HTTP/", 5)) {
		clear_headers(r);
		const char *sp = memchr(line, ' ', n);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if (n <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		r->headers_done = r->status >= 200;
	} else {
		keep_header(r, line, n);
	}
	return n;
}

static void finish(fwd_relay *r, fwd_failure failure, const char *why)
{
	if (r->in_multi)
		curl_multi_remove_handle(r->u->multi, r->u->easy);
	r->in_multi = false;
	r->done = true;
	if (r->failure == FWD_OK) {
		r->failure = failure;
		if (why)
			snprintf(r->error, sizeof(r->error), "%s", why);
	}
}

/* r->error in the words every call of cftoken's uses (core/error.h's
 * phrase for code), with the particulars after it. */
static void explain(fwd_relay *r, cft_code code, const char *detail)
{
	snprintf(r->error, sizeof(r->error), "%.100s (%.*s)", cft_strerror(code),
		 CURL_ERROR_SIZE, detail);
}

static void collect(fwd_relay *r)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(r->u->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == r->u->easy) {
			CURLcode rc = m->data.result;
			cft_error why;
			cft_error_clear(&why);
			cft_code code = rc == CURLE_OK ? CFT_OK : cft_curl_failure(rc, r->errbuf, &why);
			bool first = r->failure == FWD_OK;
			finish(r, rc == CURLE_OK ? FWD_OK
				  : code == CFT_E_TIMEOUT ? FWD_TIMEOUT : FWD_UNREACHABLE,
			       NULL);
			if (rc == CURLE_OK && !r->headers_done) {
				r->failure = FWD_UNREACHABLE;
				explain(r, CFT_E_NETWORK, "the API's answer had no headers");
			} else if (code && first) {
				explain(r, code, why.detail);
			}
			return;
		}
}

/* Whether the client hung up (its socket reads as closed). */
static bool client_gone(fwd_relay *r)
{
	char b;
	ssize_t n = recv(r->client_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		/* Its next request, already sent: nothing to watch any more. */
		r->watch_client = false;
		return false;
	}
	return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

typedef enum until { UNTIL_SENT, UNTIL_HEADERS, UNTIL_DATA } until;

static bool reached(const fwd_relay *r, until u)
{
	switch (u) {
	case UNTIL_SENT: return r->up_left == 0;
	case UNTIL_HEADERS: return r->headers_done;
	case UNTIL_DATA: return r->answer_len > 0;
	}
	return true;
}

/* Runs the transfer until u holds, or it ended, or a deadline passed. */
static void drive(fwd_relay *r, until u)
{
	while (!r->done) {
		int running;
		curl_multi_perform(r->u->multi, &running);
		collect(r);
		if (r->done || reached(r, u))
			return;
		int64_t now = cft_now_ms();
		if (atomic_load(r->lim->stopping)) {
			finish(r, FWD_CLIENT_GONE, "cftoken is ending");
			return;
		}
		char why[96];
		if (now - r->last_ms >= r->lim->idle_ms) {
			snprintf(why, sizeof(why), "no byte for %ld s: --proxy-timeout",
				 r->lim->idle_ms / 1000);
			finish(r, FWD_TIMEOUT, NULL);
			explain(r, CFT_E_TIMEOUT, why);
			return;
		}
		if (now - r->started_ms >= r->lim->request_ms) {
			snprintf(why, sizeof(why), "the call took over %ld minutes",
				 r->lim->request_ms / 60000);
			finish(r, FWD_TIMEOUT, NULL);
			explain(r, CFT_E_TIMEOUT, why);
			return;
		}
		/* While the body comes in, libmicrohttpd reads the client:
		 * only afterwards is a readable socket a hang-up. */
		struct curl_waitfd client = { .fd = r->client_fd, .events = CURL_WAIT_POLLIN };
		bool watch = r->watch_client && r->client_fd >= 0 && u != UNTIL_SENT;
		int numfds;
		curl_multi_poll(r->u->multi, watch ? &client : NULL, watch ? 1 : 0, POLL_SLICE_MS,
				&numfds);
		if (watch && client.revents && client_gone(r)) {
			finish(r, FWD_CLIENT_GONE, "the client hung up");
			return;
		}
	}
}

fwd_relay *fwd_relay_start(fwd_upstream *u, const fwd_limits *lim, const char *method,
			   const char *url, struct curl_slist *headers, int64_t body_len,
			   const cft_secret *token, int client_fd)
{
	fwd_relay *r = calloc(1, sizeof(*r));
	if (!r) {
		curl_slist_free_all(headers);
		return NULL;
	}
	r->u = u;
	r->lim = lim;
	r->client_fd = client_fd;
	r->watch_client = true;
	r->length = -1;
	r->started_ms = r->last_ms = cft_now_ms();
	/* curl sends "Expect: 100-continue" before a large body unless told
	 * not to: one round trip less, and the client's own Expect was
	 * answered already. */
	struct curl_slist *h = curl_slist_append(headers, "Expect:");
	r->headers = h ? h : headers;
	r->answer = malloc(ANSWER_BUFFER);
	r->auth_line = cft_http_auth_line(token);
	if (!h || !r->answer || !r->auth_line) {
		finish(r, FWD_NOMEM, "out of memory");
		return r;
	}
	r->auth_node.data = cft_secret_buffer(r->auth_line);
	r->auth_node.next = r->headers;

	CURL *c = u->easy;
	curl_easy_reset(c);  /* keeps the connection, drops the options */
	cft_curl_transport(c, lim->ca_file, lim->proxy);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, lim->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, lim->request_ms);
	curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	/* A piece of body from libmicrohttpd (CONNECTION_MEMORY) in one
	 * read: fewer turns between the two sides of a large upload. */
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, (long)FWD_UPLOAD_PIECE);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, &r->auth_node);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET") && body_len == -1) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	if (body_len != -1 && strcmp(method, "HEAD") != 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(body_len >= 0 ? body_len : -1));
	} else {
		r->up_eof = true;
	}
	if (curl_multi_add_handle(u->multi, c) != CURLM_OK) {
		finish(r, FWD_NOMEM, "cannot start the call");
		return r;
	}
	r->in_multi = true;
	return r;
}

void fwd_relay_feed(fwd_relay *r, const char *data, size_t n)
{
	if (r->done || n == 0)
		return;
	r->up = data;
	r->up_left = n;
	if (r->send_paused) {
		r->send_paused = false;
		set_pause(r);
	}
	drive(r, UNTIL_SENT);
	/* An API that answered before taking the whole body (a 413, say)
	 * takes no more: the rest is dropped. */
	r->up = NULL;
	r->up_left = 0;
}

fwd_failure fwd_relay_answer(fwd_relay *r)
{
	r->up_eof = true;
	if (r->send_paused) {
		r->send_paused = false;
		set_pause(r);
	}
	drive(r, UNTIL_HEADERS);
	if (r->headers_done && r->failure != FWD_CLIENT_GONE)
		return FWD_OK;
	if (r->failure == FWD_OK) {
		r->failure = FWD_UNREACHABLE;
		explain(r, CFT_E_NETWORK, "no answer");
	}
	return r->failure;
}

long fwd_relay_status(const fwd_relay *r)
{
	return r->status;
}

int64_t fwd_relay_length(const fwd_relay *r)
{
	return r->length;
}

bool fwd_relay_header(const fwd_relay *r, size_t i, const char **name, const char **value)
{
	if (i >= r->n_hdrs)
		return false;
	*name = r->hdrs[i].name;
	*value = r->hdrs[i].value;
	return true;
}

const char *fwd_relay_error(const fwd_relay *r)
{
	return r->error[0] ? r->error : "could not reach the Cloudflare API (no answer)";
}

fwd_failure fwd_relay_failure(const fwd_relay *r)
{
	return r->failure;
}

ssize_t fwd_relay_read(fwd_relay *r, char *buf, size_t max)
{
	if (r->answer_len == 0 && !r->done) {
		if (r->recv_paused) {
			r->recv_paused = false;
			set_pause(r);
		}
		drive(r, UNTIL_DATA);
	}
	if (r->answer_len > 0) {
		size_t n = r->answer_len < max ? r->answer_len : max;
		memcpy(buf, r->answer, n);
		memmove(r->answer, r->answer + n, r->answer_len - n);
		r->answer_len -= n;
		return (ssize_t)n;
	}
	return r->failure == FWD_OK ? 0 : -1;
}

void fwd_relay_free(fwd_relay *r)
{
	if (!r)
		return;
	/* Removing a running transfer closes its connection: the API sees
	 * the call cancelled. */
	if (r->in_multi)
		curl_multi_remove_handle(r->u->multi, r->u->easy);
	/* The handle outlives r (its connection serves the client's next
	 * request): nothing of its options may point into r. */
	curl_easy_reset(r->u->easy);
	clear_headers(r);
	curl_slist_free_all(r->headers);
	cft_secret_free(r->auth_line);
	free(r->answer);
	free(r);
}
