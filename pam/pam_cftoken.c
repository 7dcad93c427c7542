/* pam_cftoken: a Cloudflare API token, scoped to the user by the admin's
 * policy, exported into every login session.
 *
 * This module links libpam and libc only (DESIGN.md, "The PAM module stays
 * tiny").  All the work (configuration, keyrings, HTTPS) happens in
 * cftoken-pam-helper, which it forks and execs, as pam_unix runs
 * unix_chkpwd: the host (sshd, gdm, login) never carries libcurl or GLib
 * state, and one deadline covers everything, because a child that
 * overruns it is killed.  After fork() only async-signal-safe calls are
 * made until exec (gdm is threaded).
 *
 * The helper gets its arguments in argv (no secret among them) and a
 * clean environment; it answers on stdout with NAME=VALUE lines, which
 * become the session's environment, and says what syslog should hear in
 * log records on a pipe of their own (log_record.h: a level byte, the
 * escaped text, a NUL), never in lines a newline from outside could
 * forge.  Its stderr is logged as one escaped error.  The token reaches
 * this process through the pipe only, and pam_putenv() is its one
 * destination. */
#define PAM_SM_SESSION
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cftoken-config.h"
#include "helper_args.h"
#include "log_record.h"
#include "spawn.h"

#define DEFAULT_CONFIG CFTOKEN_SYSCONFDIR "/cftoken/cftoken.conf"
#define DEFAULT_HELPER CFTOKEN_LIBEXECDIR "/cftoken-pam-helper"
#define DEFAULT_TIMEOUT_MS 5000
#define SESSION_DATA "pam_cftoken_session"

typedef struct options {
	bool debug;
	bool fail_closed;
	bool no_export;
	bool revoke_on_close;
	const char *config;
	const char *helper;
	const char *only_if;        /* comma-separated services, or NULL: all */
	long timeout_ms;
} options;

/* pam_syslog, with the whole message escaped (log_escape): the user name
 * comes from the PAM client (sshd takes it from the network), options
 * and paths from files; none may start a line of its own. */
static void log_escaped(pam_handle_t *pamh, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_escaped(pam_handle_t *pamh, int level, const char *fmt, ...)
{
	char text[LOG_RECORD_MAX], escaped[LOG_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_escape(text, strlen(text), escaped, sizeof(escaped));
	pam_syslog(pamh, level, "%s", escaped);
}

static const char *prefixed(const char *arg, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(arg, prefix, n) == 0 ? arg + n : NULL;
}

/* "5", "2.5": seconds, between 0.1 and 60. */
static bool parse_timeout(const char *v, long *ms)
{
	char *end;
	errno = 0;
	double s = strtod(v, &end);
	if (errno || end == v || *end || !(s >= 0.1 && s <= 60))
		return false;
	*ms = (long)(s * 1000);
	return true;
}

static void parse_options(pam_handle_t *pamh, int argc, const char **argv, options *o)
{
	const char *v;
	memset(o, 0, sizeof(*o));
	o->config = DEFAULT_CONFIG;
	o->helper = DEFAULT_HELPER;
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "debug"))
			o->debug = true;
		else if (!strcmp(a, "fail_closed"))
			o->fail_closed = true;
		else if (!strcmp(a, "no_export"))
			o->no_export = true;
		else if (!strcmp(a, "revoke_on_close"))
			o->revoke_on_close = true;
		else if ((v = prefixed(a, "config=")) && v[0] == '/')
			o->config = v;
		else if ((v = prefixed(a, "helper=")) && v[0] == '/')
			o->helper = v;
		else if ((v = prefixed(a, "only_if=")))
			o->only_if = v;
		else if ((v = prefixed(a, "timeout=")) && parse_timeout(v, &o->timeout_ms))
			;
		else
			log_escaped(pamh, LOG_ERR, "unknown option: %s", a);
	}
}

static bool service_wanted(pam_handle_t *pamh, const options *o)
{
	const void *item = NULL;
	if (!o->only_if)
		return true;
	if (pam_get_item(pamh, PAM_SERVICE, &item) != PAM_SUCCESS || !item)
		return false;
	const char *service = item;
	size_t n = strlen(service);
	for (const char *p = o->only_if; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, service, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

typedef struct log_target {
	pam_handle_t *pamh;
	const options *o;
} log_target;

/* A record the reader checked (a known level, a clean text) or, at
 * LOG_ERR, escaped output that was none: logged as it is. */
static void log_one(void *ctx, int level, const char *text)
{
	const log_target *t = ctx;
	if (level == LOG_DEBUG && !t->o->debug)
		return;
	pam_syslog(t->pamh, level, "%s", text);
}

/* What the helper said: its records, then its stderr (a library's
 * warning, say) as one escaped error, never read for a level. */
static void log_helper(pam_handle_t *pamh, const options *o, const spawn_result *r)
{
	log_target t = { pamh, o };
	log_records_read(r->log, r->log_len, log_one, &t);
	log_stray(r->err, r->err_len, log_one, &t);
}

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	free(data);
}

/* The session's environment: only the names cftoken hands over. */
static int export_lines(pam_handle_t *pamh, const options *o, char *out)
{
	static const char *const names[] = { "CLOUDFLARE_API_TOKEN=", "CLOUDFLARE_ACCOUNT_ID=",
					      "CFTOKEN_EXPIRES_ON=" };
	int exported = 0;
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		for (size_t i = 0; !o->no_export && i < sizeof(names) / sizeof(names[0]); i++)
			if (prefixed(line, names[i])) {
				if (pam_putenv(pamh, line) != PAM_SUCCESS)
					return -1;
				exported++;
			}
	}
	return exported;
}

/* PAM's view of the session environment, filtered: what the helper needs
 * to find the user's session bus.  Everything else (LD_PRELOAD from a
 * user's ~/.pam_environment, say) stays out of a process started as root. */
static void helper_env(pam_handle_t *pamh, char bus[1024], char runtime[1024], char *envp[4])
{
	size_t n = 0;
	const char *v;
	envp[n++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	if ((v = pam_getenv(pamh, "DBUS_SESSION_BUS_ADDRESS")) && strlen(v) < 990) {
		snprintf(bus, 1024, "DBUS_SESSION_BUS_ADDRESS=%s", v);
		envp[n++] = bus;
	}
	if ((v = pam_getenv(pamh, "XDG_RUNTIME_DIR")) && v[0] == '/' && strlen(v) < 990) {
		snprintf(runtime, 1024, "XDG_RUNTIME_DIR=%s", v);
		envp[n++] = runtime;
	}
	envp[n] = NULL;
}

/* cftoken-pam-worker beside the helper (as the helper finds it), into
 * path; false when there is none to run. */
static bool worker_beside(const char *helper, char *path, size_t size)
{
	const char *slash = strrchr(helper, '/');
	if (!slash || snprintf(path, size, "%.*s/" PAM_WORKER_NAME, (int)(slash - helper),
			       helper) >= (int)size)
		return false;
	return access(path, X_OK) == 0;
}

/* Runs the helper for open or close: 0 when it ran (its answer in r),
 * -1 when it could not be started (the reason in r->err). */
static int call_helper(pam_handle_t *pamh, const options *o, const char *stage,
		       const char *user, const char *session, long long deadline,
		       spawn_result *r)
{
	char timeout[32], until[48], bus[1024], runtime[1024];
	char *envp[4];
	const char *argv[16];
	size_t n = 0;

	snprintf(timeout, sizeof(timeout), "--timeout-ms=%lld", deadline - spawn_now_ms());
	snprintf(until, sizeof(until), "--deadline-ms=%lld", deadline);
	/* What the helper would only hand on, the worker gets directly: one
	 * exec fewer for a login that waits on it. */
	char worker[1024];
	const char *program = o->helper;
	if (helper_hands_on(stage, o->revoke_on_close) &&
	    worker_beside(o->helper, worker, sizeof(worker)))
		program = worker;
	argv[n++] = program == o->helper ? "cftoken-pam-helper" : PAM_WORKER_NAME;
	argv[n++] = stage;
	argv[n++] = "--config";
	argv[n++] = o->config;
	argv[n++] = timeout;
	argv[n++] = until;
	argv[n++] = LOG_RECORD_FD_ARG;
	if (o->debug)
		argv[n++] = "--debug";
	if (o->no_export)
		argv[n++] = "--no-export";
	if (o->revoke_on_close)
		argv[n++] = "--revoke-on-close";
	if (session) {
		argv[n++] = "--session";
		argv[n++] = session;
	}
	argv[n++] = "--";
	argv[n++] = user;
	argv[n] = NULL;
	helper_env(pamh, bus, runtime, envp);
	if (o->debug)
		log_escaped(pamh, LOG_DEBUG, "%s: running %s for %s", stage, program, user);
	return spawn_with_deadline(program, (char *const *)argv, envp, deadline, r);
}

static int failed(pam_handle_t *pamh, const options *o, const char *user, const char *why)
{
	log_escaped(pamh, LOG_ERR, "no Cloudflare API token for %s: %s%s", user, why,
		    o->fail_closed ? " (fail_closed: the session is refused)" : "");
	return o->fail_closed ? PAM_SESSION_ERR : PAM_IGNORE;
}

/* What the helper's answer means for the session. */
static int opened(pam_handle_t *pamh, const options *o, const char *user, const char *session,
		  spawn_result *r)
{
	if (r->timed_out) {
		char why[96];
		snprintf(why, sizeof(why), "no answer within %ld ms (timeout=), stopped",
			 o->timeout_ms);
		return failed(pamh, o, user, why);
	}
	if (r->status == EXIT_NO_POLICY) {
		if (o->debug)
			log_escaped(pamh, LOG_DEBUG, "no policy for %s in %s", user, o->config);
		return PAM_IGNORE;
	}
	if (r->status != EXIT_DONE)
		return failed(pamh, o, user,
			      r->status < 0 ? "the helper was killed" : "see the message above");
	if (export_lines(pamh, o, r->out) < 0)
		return failed(pamh, o, user, "pam_putenv failed");
	char *copy = o->revoke_on_close ? strdup(session) : NULL;
	if (copy && pam_set_data(pamh, SESSION_DATA, copy, free_data) != PAM_SUCCESS)
		free(copy);
	if (o->debug)
		log_escaped(pamh, LOG_DEBUG, "token %s for %s", o->no_export ? "cached" : "exported",
			    user);
	return PAM_SUCCESS;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	options o;
	const char *user = NULL;
	long long deadline = spawn_now_ms();

	parse_options(pamh, argc, argv, &o);
	deadline += o.timeout_ms;
	if (!service_wanted(pamh, &o))
		return PAM_IGNORE;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user || user[0] == '-') {
		log_escaped(pamh, LOG_ERR, "cannot determine the user name");
		return o.fail_closed ? PAM_SESSION_ERR : PAM_IGNORE;
	}

	/* The session's name in the helper's records: this process and the
	 * moment, so close_session finds it and a dead host's is pruned. */
	char session[64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(session, sizeof(session), "%ld-%lld%09ld", (long)getpid(), (long long)ts.tv_sec,
		 ts.tv_nsec);

	spawn_result *r = calloc(1, sizeof(*r));
	if (!r)
		return failed(pamh, &o, user, "out of memory");
	int rc = call_helper(pamh, &o, "open", user, o.revoke_on_close ? session : NULL,
			     deadline, r);
	if (rc != 0) {
		rc = failed(pamh, &o, user, r->err);
	} else {
		log_helper(pamh, &o, r);
		rc = opened(pamh, &o, user, session, r);
	}
	explicit_bzero(r, sizeof(*r));
	free(r);
	return rc;
}

int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	options o;
	const char *user = NULL;
	const void *session = NULL;
	long long deadline = spawn_now_ms();

	parse_options(pamh, argc, argv, &o);
	deadline += o.timeout_ms;
	if (!o.revoke_on_close || !service_wanted(pamh, &o))
		return PAM_IGNORE;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user || user[0] == '-')
		return PAM_IGNORE;
	if (pam_get_data(pamh, SESSION_DATA, &session) != PAM_SUCCESS)
		session = NULL;

	spawn_result *r = calloc(1, sizeof(*r));
	if (!r)
		return PAM_IGNORE;
	int rc = call_helper(pamh, &o, "close", user, session, deadline, r);
	if (rc == 0)
		log_helper(pamh, &o, r);
	bool ok = rc == 0 && !r->timed_out &&
		  (r->status == EXIT_DONE || r->status == EXIT_NO_POLICY);
	if (!ok)
		log_escaped(pamh, LOG_ERR, "the token of %s was not revoked at logout: %s", user,
			    rc != 0 ? r->err
			    : r->timed_out   ? "no answer within the timeout"
					     : "see the message above");
	explicit_bzero(r, sizeof(*r));
	free(r);
	/* A logout is never refused. */
	return ok ? PAM_SUCCESS : PAM_IGNORE;
}

/* Stages this module does not serve. */
int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_IGNORE;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_IGNORE;
}

int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_IGNORE;
}

int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_IGNORE;
}
