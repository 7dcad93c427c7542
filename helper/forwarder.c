/* exec --proxy's forwarder (forwarder.h): who may use the port, which
 * paths it serves, and the answers it gives itself; forward_relay.c
 * carries a request on to the API.
 *
 * Threads: libmicrohttpd's listening thread and one per client
 * connection (MHD_USE_THREAD_PER_CONNECTION).  A connection's requests,
 * its callbacks and its curl handles all live on its own thread, so
 * nothing here is shared between threads but the forwarder itself, which
 * is read-only while it serves (its stop flag aside). */
#include "forwarder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "forward_relay.h"
#include "config/refusal.h"

/* What the forwarder accepts, and takes off before the API's base URL. */
#define PREFIX "/client/v4"
/* Client connections at once: wrangler opens a handful. */
#define MAX_CLIENTS 64
/* A kept-alive client connection that sends nothing for this long is closed. */
#define CLIENT_IDLE_S 300
/* Per request, to the API: no byte either way for IDLE_MS (or
 * --proxy-timeout), or the whole request longer than REQUEST_MS, ends it. */
#define IDLE_MS (120 * 1000)
#define REQUEST_MS (30 * 60 * 1000)
/* libmicrohttpd's buffer per connection: about twice the body's pieces. */
#define CONNECTION_MEMORY (2 * FWD_UPLOAD_PIECE)
/* After a renewal failed, the current token serves this long before the
 * next try (each try may take a whole --timeout). */
#define RENEW_RETRY_S 30

/* A token the forwarder sends, and the requests that send it. */
typedef struct fwd_token {
	cft_secret *value;
	char id[33];
	time_t renew_at;
	void *handle;                /* fwd_source's, for retire */
	unsigned users;              /* requests under way that carry it */
	bool replaced;               /* a fresher one serves new requests */
} fwd_token;

struct forwarder {
	int listen_fd;               /* ours until libmicrohttpd takes it */
	uint16_t port;
	char base_url[64];
	char *api_url;               /* the API's base, without a trailing '/' */
	char *ca_file;
	char *proxy;
	cft_secret *stand_in;
	fwd_limits lim;
	fwd_source src;
	const char *profile;         /* fwd_options': for explain_refusal */
	const char *const *permissions;
	size_t n_permissions;
	void (*record)(void *ctx, const char *method, const char *path, int status);
	void *record_ctx;
	pthread_mutex_t lock;        /* current, renewing, next_try, users */
	fwd_token *current;
	bool renewing;
	time_t next_try;
	atomic_bool stopping;
	struct MHD_Daemon *daemon;
};

/* One request, from its first line (on_uri) to its end (on_completed). */
typedef struct fwd_request {
	const forwarder *f;
	char *uri;                   /* as sent: path and query, not decoded */
	bool started;
	bool answered;               /* answered here: a body that follows is dropped */
	bool peek;                   /* a 401: its body's first piece may say why */
	bool recorded;               /* fwd_options' record has it */
	char method[16];             /* for explain_refusal */
	fwd_relay *relay;
	fwd_token *token;            /* the token it carries, held until it ends */
} fwd_request;

/* Cloudflare's error shape, so that a client shows its usual message. */
#define CF_ERROR(code, message) \
	"{\"success\":false,\"errors\":[{\"code\":" #code ",\"message\":\"" message \
	"\"}],\"messages\":[],\"result\":null}\n"

static const char not_authenticated[] = CF_ERROR(10000, "Authentication error");
static const char no_route[] = CF_ERROR(7000, "No route for that URI");
static const char unreachable[] = CF_ERROR(502, "cftoken: the API could not be reached");
static const char timed_out[] = CF_ERROR(504, "cftoken: the API did not answer in time");
static const char internal[] = CF_ERROR(500, "cftoken: the forwarder failed");

static const char stand_in_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 40 characters of [A-Za-z0-9_-] from getrandom: shaped as a token, so
 * that a tool checking the shape takes it, and known to nobody else. */
static cft_secret *make_stand_in(void)
{
	unsigned char raw[FWD_STAND_IN_LEN];
	cft_secret *s = cft_secret_alloc(FWD_STAND_IN_LEN);
	if (!s)
		return NULL;
	char *b = cft_secret_buffer(s);
	do {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			cft_wipe(raw, sizeof(raw));
			return cft_secret_free(s);
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			b[i] = stand_in_chars[raw[i] & 63];
	} while (!cft_token_is_cloudflare_shaped(b, FWD_STAND_IN_LEN));
	cft_wipe(raw, sizeof(raw));
	cft_secret_set_len(s, FWD_STAND_IN_LEN);
	return s;
}

/* "Bearer STAND-IN", compared in time that does not depend on where it
 * differs. */
static bool carries_stand_in(const forwarder *f, const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	const char *v = authorization + 7, *s = cft_secret_str(f->stand_in);
	if (strlen(v) != FWD_STAND_IN_LEN)
		return false;
	unsigned char d = 0;
	for (size_t i = 0; i < FWD_STAND_IN_LEN; i++)
		d |= (unsigned char)(v[i] ^ s[i]);
	return d == 0;
}

/* Under /client/v4/, and in its path (the query may hold anything) no
 * segment a server would resolve elsewhere: "..", ".", a dot or a slash
 * percent-encoded. */
static bool path_served(const char *uri)
{
	if (strncmp(uri, PREFIX "/", sizeof(PREFIX)) != 0 || strchr(uri, '#'))
		return false;
	size_t path_len = strcspn(uri, "?");
	for (size_t i = 0; i < path_len; i++) {
		if (uri[i] == '%' && i + 2 < path_len && uri[i + 1] == '2' &&
		    strchr("eEfF", uri[i + 2]))
			return false;
		if (uri[i] != '/')
			continue;
		const char *seg = uri + i + 1;
		size_t n = strcspn(seg, "/?");
		if ((n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
			return false;
	}
	return true;
}

/* One line on our stderr for a request the forwarder answered itself,
 * or whose answer it cut off ("STATUS for METHOD PATH cut off: WHY").
 * The path only: the query and the credential stay out. */
static void say(const char *method, const char *url, int status, const char *cut,
		const char *why)
{
	char path[201];
	size_t i = 0;
	for (; url[i] && url[i] != '?' && i < sizeof(path) - 1; i++)
		path[i] = (char)(url[i] >= 0x20 && url[i] < 0x7f ? url[i] : '?');
	path[i] = '\0';
	fprintf(stderr, "cftoken: forwarder: %d for %.10s %s%s: %s\n", status, method, path, cut,
		why);
}

static enum MHD_Result answer_here(struct MHD_Connection *conn, fwd_request *q,
				   unsigned status, const char *body)
{
	q->answered = true;
	struct MHD_Response *rs =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!rs)
		return MHD_NO;
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ok = MHD_queue_response(conn, status, rs);
	MHD_destroy_response(rs);
	return ok;
}

/* The client's headers, as curl lines, less those not passed on. */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *name,
				  const char *value)
{
	(void)kind;
	struct curl_slist **list = cls;
	if (!name || fwd_header_dropped(name))
		return MHD_YES;
	size_t n = strlen(name) + (value ? strlen(value) : 0) + 3;
	char *line = malloc(n);
	if (!line)
		return MHD_NO;
	/* "Name;" is how curl sends a header with an empty value. */
	if (value && *value)
		snprintf(line, n, "%s: %s", name, value);
	else
		snprintf(line, n, "%s;", name);
	struct curl_slist *l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return MHD_NO;
	*list = l;
	return MHD_YES;
}

/* -1: no body; -2: a body of unknown length (chunked); else its length. */
static int64_t body_length(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		errno = 0;
		long long n = strtoll(cl, &end, 10);
		return !errno && *end == '\0' && n >= 0 ? n : -2;
	}
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING) ? -2 : -1;
}

static fwd_token *token_new(const cft_l1_record *r, void *handle)
{
	fwd_token *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->value = cft_secret_new(cft_secret_str(r->token), cft_secret_len(r->token));
	if (!t->value) {
		free(t);
		return NULL;
	}
	snprintf(t->id, sizeof(t->id), "%s", r->id);
	t->renew_at = r->renew_at;
	t->handle = handle;
	return t;
}

/* No request carries t any more, and none will. */
static void retire(forwarder *f, fwd_token *t)
{
	if (!t)
		return;
	if (t->handle && f->src.retire)
		f->src.retire(f->src.ctx, t->handle, t->id);
	cft_secret_free(t->value);
	free(t);
}

/* A fresh token from the source, or NULL (the current one serves on). */
static fwd_token *obtain_fresh(forwarder *f)
{
	cft_l1_record r = { 0 };
	void *handle = NULL;
	cft_error err;
	cft_error_clear(&err);
	if (f->src.renew(f->src.ctx, &r, &handle, &err) != CFT_OK) {
		char msg[1024];
		cft_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "cftoken: warning: forwarder: the token is due and was not renewed "
			"(%s); it serves until it expires\n", msg);
		return NULL;
	}
	fwd_token *t = token_new(&r, handle);
	if (!t && handle && f->src.retire)
		f->src.retire(f->src.ctx, handle, r.id);
	cft_l1_record_clear(&r);
	return t;
}

/* The token a new request carries: the current one, renewed first when
 * it is due and no other request is renewing it. */
static fwd_token *take_token(forwarder *f)
{
	fwd_token *fresh = NULL, *gone = NULL;
	pthread_mutex_lock(&f->lock);
	time_t now = time(NULL);
	bool renew = f->src.renew && !f->renewing && now >= f->current->renew_at &&
		     now >= f->next_try;
	f->renewing = f->renewing || renew;
	pthread_mutex_unlock(&f->lock);
	if (renew)
		fresh = obtain_fresh(f);
	pthread_mutex_lock(&f->lock);
	if (renew) {
		f->renewing = false;
		if (fresh && !strcmp(fresh->id, f->current->id)) {
			/* Still the same token (a declared one, say): no new
			 * one, and nothing to retire. */
			f->current->renew_at = fresh->renew_at;
			fresh->handle = NULL;
			gone = fresh;
			fresh = NULL;
		}
		if (fresh) {
			f->current->replaced = true;
			if (f->current->users == 0)
				gone = f->current;
			f->current = fresh;
		}
		if (f->current->renew_at <= now)
			f->next_try = now + RENEW_RETRY_S;
	}
	fwd_token *t = f->current;
	t->users++;
	pthread_mutex_unlock(&f->lock);
	retire(f, gone);
	return t;
}

static void release_token(forwarder *f, fwd_token *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&f->lock);
	t->users--;
	bool gone = t->replaced && t->users == 0;
	pthread_mutex_unlock(&f->lock);
	if (gone)
		retire(f, t);
}

/* The request's headers are in: refuse it, or start its call to the API. */
static enum MHD_Result begin(forwarder *f, struct MHD_Connection *conn, const char *url,
			     const char *method, fwd_request *q)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	if (!carries_stand_in(f, auth)) {
		say(method, url, 401, "", auth ? "not this run's credential" : "no credential");
		return answer_here(conn, q, MHD_HTTP_UNAUTHORIZED, not_authenticated);
	}
	if (!path_served(q->uri)) {
		say(method, url, 404, "", "only paths under " PREFIX "/ are forwarded");
		return answer_here(conn, q, MHD_HTTP_NOT_FOUND, no_route);
	}
	const union MHD_ConnectionInfo *ctx =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	const union MHD_ConnectionInfo *fd =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct curl_slist *headers = NULL;
	size_t n = strlen(f->api_url) + strlen(q->uri) + 1;
	char *to = malloc(n);
	if (!ctx || !ctx->socket_context || !fd || !to ||
	    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, &headers) < 0) {
		free(to);
		curl_slist_free_all(headers);
		return answer_here(conn, q, MHD_HTTP_INTERNAL_SERVER_ERROR, internal);
	}
	snprintf(to, n, "%s%s", f->api_url, q->uri + strlen(PREFIX));
	q->token = take_token(f);
	q->relay = fwd_relay_start(ctx->socket_context, &f->lim, method, to, headers,
				   body_length(conn), q->token->value, fd->connect_fd);
	free(to);
	if (!q->relay)
		return answer_here(conn, q, MHD_HTTP_INTERNAL_SERVER_ERROR, internal);
	return MHD_YES;
}

/* A request passed on, for learn (fwd_options' record): once. */
static void record(fwd_request *q, long status)
{
	const forwarder *f = q->f;
	if (!f->record || q->recorded)
		return;
	q->recorded = true;
	f->record(f->record_ctx, q->method, q->uri + strlen(PREFIX), (int)status);
}

/* The API refused the request: one line on our stderr saying which
 * groups would allow it and what the profile lacks (config/refusal.h).
 * Only the path's template shows, never an id, a query or a credential. */
static void explain_refusal(const fwd_request *q, long status)
{
	const forwarder *f = q->f;
	char line[1024];
	cft_refusal_line(line, sizeof(line), q->method, q->uri + strlen(PREFIX), (int)status,
			 f->profile ? f->profile : "(none)", f->permissions, f->n_permissions);
	fprintf(stderr, "%s\n", line);
}

/* Whether a piece of an error envelope names Cloudflare's "Authentication
 * error" (10000) or "Unauthorized to access requested resource" (9109):
 * a permission refused, which a 401 may carry as well as a 403. */
static bool names_refusal(const char *buf, size_t n)
{
	static const char *const codes[] = { "\"code\":10000", "\"code\": 10000",
					     "\"code\":9109", "\"code\": 9109" };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (memmem(buf, n, codes[i], strlen(codes[i])))
			return true;
	return false;
}

static ssize_t read_answer(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	fwd_request *q = cls;
	ssize_t n = fwd_relay_read(q->relay, buf, max);
	/* Only the answer's first piece, which passes on as it is: the body
	 * is never held to be read. */
	if (q->peek && n > 0 && names_refusal(buf, (size_t)n))
		explain_refusal(q, fwd_relay_status(q->relay));
	q->peek = false;
	/* The status and part of the body are the client's already: all
	 * the forwarder can do is break the answer off, and say why (a
	 * client that hung up needs no word). */
	if (n < 0 && fwd_relay_failure(q->relay) != FWD_CLIENT_GONE)
		say(q->method, q->uri, (int)fwd_relay_status(q->relay), " cut off",
		    fwd_relay_error(q->relay));
	return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
				  : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The body is in: the API's status and headers, then its body as it comes. */
static enum MHD_Result answer(struct MHD_Connection *conn, const char *url, const char *method,
			      fwd_request *q)
{
	fwd_failure failed = fwd_relay_answer(q->relay);
	record(q, failed == FWD_OK ? fwd_relay_status(q->relay) : 0);
	if (failed == FWD_CLIENT_GONE)
		return MHD_NO;
	if (failed != FWD_OK) {
		say(method, url, failed == FWD_TIMEOUT ? 504 : 502, "", fwd_relay_error(q->relay));
		return answer_here(conn, q, failed == FWD_TIMEOUT ? MHD_HTTP_GATEWAY_TIMEOUT
								  : MHD_HTTP_BAD_GATEWAY,
				   failed == FWD_TIMEOUT ? timed_out : unreachable);
	}
	long status = fwd_relay_status(q->relay);
	if (status == MHD_HTTP_FORBIDDEN)
		explain_refusal(q, status);
	q->peek = status == MHD_HTTP_UNAUTHORIZED;
	int64_t len = fwd_relay_length(q->relay);
	struct MHD_Response *rs = MHD_create_response_from_callback(
		len >= 0 ? (uint64_t)len : MHD_SIZE_UNKNOWN, 32 * 1024, read_answer, q, NULL);
	if (!rs)
		return MHD_NO;
	const char *name, *value;
	for (size_t i = 0; fwd_relay_header(q->relay, i, &name, &value); i++)
		MHD_add_response_header(rs, name, value);
	q->answered = true;
	enum MHD_Result ok = MHD_queue_response(conn, (unsigned)status, rs);
	MHD_destroy_response(rs);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	forwarder *f = cls;
	fwd_request *q = *con_cls;
	if (!q)
		return MHD_NO;  /* out of memory at its first line */
	if (!q->started) {
		q->started = true;
		q->f = f;
		snprintf(q->method, sizeof(q->method), "%s", method);
		return begin(f, conn, url, method, q);
	}
	if (*upload_data_size) {
		if (!q->answered)
			fwd_relay_feed(q->relay, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (q->answered)
		return MHD_YES;
	return answer(conn, url, method, q);
}

/* Before the headers are parsed: the URI as it was sent, which the API
 * gets unchanged (libmicrohttpd's url argument is decoded). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	fwd_request *q = calloc(1, sizeof(*q));
	if (q && !(q->uri = strdup(uri))) {
		free(q);
		q = NULL;
	}
	return q;
}

/* The request ended: answered, or the client went away.  Freeing a
 * relay whose call still runs cancels the call. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
	forwarder *f = cls;
	fwd_request *q = *con_cls;
	if (!q)
		return;
	if (q->relay)
		record(q, 0);  /* ended before its answer: the client went away */
	fwd_relay_free(q->relay);
	release_token(f, q->token);
	free(q->uri);
	free(q);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = fwd_upstream_new();
	} else {
		fwd_upstream_free(*socket_context);
		*socket_context = NULL;
	}
}

cft_code fwd_listen(const fwd_options *o, forwarder **out, cft_error *err)
{
	*out = NULL;
	if (!o->api_url || strncmp(o->api_url, "https://", 8) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "the forwarder sends tokens to an https:// "
				"API URL only (got \"%.200s\")", o->api_url ? o->api_url : "");
	forwarder *f = calloc(1, sizeof(*f));
	if (!f)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	f->listen_fd = -1;
	pthread_mutex_init(&f->lock, NULL);
	f->api_url = strdup(o->api_url);
	f->ca_file = o->ca_file && *o->ca_file ? strdup(o->ca_file) : NULL;
	f->proxy = o->proxy && *o->proxy ? strdup(o->proxy) : NULL;
	f->profile = o->profile;
	f->permissions = o->permissions;
	f->n_permissions = o->n_permissions;
	f->record = o->record;
	f->record_ctx = o->record_ctx;
	f->stand_in = make_stand_in();
	if (!f->api_url || !f->stand_in || (o->ca_file && *o->ca_file && !f->ca_file) ||
	    (o->proxy && *o->proxy && !f->proxy)) {
		fwd_free(f);
		return cft_fail(err, CFT_E_NOMEM, "no stand-in credential: %s", strerror(errno));
	}
	size_t n = strlen(f->api_url);
	while (n > 8 && f->api_url[n - 1] == '/')
		f->api_url[--n] = '\0';
	f->lim = (fwd_limits){ .ca_file = f->ca_file, .proxy = f->proxy,
			       .connect_ms = o->connect_ms > 0 ? o->connect_ms : 10000,
			       .idle_ms = o->idle_ms > 0 ? o->idle_ms : IDLE_MS,
			       .request_ms = REQUEST_MS,
			       .stopping = &f->stopping };

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(f->listen_fd, MAX_CLIENTS) != 0 ||
	    getsockname(f->listen_fd, (struct sockaddr *)&a, &len) != 0) {
		int e = errno;
		fwd_free(f);
		return cft_fail(err, CFT_E_INTERNAL, "the forwarder cannot listen on 127.0.0.1: %s",
				strerror(e));
	}
	f->port = ntohs(a.sin_port);
	snprintf(f->base_url, sizeof(f->base_url), "http://127.0.0.1:%u" PREFIX, f->port);
	*out = f;
	return CFT_OK;
}

uint16_t fwd_port(const forwarder *f)
{
	return f->port;
}

const char *fwd_base_url(const forwarder *f)
{
	return f->base_url;
}

const cft_secret *fwd_stand_in(const forwarder *f)
{
	return f->stand_in;
}

cft_code fwd_serve(forwarder *f, const cft_l1_record *r, void *handle, const fwd_source *src,
		   cft_error *err)
{
	if (src)
		f->src = *src;
	f->current = token_new(r, handle);
	if (!f->current) {
		if (handle && src && src->retire)
			src->retire(src->ctx, handle, r->id);
		return cft_fail(err, CFT_E_NOMEM, NULL);
	}
	/* Signals are the main thread's to pass on to the program: the
	 * server's threads, which inherit this mask, take none (faults
	 * aside, which the kernel delivers where they happen). */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	f->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0,
		NULL, NULL, on_request, f,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)f->listen_fd,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, f,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, f,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CLIENTS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CLIENT_IDLE_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!f->daemon)
		return cft_fail(err, CFT_E_INTERNAL, "the forwarder did not start");
	f->listen_fd = -1;  /* libmicrohttpd's now: it closes it */
	return CFT_OK;
}

void fwd_free(forwarder *f)
{
	if (!f)
		return;
	f->stopping = true;
	if (f->daemon)
		MHD_stop_daemon(f->daemon);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	/* Every request has ended: only the current token is left. */
	retire(f, f->current);
	pthread_mutex_destroy(&f->lock);
	cft_secret_free(f->stand_in);
	free(f->api_url);
	free(f->ca_file);
	free(f->proxy);
	free(f);
}
