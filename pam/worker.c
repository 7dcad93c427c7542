/* cftoken-pam-worker: pam_cftoken's work, in a process of its own.
 *
 *   cftoken-pam-worker open|close|renew ... -- USER   (helper_args.h)
 *
 * cftoken-pam-helper (helper.c) answers a warm login itself and hands
 * everything else to this program with the same arguments; the broker's
 * renewals come the same way.  Started as root with a clean environment.
 * As root it reads what only root may read (the system configuration and
 * the admin's parent token, both checked to be root's) and keeps the
 * session records; the keyring work happens in a child that became the
 * user.  A process that changed its uid is not dumpable, so the user can
 * neither ptrace it nor read its memory for the parent token.
 *
 * open: the token of the user's login policy from the cache, else a new
 * one, cached in the user's keyrings; stdout gets token_id= and, unless
 * --no-export, the NAME=VALUE lines of the session's environment.
 * renew (the broker): the same, for a token that is due; stdout gets the
 * token_id only.
 * close (with --revoke-on-close): when no other session of the user is
 * open, revoke the login token and drop it from the caches.
 *
 * The token a renewal replaces lives out its expiry (a job started with
 * it finishes).  With the admin's parent, root keeps it in a ledger of its
 * own (RUN_DIR/replaced/UID); with the user's own, the user's ledger keeps
 * it (lib/mint/uncached.h).  After the answer, a detached process deletes
 * the ledger's expired tokens (tidy_detached); after the last session's
 * close with --revoke-on-close, all of them.  At the account's cap, root
 * deletes the tokens of its ledger early and runs the user's part again.
 *
 * What syslog should hear goes as log records to --log-fd (log_record.h),
 * each escaped whole; stderr is left to what libraries print (libcftoken's
 * warnings through library_says), which the module logs escaped as an
 * error and never reads a level from.
 * Exit: 0 done, 10 no policy for this user, 1 failure. */
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "helper_args.h"
#include "log_record.h"
#include "root_groups.h"
#include "root_orphans.h"
#include "session_records.h"
#include "api/api.h"
#include "cache/cache.h"
#include "cache/keyring.h"
#include "cache/l1.h"
#include "cache/parent.h"
#include "cache/secret_service.h"
#include "cache/session_bus.h"
#include "config/config.h"
#include "config/login_policy.h"
#include "config/owner.h"
#include "config/profile.h"
#include "config/tokenspec.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/quick_exit.h"
#include "core/timeutil.h"
#include "mint/obtain.h"
#include "mint/token_input.h"
#include "mint/uncached.h"

typedef struct job {
	args a;
	int64_t deadline;            /* cft_now_ms() */
	struct passwd *pw;
	cft_config cfg;
	cft_login_policy policy;
	const char *account;
	const char *api_url;
	cft_parent parent;           /* the admin's (file) or the user's own */
	bool admin_parent;           /* parent_token_file: root's records decide */
	char login_route[CFT_FP_HEX]; /* pam_cftoken's warm path (cftoken-pam-helper) */
	minted_record recorded;      /* root's record of the user's login token */
	char replaced_ledger[4200];  /* root's ledger of the tokens it replaced, or "" */
	cft_l2 *l2;
	/* The user's part: whether its ledger has work for after the answer
	 * (tidy=), and whether this run is the one after root made room at
	 * the account's cap. */
	int tidy;
	bool cap_retry;
	/* With the admin's parent: root's notes of creates (root_orphans.h),
	 * the name root gave this job's token, and, in the user's part,
	 * whether a create may have left a token the part could not sweep. */
	root_orphans orphans;
	cft_orphan_note create;
	int unswept;
	/* With the admin's parent: the permission groups root keeps for the
	 * policy, the only ones the user's part resolves names against
	 * (root_groups.h). */
	root_groups groups;
	char runtime_dir[4300];      /* root's run_dir/users/UID, when the user has none */
	pid_t user_part_pid;         /* a user's part that has reported, not yet reaped */
} job;

static int debug_on;
static int log_fd = -1;
/* The work after the answer: no module hears it any more, syslog does. */
static bool detached;

static const char *run_dir(const job *j)
{
	return j->cfg.run_dir ? j->cfg.run_dir : CFT_DEFAULT_RUN_DIR;
}

/* One record for syslog at level "debug: ", "notice: " or "" (an error).
 * The whole text is escaped (log_record_write): a newline in a detail
 * from outside (a user name, a D-Bus error, an API message) cannot start
 * a line of its own, at a level of its choosing. */
static void say(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *level, const char *fmt, ...)
{
	char text[LOG_RECORD_MAX];
	int prio = !strcmp(level, "debug: ")    ? LOG_DEBUG
		   : !strcmp(level, "notice: ") ? LOG_NOTICE
						: LOG_ERR;
	va_list ap;
	if (prio == LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (detached) {
		char escaped[LOG_TEXT_MAX];
		log_escape(text, strlen(text), escaped, sizeof(escaped));
		syslog(prio, "%s", escaped);
		return;
	}
	log_record_say(log_fd, prio, text);
}

/* What the library says beside its errors (core/log.h): a debug line is
 * a record of ours; a warning or a notice goes to stderr worded as
 * cftoken words it ("cftoken: warning: ..."), where the module has
 * always logged it, escaped, as an error. */
static void library_says(void *ctx, cft_log_level level, const char *text)
{
	if (level == CFT_LOG_DEBUG)
		say("debug: ", "%s", text);
	else if (detached)
		say(level == CFT_LOG_WARNING ? "" : "notice: ", "cftoken: %s%s",
		    level == CFT_LOG_WARNING ? "warning: " : "", text);
	else
		fprintf(stderr, "cftoken: %s%s\n", level == CFT_LOG_WARNING ? "warning: " : "",
			text);
}

static int fail(const cft_error *err, const char *what)
{
	char msg[1024];
	cft_error_format(err, msg, sizeof(msg));
	say("", "%s: %s", what, msg);
	return EXIT_FAILED;
}

static int usage(const char *why)
{
	say("", "cftoken-pam-worker: %s", why);
	return EXIT_FAILED;
}

static long left_ms(const job *j)
{
	int64_t left = j->deadline - cft_now_ms();
	return left > 0 ? (long)left : 1;
}

/* The time an API call may take: what is left, less a reserve in which
 * the worker still caches, logs why and answers before the module's
 * deadline stops it (a tenth of the timeout, at least 300 ms, so a slow
 * machine, or valgrind, still hears the reason and not just "stopped"). */
static long api_budget_ms(const job *j)
{
	long reserve = j->a.timeout_ms / 10 > 300 ? j->a.timeout_ms / 10 : 300;
	long api_ms = left_ms(j) - reserve;
	return api_ms > 200 ? api_ms : 200;
}

/* Root's part: the configuration, checked; the user's policy. */
static int read_policy(job *j)
{
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = cft_check_trusted_file(j->a.config, "configuration", &err);
	if (rc == CFT_E_NOT_FOUND) {
		say("debug: ", "%s does not exist: no token for anyone", j->a.config);
		return EXIT_NO_POLICY;
	}
	if (!rc)
		rc = cft_config_load_files(&j->cfg, &j->a.config, 1, &err);
	if (rc)
		return fail(&err, "configuration");
	rc = cft_login_policy_for_uid(&j->cfg, j->pw->pw_uid, &j->policy, &err);
	if (rc == CFT_E_NOT_FOUND) {
		say("debug: ", "%s: %s", j->a.config, err.detail);
		return EXIT_NO_POLICY;
	}
	if (rc)
		return fail(&err, "policy");
	char from[256];
	cft_login_policy_describe(&j->policy, from, sizeof(from));
	say("debug: ", "%s: the policy of %s is %s", j->a.config, j->a.user, from);
	j->account = j->policy.merged.account_id ? j->policy.merged.account_id
						 : j->cfg.account_id;
	if (!j->account) {
		say("", "%s: no account: set account = (the account id) in [defaults] or in %s",
		    j->a.config, from);
		return EXIT_FAILED;
	}
	j->api_url = j->cfg.api_url ? j->cfg.api_url : CFT_DEFAULT_API_URL;
	return EXIT_DONE;
}

/* The admin's parent token, read as root.  Without parent_token_file the
 * user's own (`cftoken login`) is used, read later as the user. */
static int read_admin_parent(job *j)
{
	cft_error err;
	cft_error_clear(&err);
	const char *file = j->cfg.parent_token_file;
	if (!file)
		return EXIT_DONE;
	j->admin_parent = true;
	cft_code rc = cft_check_trusted_file(file, "parent token file", &err);
	if (!rc)
		rc = cft_read_token(file, NULL, NULL, &j->parent.token, &err);
	return rc ? fail(&err, "parent_token_file") : EXIT_DONE;
}

/* Drops root for good: groups, gid, uid, then checks root cannot come
 * back.  A helper not run as root can serve only its own user. */
static int become_user(job *j)
{
	const struct passwd *pw = j->pw;
	if (geteuid() != 0) {
		if (getuid() == pw->pw_uid)
			return EXIT_DONE;
		say("", "cftoken-pam-worker runs as uid %u and cannot serve %s: it must run as root",
		    (unsigned)geteuid(), pw->pw_name);
		return EXIT_FAILED;
	}
	if (pw->pw_uid != 0 &&
	    (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	     setuid(pw->pw_uid) != 0 || setuid(0) == 0 || geteuid() != pw->pw_uid)) {
		say("", "cannot become %s: %s", pw->pw_name, strerror(errno));
		return EXIT_FAILED;
	}
	/* The kernel already made us undumpable when the uid changed; be
	 * explicit about it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return EXIT_DONE;
}

/* The environment the library reads, as the user's session will have it:
 * the fingerprint of `cftoken exec` inside the session must match. */
static void user_env(const job *j)
{
	const struct passwd *pw = j->pw;
	char runtime[64];
	const char *bus = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *bus_copy = bus ? strdup(bus) : NULL, *xdg_copy = xdg ? strdup(xdg) : NULL;
	struct stat st;

	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	snprintf(runtime, sizeof(runtime), "/run/user/%u", (unsigned)pw->pw_uid);
	if (!xdg_copy && stat(runtime, &st) == 0 && st.st_uid == pw->pw_uid)
		xdg = runtime;
	else
		xdg = xdg_copy;
	if (xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == pw->pw_uid)
		setenv("XDG_RUNTIME_DIR", xdg, 1);
	else if (j->runtime_dir[0])
		setenv("XDG_RUNTIME_DIR", j->runtime_dir, 1);  /* root made it (user_runtime_dir) */
	if (bus_copy)
		setenv("DBUS_SESSION_BUS_ADDRESS", bus_copy, 1);
	if (!j->a.no_export)
		setenv("CLOUDFLARE_ACCOUNT_ID", j->account, 1);
	free(bus_copy);
	free(xdg_copy);
}

/* The user's part, before any lookup: a session keyring of their own and
 * the Secret Service when their session bus has one. */
static int enter_user_keyrings(job *j)
{
	cft_error err;
	cft_error_clear(&err);
	if (cft_keyring_new_session(&err) != CFT_OK)
		return fail(&err, "kernel keyring");
	const char *cache = j->cfg.cache ? j->cfg.cache : "auto";
	if (!strcmp(cache, "auto") || !strcmp(cache, "secret-service")) {
		long budget = left_ms(j) / 4;
		/* The library sets no environment: the user's bus, where only
		 * $XDG_RUNTIME_DIR/bus names it, is exported here. */
		char bus[CFT_SESSION_BUS_ADDRESS_MAX];
		if (cft_session_bus_address(bus, sizeof(bus)))
			setenv("DBUS_SESSION_BUS_ADDRESS", bus, 1);
		cft_code rc = cft_l2_open(budget < 1500 ? budget : 1500, &j->l2, &err);
		if (rc)
			say("debug: ", "no Secret Service, the kernel keyring alone: %s", err.detail);
	}
	return EXIT_DONE;
}

/* The user's part, and the work after the answer on a personal machine:
 * the user, with their environment and keyrings. */
static int enter_user(job *j)
{
	int status = become_user(j);
	if (!status) {
		user_env(j);
		status = enter_user_keyrings(j);
	}
	return status;
}

static cft_code get_parent(void *ctx, const cft_secret **out, cft_error *err)
{
	job *j = ctx;
	if (!j->parent.token) {
		/* A personal machine: the user's own `cftoken login` token,
		 * the kernel's copy, else the Secret Service's. */
		cft_code rc = cft_parent_load(j->api_url, j->cfg.ca_file, &j->parent, err);
		if (rc == CFT_E_NO_PARENT && j->l2) {
			cft_error_clear(err);
			rc = cft_l2_lookup_parent(j->l2, j->api_url, &j->parent, err);
			if (rc == CFT_OK)
				rc = cft_parent_check_ca(&j->parent, j->cfg.ca_file, err);
			if (rc == CFT_E_NOT_FOUND)
				rc = cft_fail(err, CFT_E_NO_PARENT,
					      "no parent_token_file in the configuration, and the "
					      "user has not run cftoken login");
		}
		if (rc) {
			cft_parent_clear(&j->parent);
			return rc;
		}
	}
	*out = j->parent.token;
	return CFT_OK;
}

/* What every obtain of this job shares: the login policy's token, under
 * the parent the job uses. */
static cft_obtain job_obtain(job *j)
{
	return (cft_obtain){
		.cfg = &j->cfg,
		.profile = &j->policy.merged,
		.account_id = j->account,
		.api_url = j->api_url,
		.ca_file = j->cfg.ca_file,
		.timeout_ms = api_budget_ms(j),
		.parent = get_parent,
		.parent_ctx = j,
	};
}

/* Root's ledger of the login tokens it replaced for this user, settled
 * with the admin's parent: only tokens named as root names them for this
 * user (ledger_user), never an id from the user's cache. */
static cft_obtain root_ledger_obtain(job *j)
{
	cft_obtain o = job_obtain(j);
	o.ledger = j->replaced_ledger;
	o.ledger_user = j->pw->pw_name;
	return o;
}

static int names_profiles(const cft_config *cfg)
{
	int has = cfg->default_profile != NULL;
	for (size_t i = 0; i < cfg->n_sections; i++)
		has |= cfg->sections[i].kind == CFT_SECTION_PROFILE;
	return has;
}

/* Whether `cftoken exec` with no --profile means the login policy: when
 * neither the system configuration nor the user's names a profile (the
 * rule of cftoken-backend's find_profile). */
static int user_has_profiles(const job *j)
{
	char path[4096];
	struct stat st;
	if (names_profiles(&j->cfg))
		return 1;
	/* The broker's renewals run with the home directories hidden
	 * (ProtectHome=): a file we cannot see may still name profiles, so
	 * the default route is left to expire, and cftoken-backend finds
	 * the login token without it. */
	if (!strcmp(j->a.stage, "renew") && stat(j->pw->pw_dir, &st) != 0)
		return 1;
	if (cft_user_config_path(path, sizeof(path)) != 0 || stat(path, &st) != 0)
		return 0;
	cft_config own = { 0 };
	const char *paths[1] = { path };
	int has = 1;  /* unreadable or invalid: do not guess */
	if (cft_config_load_files(&own, paths, 1, NULL) == CFT_OK)
		has = names_profiles(&own);
	cft_config_clear(&own);
	return has;
}

/* The user's part reports to root's on fd: token_id=, replaced=,
 * minted=0|1, then the session's NAME=VALUE lines.  Written from locked
 * memory: stdio would keep a copy of the token on the heap. */
static int report(const job *j, int fd, const cft_l1_record *r, const char *replaced,
		  int minted)
{
	_cleanup_secret_ cft_secret *buf = cft_secret_alloc(4096);
	char expires[CFT_RFC3339_SIZE];
	if (!buf)
		return EXIT_FAILED;
	cft_time_format_rfc3339(r->expires, expires);
	int n = snprintf(cft_secret_buffer(buf), 4096,
			 "token_id=%s\nreplaced=%s\nminted=%d\n"
			 "CLOUDFLARE_API_TOKEN=%s\nCLOUDFLARE_ACCOUNT_ID=%s\nCFTOKEN_EXPIRES_ON=%s\n",
			 r->id, replaced, minted, cft_secret_str(r->token), r->account, expires);
	if (n <= 0 || n >= 4096)
		return EXIT_FAILED;
	return write(fd, cft_secret_buffer(buf), (size_t)n) == n ? EXIT_DONE : EXIT_FAILED;
}

/* The user's part could not sweep what a failed create may have left:
 * root must (reported as unswept=1). */
static void note_unswept(void *ctx, const cft_orphan_note *note)
{
	job *j = ctx;
	(void)note;  /* root noted this very name before we started */
	j->unswept = 1;
}

static int open_session(job *j, int report_fd)
{
	cft_error err;
	cft_l1_record r = { 0 };
	char fp_login[CFT_FP_HEX], fp_default[CFT_FP_HEX], replaced[33];
	cft_obtain_source source;
	cft_error_clear(&err);

	/* A cached token without the route of this policy file was minted
	 * under another policy (the admin edited it): replace it now, not
	 * when it expires. */
	char outdated[33] = "", route_to[CFT_KEY_DESC_MAX];
	cft_l1_record probe = { 0 };
	if (cft_cache_lookup_route(j->login_route, j->api_url, &probe, route_to, NULL, NULL) != CFT_OK) {
		cft_l1_record_clear(&probe);
		if (cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, j->account, CFT_LOGIN_PROFILE,
				     j->api_url, &probe, NULL) == CFT_OK) {
			snprintf(outdated, sizeof(outdated), "%s", probe.id);
			say("notice: ", "token %s of %s was minted under an earlier policy: replacing it",
			    outdated, j->a.user);
		}
	}
	cft_l1_record_clear(&probe);
	cft_request login = { .profile = CFT_LOGIN_PROFILE }, plain = { 0 };
	cft_request_fingerprint(&login, fp_login);
	cft_request_fingerprint(&plain, fp_default);
	cft_obtain o = job_obtain(j);
	/* Half the budget a call: a create that times out is followed by the
	 * sweep of what it may have made, and both must end in time for the
	 * part to say why.  (With the permission groups kept, the create is
	 * the first request, not a fetch that failed alone.) */
	o.timeout_ms = api_budget_ms(j) / 2;
	o.route_fp = fp_login;
	o.min_ttl = j->a.min_ttl > 0 ? j->a.min_ttl : 0;
	o.refused_id = outdated[0] ? outdated : NULL;
	o.l2 = j->l2;
	o.no_cache = j->cfg.cache && !strcmp(j->cfg.cache, "none");
	/* With the admin's parent, root settles the replaced token by its own
	 * record (forget_previous), not by the user's cache; the policy's ttl
	 * is a ceiling; the token gets the name root noted, and what a failed
	 * create may have left is root's to sweep (root_orphans.h). */
	o.keep_replaced = j->parent.token != NULL;
	o.no_due_fallback = !strcmp(j->a.stage, "renew");
	o.ttl_is_ceiling = true;
	o.token_name = j->parent.token ? j->create.name : NULL;
	o.note_orphan = j->parent.token ? note_unswept : NULL;
	o.note_orphan_ctx = j;
	/* ... and the permission groups are root's, never the user's cache
	 * (root_groups.h). */
	o.groups = j->parent.token ? &j->groups.groups : NULL;
	cft_code rc = cft_obtain_token(&o, &r, &source, replaced, &err);
	if (rc == CFT_E_QUOTA && o.keep_replaced && !j->cap_retry) {
		/* The account's cap: root deletes early the tokens it replaced
		 * for this user (its ledger, not ours) and runs us again. */
		say("debug: ", "token: %s: root makes room", err.detail);
		if (write(report_fd, "cap=1\n", 6) != 6)
			return fail(&err, "token");
		return EXIT_FAILED;
	}
	if (rc)
		return fail(&err, "token");
	/* The user's own ledger (a personal machine): its expired tokens go
	 * after the answer, in a process root starts as the user. */
	j->tidy = !o.keep_replaced && cft_obtain_tidy_due(&o);
	if (!o.no_cache && !user_has_profiles(j))
		cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, fp_default, &r, j->api_url, NULL);
	if (!o.no_cache)
		cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, j->login_route, &r, j->api_url,
				NULL);
	static const char *const from[] = {
		[CFT_FROM_KERNEL_KEYRING] = "from the kernel keyring",
		[CFT_FROM_SECRET_SERVICE] = "from the Secret Service",
		[CFT_MINTED] = "minted",
	};
	say(source == CFT_MINTED ? "notice: " : "debug: ", "token %s for %s (account %s) %s%s%s",
	    r.id, j->a.user, j->account, from[source], replaced[0] ? ", replacing " : "",
	    replaced);
	int status = report(j, report_fd, &r, replaced, source == CFT_MINTED);
	cft_l1_record_clear(&r);
	return status;
}

/* Deletes a token on the API; gone already is fine.  In the user's part
 * the user's caches forget it too.  EXIT_FAILED (the reason logged) when
 * the token may still be live. */
static int revoke_token(job *j, const char *id, int in_user_part, const char *why)
{
	cft_error err;
	cft_client *client = NULL;
	const cft_secret *parent = NULL;
	cft_error_clear(&err);
	cft_client_options copts = { .api_url = j->api_url, .ca_file = j->cfg.ca_file,
				     .proxy = j->cfg.proxy,
				     .timeout_ms = api_budget_ms(j) };
	cft_code rc = get_parent(j, &parent, &err);
	if (!rc)
		rc = cft_client_new(&copts, parent, &client, &err);
	if (!rc)
		rc = cft_token_delete(client, cft_profile_token_owner(&j->policy.merged, j->account),
				      id, &err);
	cft_client_free(client);
	if (rc && rc != CFT_E_NOT_FOUND)
		return fail(&err, "revoking a token");
	if (in_user_part)
		cft_cache_drop_id(cft_l2_cache(j->l2), id);
	say("notice: ", "token %s of %s revoked: %s", id, j->a.user, why);
	return EXIT_DONE;
}

/* The last session ended: revoke the login token root recorded for this
 * user (never an id from the user's own cache, which they can edit) and
 * drop it from their caches.  On a personal machine, the tokens earlier
 * renewals replaced go too, after the answer (tidy=, as the user). */
static int close_session(job *j)
{
	if (!j->admin_parent)
		j->tidy = cft_uncached_any_due(j->account, j->policy.merged.name,
					       (time_t)LLONG_MAX);
	if (j->recorded.id[0])
		return revoke_token(j, j->recorded.id, 1, "the last session ended");
	say("debug: ", "no token recorded for %s: nothing to revoke", j->a.user);
	return EXIT_DONE;
}

/* Root's bookkeeping: whether this close ends the user's last session. */
static int sessions(job *j, int *last)
{
	cft_error err;
	unsigned others = 0;
	const char *dir = run_dir(j);
	cft_error_clear(&err);
	*last = 0;
	if (strcmp(j->a.stage, "close") != 0) {
		if (j->a.revoke_on_close && j->a.session &&
		    session_record_add(dir, j->pw->pw_uid, j->a.session, &err) != CFT_OK)
			return fail(&err, "session record");
		return EXIT_DONE;
	}
	if (session_record_remove(dir, j->pw->pw_uid, j->a.session, &others, &err) != CFT_OK)
		return fail(&err, "session record");
	if (others)
		say("debug: ", "%u other session(s) of %s still open: the token stays", others,
		    j->a.user);
	*last = others == 0;
	return EXIT_DONE;
}

/* The user's part, in a child: become the user, use their keyrings,
 * report on fd.  Its exit status is the helper's. */
static int user_part(job *j, int fd)
{
	int status = enter_user(j);
	if (!status)
		status = !strcmp(j->a.stage, "close") ? close_session(j) : open_session(j, fd);
	/* Last, whatever happened: root settles its note of this job's create
	 * only on the unswept= line (a part killed before it leaves the
	 * note). */
	char line[64];
	int n = snprintf(line, sizeof(line), "tidy=%d\nunswept=%d\nstatus=%d\n", j->tidy,
			 j->unswept, status);
	if (write(fd, line, (size_t)n) != n)
		status = EXIT_FAILED;
	return status;
}

static const char *field(char *report, const char *name)
{
	size_t n = strlen(name);
	for (char *line = report; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, name, n) && line[n] == '=')
			return line + n + 1;
	return NULL;
}

/* RUN_DIR/replaced/UID, root's ledger of the login tokens it replaced for
 * the user ("" when root cannot make its directory). */
static const char *root_ledger(job *j)
{
	if (!j->replaced_ledger[0] &&
	    root_record_path(run_dir(j), "replaced", j->pw->pw_uid, j->replaced_ledger,
			     sizeof(j->replaced_ledger), NULL) != CFT_OK)
		j->replaced_ledger[0] = '\0';
	return j->replaced_ledger;
}

/* Root's part after a mint: the new token becomes root's record of the
 * user's login token.  With the admin's parent, the token recorded before
 * it, which it replaces, lives out its expiry in root's ledger (the work
 * after the answer deletes it once it has expired); a ledger that cannot
 * take it means it is deleted now.  On a personal machine the user's own
 * parent token, and so the user's part, settles it (the user's ledger). */
static void forget_previous(job *j, char *report)
{
	minted_record now = { 0 }, previous;
	char expires[CFT_RFC3339_SIZE];
	cft_error err;
	const char *v;
	cft_error_clear(&err);
	if (!(v = field(report, "minted")) || *v != '1' || !(v = field(report, "token_id")))
		return;
	snprintf(now.id, sizeof(now.id), "%.*s", (int)strcspn(v, "\n"), v);
	if ((v = field(report, "CFTOKEN_EXPIRES_ON"))) {
		snprintf(expires, sizeof(expires), "%.*s", (int)strcspn(v, "\n"), v);
		if (cft_time_parse_rfc3339(expires, &now.expires) != 0)
			now.expires = 0;
	}
	if (minted_record_swap(run_dir(j), j->pw->pw_uid, &now, &previous, &err) != CFT_OK) {
		fail(&err, "minted record");
		return;
	}
	if (!j->parent.token || !previous.id[0] || !cft_is_id(previous.id) ||
	    !strcmp(previous.id, now.id))
		return;
	cft_owner owner = cft_profile_token_owner(&j->policy.merged, j->account);
	cft_uncached t = { .expires = previous.expires, .user_owned = owner.account_id == NULL };
	snprintf(t.id, sizeof(t.id), "%s", previous.id);
	if (root_ledger(j)[0] && cft_uncached_note_at(j->replaced_ledger, &t, &err) == CFT_OK)
		say("debug: ", "token %s of %s is replaced: it lives out its expiry", t.id,
		    j->a.user);
	else
		(void)revoke_token(j, previous.id, 0, "a newer one replaces it");
}

/* After the user's part failed at the account's cap (cap=1), with the
 * admin's parent: root deletes early the tokens it replaced for the user,
 * which live out their expiry in its ledger, so that cftoken's own
 * leftovers never cost a login its token.  True when there is room now
 * and the user's part should run again. */
static bool make_room(job *j, char *report)
{
	const char *v = field(report, "cap");
	if (!v || *v != '1' || !j->parent.token)
		return false;
	cft_obtain o = root_ledger_obtain(j);
	/* Half the time left at most (a settle takes twice timeout_ms at
	 * most): the user's part runs again in the rest. */
	o.timeout_ms = left_ms(j) / 4 > 200 ? left_ms(j) / 4 : 200;
	unsigned deleted = root_ledger(j)[0] ? cft_obtain_settle_early(&o) : 0;
	if (!deleted) {
		say("", "token: the account holds as many API tokens as Cloudflare allows, and "
		    "none of them is a token of %s's that a renewal replaced: delete tokens the "
		    "account no longer needs", j->a.user);
		return false;
	}
	say("notice: ", "the account's token cap is reached: deleted %u token%s of %s that a "
	    "renewal replaced before %s expired; trying again", deleted, deleted == 1 ? "" : "s",
	    j->a.user, deleted == 1 ? "it" : "they");
	j->cap_retry = true;
	return true;
}

/* What the module (or the broker) hears: for open, the token_id and,
 * unless --no-export, the session's environment; for renew, the id. */
static int answer(const job *j, char *report)
{
	static const char *const open_names[] = { "token_id=", "CLOUDFLARE_API_TOKEN=",
						  "CLOUDFLARE_ACCOUNT_ID=", "CFTOKEN_EXPIRES_ON=" };
	size_t n_names = !strcmp(j->a.stage, "open") && !j->a.no_export ? 4 : 1;
	for (char *line = report; line && *line;) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		for (size_t i = 0; i < n_names; i++)
			if (!strncmp(line, open_names[i], strlen(open_names[i])) &&
			    write(STDOUT_FILENO, line, len) != (ssize_t)len)
				return EXIT_FAILED;
		line = end ? end + 1 : NULL;
	}
	return EXIT_DONE;
}

/* The child's copy of the admin's parent token, through a pipe: secrets
 * are mapped MADV_DONTFORK, so a fork never copies one by accident. */
static int receive_parent(job *j, int fd)
{
	j->parent.token = NULL;  /* the parent's mapping is not ours */
	if (cft_token_read_fd(fd, &j->parent.token, NULL) != CFT_OK)
		return usage("the parent token did not reach the user's part");
	return EXIT_DONE;
}

static void reap_user_part(job *j)
{
	while (j->user_part_pid > 0 && waitpid(j->user_part_pid, NULL, 0) < 0 && errno == EINTR)
		;
	j->user_part_pid = 0;
}

/* The status on the report's last line (user_part writes it last of
 * all), or -1 when the report does not end with one. */
static int reported_status(const char *report)
{
	size_t len = strlen(report);
	const char *last = len >= 2 ? report + len - 2 : report;
	while (last > report && last[-1] != '\n')
		last--;
	if (strncmp(last, "status=", 7) != 0)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(last + 7, &end, 10);
	if (errno || end == last + 7 || strcmp(end, "\n") != 0 || v < 0 || v > 255)
		return -1;
	return (int)v;
}

/* Runs the user's part in a child and collects its report in locked
 * memory. */
static int run_user_part(job *j, cft_secret *report)
{
	reap_user_part(j);
	int p[2], parent_pipe[2];
	if (pipe2(p, O_CLOEXEC) != 0 || pipe2(parent_pipe, O_CLOEXEC) != 0)
		return usage("pipe failed");
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return usage("fork failed");
	if (pid == 0) {
		close(p[0]);
		close(parent_pipe[1]);
		int status = receive_parent(j, parent_pipe[0]);
		_exit(status ? status : user_part(j, p[1]));
	}
	close(p[1]);
	close(parent_pipe[0]);
	/* A token is at most 80 bytes: the pipe takes it without blocking. */
	const cft_secret *t = j->parent.token;
	if (t && write(parent_pipe[1], cft_secret_str(t), cft_secret_len(t)) !=
			 (ssize_t)cft_secret_len(t))
		say("", "passing the parent token on: %s", strerror(errno));
	close(parent_pipe[1]);
	char *buf = cft_secret_buffer(report);
	size_t len = 0, cap = cft_secret_capacity(report) - 1;
	for (;;) {
		ssize_t n = read(p[0], buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap)
			break;
	}
	close(p[0]);
	cft_secret_set_len(report, len);
	/* The part's last line says how it ended: the answer need not wait
	 * for its exit (tearing down a forked copy of this process is time a
	 * login waits for).  It is reaped after the answer; a part that did
	 * not get as far as that line is waited for now. */
	int reported = reported_status(cft_secret_buffer(report));
	if (reported >= 0) {
		j->user_part_pid = pid;
		return reported;
	}
	int wstatus;
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : EXIT_FAILED;
}


/* "7d", "1h", "90m", "45s": the largest unit that divides seconds. */
static void format_duration(int64_t seconds, char *buf, size_t size)
{
	static const struct {
		int64_t s;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (seconds && seconds % units[i].s == 0) {
			snprintf(buf, size, "%lld%c", (long long)(seconds / units[i].s), units[i].unit);
			return;
		}
	snprintf(buf, size, "%llds", (long long)seconds);
}

/* The policy's ttl is a ceiling: a token asked to last longer (cftoken
 * exec --min-ttl, through the broker) is refused, not stretched. */
static int within_policy_ttl(const job *j)
{
	int64_t ttl = cft_profile_ttl(&j->cfg, &j->policy.merged);
	char asked[32], most[32];
	if (j->a.min_ttl <= ttl)
		return EXIT_DONE;
	format_duration(j->a.min_ttl, asked, sizeof(asked));
	format_duration(ttl, most, sizeof(most));
	say("", "a token that lasts %s was asked for, but the login policy of %s gives tokens "
		"of at most %s (ttl in %s)", asked, j->a.user, most, j->a.config);
	return EXIT_FAILED;
}

/* A runtime directory for a user who has none (see user_env). */
static void prepare_runtime_dir(job *j)
{
	char runtime[64];
	struct stat st;
	cft_error err;
	cft_error_clear(&err);
	snprintf(runtime, sizeof(runtime), "/run/user/%u", (unsigned)j->pw->pw_uid);
	if (stat(runtime, &st) == 0)
		return;
	if (user_runtime_dir(run_dir(j), j->pw->pw_uid, j->pw->pw_gid, j->runtime_dir,
			     sizeof(j->runtime_dir), &err) != CFT_OK) {
		j->runtime_dir[0] = '\0';
		say("debug: ", "no runtime directory for %s: %s", j->a.user, err.detail);
	}
}

/* What a sweep of root's notes keeps besides the token root recorded last:
 * the newest this many of those it replaced, which live out their expiry
 * (a login's tokens share one name a day, and a note sweeps them all). */
#define SWEEP_KEEP_MAX 64

/* Root's sweep, with the admin's parent, of every create root noted for
 * this user and nobody settled; the token root recorded last, and those
 * it replaced that live out their expiry, are kept. */
static cft_code sweep_root_notes(job *j, cft_error *err)
{
	_cleanup_client_ cft_client *c = NULL;
	minted_record recorded;
	cft_uncached replaced[SWEEP_KEEP_MAX];
	const char *keep[SWEEP_KEEP_MAX + 2];
	size_t n = 0, k = 0;
	unsigned deleted = 0;
	cft_client_options copts = { .api_url = j->api_url, .ca_file = j->cfg.ca_file,
				     .proxy = j->cfg.proxy, .timeout_ms = api_budget_ms(j) };
	minted_record_read(run_dir(j), j->pw->pw_uid, &recorded);
	if (recorded.id[0])
		keep[k++] = recorded.id;
	if (root_ledger(j)[0])
		cft_uncached_list_at(j->replaced_ledger, replaced, SWEEP_KEEP_MAX, &n);
	for (size_t i = 0; i < n; i++)
		keep[k++] = replaced[i].id;
	keep[k] = NULL;
	cft_code rc = cft_client_new(&copts, j->parent.token, &c, err);
	if (!rc)
		rc = root_orphans_sweep(&j->orphans, c, j->account, keep, &deleted, err);
	if (deleted)
		say("notice: ", "deleted %u token%s of %s that an unfinished create left behind",
		    deleted, deleted == 1 ? "" : "s", j->a.user);
	return rc;
}

/* Root's part before the user's, with the admin's parent: what earlier
 * creates may have left is swept, then this job's create is noted under
 * the name root gives the token (root_orphans.h).  Without the note no
 * create is made. */
static int note_create(job *j)
{
	const cft_profile *p = &j->policy.merged;
	cft_error err;
	bool user_owned = false;
	char why[256];
	cft_error_clear(&err);
	cft_code rc = root_orphans_load(&j->orphans, run_dir(j), j->pw->pw_uid, j->api_url, &err);
	if (!rc && j->orphans.n && sweep_root_notes(j, &err) != CFT_OK) {
		/* Kept for the next job: the API may be down for this one too. */
		say("debug: ", "what an earlier create may have left is not swept yet: %s",
		    err.detail);
		cft_error_clear(&err);
	}
	if (cft_profile_owner(p, &user_owned, why, sizeof(why), NULL) != CFT_OK)
		user_owned = false;  /* the user's part fails on it before any create */
	j->create.since = time(NULL);
	j->create.user_owned = user_owned;
	cft_token_name_for(p->name_template ? p->name_template : j->cfg.name_template, p->name,
			   j->pw->pw_name, j->create.since, j->create.name, sizeof(j->create.name));
	if (!rc)
		rc = root_orphans_begin(&j->orphans, &j->create, &err);
	return rc ? fail(&err, "noting the create") : EXIT_DONE;
}

/* Root's part after the answer, when its key of the policy's permission
 * groups lacked a name and the user's part minted (so it fetched them):
 * root fetches them with the admin's parent and keeps them, so the next
 * login's create is its only request. */
static void refresh_groups(job *j, char *report)
{
	_cleanup_client_ cft_client *c = NULL;
	cft_error err;
	const char *v = field(report, "minted");
	cft_error_clear(&err);
	if (!j->groups.refresh || !v || *v != '1' || left_ms(j) < 1500)
		return;
	cft_client_options copts = { .api_url = j->api_url, .ca_file = j->cfg.ca_file,
				     .proxy = j->cfg.proxy, .timeout_ms = api_budget_ms(j) };
	cft_code rc = cft_client_new(&copts, j->parent.token, &c, &err);
	if (!rc)
		rc = root_groups_refresh(&j->groups, c, &j->cfg, &j->policy.merged, j->account,
					 &err);
	if (rc)
		say("debug: ", "root keeps no permission groups for the policy of %s: %s",
		    j->a.user, err.detail);
}

/* Root's part after the user's: the note of this job's create goes when
 * the user's part said, last, that nothing can be left behind.  Else root
 * sweeps now, if the deadline leaves time, or before the user's next mint. */
static void settle_create(job *j, char *report)
{
	cft_error err;
	cft_error_clear(&err);
	const char *v = field(report, "unswept");
	if (v && v[0] == '0' && v[1] == '\n') {
		if (root_orphans_settle(&j->orphans, &err) != CFT_OK)
			fail(&err, "settling the note of the create");
		return;
	}
	if (left_ms(j) < 1500) {
		say("debug: ", "the create of %s may have left a token: swept at the next mint",
		    j->a.user);
		return;
	}
	if (sweep_root_notes(j, &err) != CFT_OK)
		fail(&err, "a token the create may have left is not swept yet");
}

/* Whether there is work after the answer: with the admin's parent, in
 * root's ledger; on a personal machine, as the user's part said (tidy=).
 * early: the last session's close, when every token listed goes. */
static bool work_after(job *j, char *report, bool early)
{
	const char *v = field(report, "tidy");
	if (!j->admin_parent)
		return v && *v == '1';
	if (!root_ledger(j)[0])
		return false;
	cft_obtain o = root_ledger_obtain(j);
	return early ? cft_uncached_any_due_at(j->replaced_ledger, (time_t)LLONG_MAX)
		     : cft_obtain_tidy_due(&o);
}

/* The detached process: the ledger's expired tokens deleted (or, early,
 * all of them), as root with the admin's parent token read anew, or as
 * the user with their own.  Its own deadline: the worker's timeout again,
 * and an alarm past it in case anything hangs. */
static void run_detached(job *j, bool early) __attribute__((noreturn));
static void run_detached(job *j, bool early)
{
	/* None of the module's pipes (stdout, stderr, the log records), nor
	 * the job lock: the module waits for their other ends, the next login
	 * for the lock.  Whatever cannot be let go, the work is left to the
	 * next login. */
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++)
		if (null_fd < 0 || dup2(null_fd, fd) < 0)
			_exit(0);
	close_range(3, ~0U, 0);
	/* Out of the process group the module kills at its deadline. */
	setsid();
	detached = true;
	log_fd = -1;
	openlog("cftoken-pam-worker", LOG_PID, LOG_AUTHPRIV);
	j->deadline = cft_now_ms() + j->a.timeout_ms;
	alarm((unsigned)(3 * j->a.timeout_ms / 1000) + 10);
	/* Secrets are mapped MADV_DONTFORK: the admin's parent token did not
	 * come along, and is read anew. */
	j->parent.token = NULL;
	int status = j->admin_parent ? read_admin_parent(j) : enter_user(j);
	if (!status) {
		cft_obtain o = j->admin_parent ? root_ledger_obtain(j) : job_obtain(j);
		if (!early) {
			cft_obtain_tidy(&o);
		} else {
			unsigned deleted = cft_obtain_settle_early(&o);
			if (deleted)
				say("notice: ", "deleted %u token%s of %s that renewals replaced: the "
				    "last session ended", deleted, deleted == 1 ? "" : "s", j->a.user);
		}
	}
	cft_parent_clear(&j->parent);
	j->l2 = cft_l2_close(j->l2);
	_exit(0);
}

/* The work after the answer (issue 17: one request before the token is
 * handed over) in a process the module does not wait for: it has left
 * the module's process group (setsid), holds none of its pipes, and is
 * nobody's zombie (its parent exits at once, init reaps it). */
static void tidy_detached(job *j, bool early)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0)
			run_detached(j, early);
		_exit(0);
	}
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int run(int argc, char **argv)
{
	job j = { 0 };
	int status, last = 0, job_lock = -1;
	bool after = false;
	_cleanup_secret_ cft_secret *report = NULL;

	/* This process holds the parent token: no core dumps, no ptrace. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
	/* API answers carry token values: wiped when jansson frees them. */
	json_set_alloc_funcs(malloc, cft_json_wiping_free);

	char why[128];
	if (helper_args_parse(argc, argv, &j.a, why, sizeof(why)) != 0)
		return usage(why);
	debug_on = j.a.debug;
	log_fd = j.a.log_fd;
	/* This process and its child write to it; nothing they might exec. */
	if (log_fd >= 0)
		fcntl(log_fd, F_SETFD, FD_CLOEXEC);
	cft_set_log_handler(library_says, NULL);
	/* The caller's own deadline when it gave one: counting timeout_ms
	 * from here would start late by the time we took to start. */
	j.deadline = cft_now_ms() + j.a.timeout_ms;
	if (j.a.deadline_ms > 0 && j.a.deadline_ms < j.deadline)
		j.deadline = j.a.deadline_ms;
	cft_error init_err;
	if (cft_init(&init_err) != CFT_OK)
		return fail(&init_err, "cftoken-pam-worker");
	j.pw = getpwnam(j.a.user);
	if (!j.pw) {
		say("", "no such user: %s", j.a.user);
		return EXIT_FAILED;
	}
	status = read_policy(&j);
	/* Root reads the policy's bytes: the user may not be able to. */
	cft_login_route_fingerprint(j.a.config, j.pw->pw_uid, j.login_route);
	if (!status)
		status = sessions(&j, &last);
	if (!status && !strcmp(j.a.stage, "close") && (!j.a.revoke_on_close || !last))
		goto out;
	if (!status)
		status = read_admin_parent(&j);
	if (!status && !strcmp(j.a.stage, "close"))
		minted_record_read(run_dir(&j), j.pw->pw_uid, &j.recorded);
	if (!status && !(report = cft_secret_alloc(4096)))
		status = usage("out of memory");
	if (!status) {
		/* Half the time left at most: the rest is this job's own, and
		 * the module must hear why it got no token before it stops us. */
		cft_error err;
		cft_error_clear(&err);
		int64_t now = cft_now_ms();
		if (job_lock_acquire(run_dir(&j), j.pw->pw_uid, now + (j.deadline - now) / 2,
				     &job_lock, &err) != CFT_OK)
			status = fail(&err, "waiting for the user's other login");
	}
	bool minting = !status && strcmp(j.a.stage, "close") != 0;
	if (minting)
		status = within_policy_ttl(&j);
	if (minting && !status)
		prepare_runtime_dir(&j);
	if (minting && !status && j.parent.token) {
		status = note_create(&j);
		root_groups_load(&j.groups, &j.cfg, &j.policy.merged, j.account, j.api_url);
	}
	if (!status)
		status = run_user_part(&j, report);
	if (status && minting && make_room(&j, cft_secret_buffer(report)))
		status = run_user_part(&j, report);
	if (!status && minting) {
		forget_previous(&j, cft_secret_buffer(report));
		status = answer(&j, cft_secret_buffer(report));
	} else if (!status) {
		/* The last session's token is revoked: nothing left to forget. */
		minted_record none = { 0 }, previous;
		minted_record_swap(run_dir(&j), j.pw->pw_uid, &none, &previous, NULL);
	}
	if (j.orphans.in_flight)
		settle_create(&j, cft_secret_buffer(report));
	if (!status && minting && j.parent.token)
		refresh_groups(&j, cft_secret_buffer(report));
	after = !status && work_after(&j, cft_secret_buffer(report), !minting);
out:
	reap_user_part(&j);
	cft_lock_release(job_lock);
	if (after)
		tidy_detached(&j, !minting);
	cft_parent_clear(&j.parent);
	root_groups_clear(&j.groups);
	j.l2 = cft_l2_close(j.l2);
	cft_config_clear(&j.cfg);
	return status;
}

/* run() lets go of what is ours (secrets wiped, locks released); the
 * libraries' exit handlers are skipped (core/quick_exit.h). */
int main(int argc, char **argv)
{
	cft_quick_exit(run(argc, argv));
}
