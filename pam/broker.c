/* cftoken-broker: renews login tokens without a new login.
 *
 *   cftoken-broker [--config PATH] [--helper PATH] [--socket PATH]
 *                  [--idle-exit SECONDS]
 *
 * A login session's token (pam_cftoken) expires after its ttl; the admin's
 * parent token that mints a new one is root's alone.  The broker is root's
 * answer: a Unix socket (socket-activated by cftoken-broker.socket, or
 * bound by --socket) that any local user may ask "renew".  The caller is
 * known by SO_PEERCRED, never by what it says; for that uid the broker
 * runs cftoken-pam-helper renew, which applies the same policy as at
 * login and refreshes the token in that user's own keyrings.  The token
 * never crosses the socket: the answer is "ok TOKEN_ID", and the caller
 * reads the token from its keyring.  So a user can never get another
 * user's token, or a broader one than their policy.
 *
 * Protocol, one line each way:  "renew [MIN_TTL_SECONDS]\n"  ->
 * "ok ID\n" | "none REASON\n" (no policy) | "busy SECONDS\n" |
 * "error REASON\n".
 *
 * One loop accepts for everybody, so it never waits on a caller: it
 * answers "busy" at once, without waiting for the request, to a uid that
 * asked within COOLDOWN_S or already has MAX_CHILDREN_PER_UID connections
 * in service, and a connection it serves is read in a child of its own.
 * Idle connections, however many, then cost the loop a few system calls
 * each and hold up nobody else's renewal.
 *
 * Its log is stderr (the journal), one line per message, each written
 * whole and escaped (log_escape): the helper's log records keep their
 * level as an sd-daemon "<N>" prefix, and nothing from outside (a user
 * name, a D-Bus or API message) can start a line of its own. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "helper_args.h"
#include "log_record.h"
#include "spawn.h"

#define DEFAULT_CONFIG CFTOKEN_SYSCONFDIR "/cftoken/cftoken.conf"
#define DEFAULT_HELPER CFTOKEN_LIBEXECDIR "/cftoken-pam-helper"
#define REQUEST_TIMEOUT_MS 2000
#define RENEW_TIMEOUT_MS 10000
#define MAX_CHILDREN 16
/* Connections of one uid in service at once: below MAX_CHILDREN, so that
 * one user cannot take every child (a child waits up to REQUEST_TIMEOUT_MS
 * for a request that may never come). */
#define MAX_CHILDREN_PER_UID 2
/* One renewal per user per this many seconds: a user who keeps asking
 * (or keeps deleting their own cache) cannot make the broker mint on
 * every call. */
#define COOLDOWN_S 5
#define MAX_UIDS 256

typedef struct broker {
	const char *config;
	const char *helper;
	int idle_exit_s;
	int children;
	struct {
		pid_t pid;  /* 0: a free slot */
		uid_t uid;
	} child[MAX_CHILDREN];
	struct {
		uid_t uid;
		time_t at;
	} recent[MAX_UIDS];
} broker;

/* One line to the journal in one write (the children log at once):
 * "<N>" when level >= 0, the name, the text, which must be clean. */
static void put_line(int level, const char *text)
{
	char line[LOG_TEXT_MAX + 64];
	int n = level >= 0 ? snprintf(line, sizeof(line), "<%d>cftoken-broker: %s\n", level, text)
			   : snprintf(line, sizeof(line), "cftoken-broker: %s\n", text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	ssize_t w;
	do
		w = write(STDERR_FILENO, line, (size_t)n);
	while (w < 0 && errno == EINTR);
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char text[LOG_RECORD_MAX], escaped[LOG_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_escape(text, strlen(text), escaped, sizeof(escaped));
	put_line(-1, escaped);
}

/* --idle-exit's value: whole seconds, 0 (never) to a day; poll() gets it
 * in milliseconds, as an int. */
static bool idle_seconds(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 86400)
		return false;
	*out = (int)v;
	return true;
}

static void reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* Newlines in a reason would split the answer. */
	for (int i = 0; i < n - 1; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_line("answering: %s", strerror(errno));
}

/* An answer without serving, from the accepting loop: it never waits.
 * What the caller already sent is read without waiting, and only so that
 * it sees the answer and then the end: on Linux, closing a Unix stream
 * socket with unread data leaves the answer readable but turns the end
 * after it into ECONNRESET.  A caller that sends after we closed gets
 * EPIPE and can still read the answer (lib/mint/broker_client.c does). */
static void refuse(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(int fd, const char *fmt, ...)
{
	char line[512], sink[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	for (int i = 0; i < 8 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	/* a caller gone already is no news worth a log line per connection */
	(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The request line, within REQUEST_TIMEOUT_MS. */
static bool read_request(int fd, char *buf, size_t size)
{
	size_t len = 0;
	long long deadline = spawn_now_ms() + REQUEST_TIMEOUT_MS;
	while (len < size - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - spawn_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		char *nl = strchr(buf, '\n');
		if (nl) {
			*nl = '\0';
			return true;
		}
	}
	return false;
}

/* "renew" or "renew N": N seconds the token must still last. */
static bool parse_request(const char *line, long *min_ttl)
{
	*min_ttl = 0;
	if (strncmp(line, "renew", 5) != 0)
		return false;
	if (line[5] == '\0')
		return true;
	char *end;
	long v = strtol(line + 6, &end, 10);
	if (line[5] != ' ' || *end || v < 0 || v > 7 * 86400)
		return false;
	*min_ttl = v;
	return true;
}

typedef struct helper_log {
	char *why;                   /* the first error, for the caller */
	size_t size;
} helper_log;

/* A record the reader checked, or escaped output that was none (LOG_ERR). */
static void log_helper_record(void *ctx, int level, const char *text)
{
	helper_log *h = ctx;
	put_line(level, text);
	if (level <= LOG_WARNING && !h->why[0])
		snprintf(h->why, h->size, "%s", text);
}

/* The helper's records and stderr to our log; its first error for the
 * caller. */
static void first_error(spawn_result *r, char *buf, size_t size)
{
	helper_log h = { buf, size };
	buf[0] = '\0';
	log_records_read(r->log, r->log_len, log_helper_record, &h);
	log_stray(r->err, r->err_len, log_helper_record, &h);
	if (!buf[0])
		snprintf(buf, size, "the renewal failed");
}

/* One connection, in a child of its own. */
static void serve(const broker *b, int fd, uid_t uid)
{
	char request[128], min_ttl_arg[48], timeout[48], until[48], why[512];
	long min_ttl;
	struct passwd *pw = getpwuid(uid);
	if (!pw) {
		reply(fd, "error uid %u has no user name", (unsigned)uid);
		return;
	}
	if (!read_request(fd, request, sizeof(request)) || !parse_request(request, &min_ttl)) {
		reply(fd, "error the request is \"renew [MIN_TTL_SECONDS]\"");
		return;
	}
	snprintf(min_ttl_arg, sizeof(min_ttl_arg), "--min-ttl=%ld", min_ttl);
	long long deadline = spawn_now_ms() + RENEW_TIMEOUT_MS;
	snprintf(timeout, sizeof(timeout), "--timeout-ms=%d", RENEW_TIMEOUT_MS - 500);
	snprintf(until, sizeof(until), "--deadline-ms=%lld", deadline - 500);
	const char *argv[] = { "cftoken-pam-helper", "renew", "--config", b->config, timeout,
			       until, min_ttl_arg, LOG_RECORD_FD_ARG, "--", pw->pw_name, NULL };
	char *envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	spawn_result *r = calloc(1, sizeof(*r));
	if (!r) {
		reply(fd, "error out of memory");
		return;
	}
	if (spawn_with_deadline(b->helper, (char *const *)argv, envp, deadline, r) != 0) {
		log_line("%s", r->err);
		reply(fd, "error %s", r->err);
	} else if (r->timed_out) {
		reply(fd, "error no answer within %d s", RENEW_TIMEOUT_MS / 1000);
	} else if (r->status == EXIT_NO_POLICY) {
		first_error(r, why, sizeof(why));
		reply(fd, "none no policy for %s in %s", pw->pw_name, b->config);
	} else if (r->status != 0 || strncmp(r->out, "token_id=", 9) != 0) {
		first_error(r, why, sizeof(why));
		reply(fd, "error %s", why);
	} else {
		first_error(r, why, sizeof(why));
		r->out[9 + strcspn(r->out + 9, "\n")] = '\0';
		log_line("renewed the login token of %s (uid %u): %s", pw->pw_name, (unsigned)uid,
			 r->out + 9);
		reply(fd, "ok %s", r->out + 9);
	}
	explicit_bzero(r, sizeof(*r));
	free(r);
}

/* SO_PEERCRED's uid, or -1. */
static long peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred))
		return -1;
	return (long)cred.uid;
}

/* Seconds this uid must still wait, recording the request when none. */
static long cooldown(broker *b, uid_t uid, time_t now)
{
	size_t oldest = 0;
	for (size_t i = 0; i < MAX_UIDS; i++) {
		if (b->recent[i].at && b->recent[i].uid == uid) {
			long wait = COOLDOWN_S - (long)(now - b->recent[i].at);
			if (wait > 0)
				return wait;
			b->recent[i].at = now;
			return 0;
		}
		if (b->recent[i].at < b->recent[oldest].at)
			oldest = i;
	}
	b->recent[oldest].uid = uid;
	b->recent[oldest].at = now;
	return 0;
}

static void reap(broker *b)
{
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (size_t i = 0; i < MAX_CHILDREN; i++)
			if (b->child[i].pid == pid) {
				b->child[i].pid = 0;
				b->children--;
			}
}

static int children_of(const broker *b, uid_t uid)
{
	int n = 0;
	for (size_t i = 0; i < MAX_CHILDREN; i++)
		n += b->child[i].pid && b->child[i].uid == uid;
	return n;
}

/* One connection handed to a child of its own; the loop goes on at once. */
static void start_child(broker *b, int listener, int fd, uid_t uid)
{
	size_t slot = 0;
	while (b->child[slot].pid)
		slot++;  /* a free one exists: children < MAX_CHILDREN */
	pid_t pid = fork();
	if (pid == 0) {
		close(listener);
		serve(b, fd, uid);
		_exit(0);
	}
	if (pid < 0) {
		refuse(fd, "error fork: %s", strerror(errno));
		return;
	}
	b->child[slot].pid = pid;
	b->child[slot].uid = uid;
	b->children++;
}

/* One accepted connection: served by a child, or refused at once. */
static void take(broker *b, int listener, int fd)
{
	long uid = peer_uid(fd), wait;
	if (uid < 0)
		refuse(fd, "error who is asking? (no SO_PEERCRED)");
	else if (children_of(b, (uid_t)uid) >= MAX_CHILDREN_PER_UID || b->children >= MAX_CHILDREN)
		refuse(fd, "busy 1");
	else if ((wait = cooldown(b, (uid_t)uid, time(NULL))) > 0)
		refuse(fd, "busy %ld", wait);
	else
		start_child(b, listener, fd, (uid_t)uid);
}

/* systemd's socket (LISTEN_FDS=1 for this pid), or -1. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid() || strcmp(fds, "1") != 0)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_line("socket path too long: %s", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	/* Any local user may ask: who they are is checked per connection. */
	mode_t old = umask(0111);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
		log_line("listening on %s: %s", path, strerror(errno));
		umask(old);
		return -1;
	}
	umask(old);
	return fd;
}

int main(int argc, char **argv)
{
	broker b = { .config = DEFAULT_CONFIG, .helper = DEFAULT_HELPER };
	const char *socket_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--config") && v)
			b.config = argv[++i];
		else if (!strcmp(a, "--helper") && v)
			b.helper = argv[++i];
		else if (!strcmp(a, "--socket") && v)
			socket_path = argv[++i];
		else if (!strcmp(a, "--idle-exit") && v && idle_seconds(v, &b.idle_exit_s))
			i++;
		else {
			fprintf(stderr, "usage: cftoken-broker [--config PATH] [--helper PATH] "
					"[--socket PATH] [--idle-exit SECONDS]\n");
			return 2;
		}
	}
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);

	int listener = activated_socket();
	if (listener < 0 && socket_path)
		listener = bind_socket(socket_path);
	if (listener < 0) {
		log_line("no socket: run from cftoken-broker.socket, or give --socket PATH");
		return 1;
	}
	for (;;) {
		struct pollfd p = { listener, POLLIN, 0 };
		int n = poll(&p, 1, b.idle_exit_s > 0 ? b.idle_exit_s * 1000 : 1000);
		reap(&b);
		if (n == 0 && b.idle_exit_s > 0 && b.children == 0)
			return 0;  /* the socket unit starts us again on demand */
		if (n <= 0)
			continue;
		int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		take(&b, listener, fd);
		close(fd);
	}
}
