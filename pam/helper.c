/* cftoken-pam-helper: what pam_cftoken.so runs.  A warm login is answered
 * here; everything else is cftoken-pam-worker's, run with the same
 * arguments (DESIGN.md, "The warm path": this program links only libc and
 * libkeyutils, so a login whose token is cached costs a few milliseconds,
 * not the 17 ms it takes just to load libcurl and GLib).
 *
 * Warm means: an open whose user has a fresh token under the route that
 * the worker stored at the last mint, named by the policy file's bytes
 * (cft_login_route_fingerprint): a changed policy misses.  The policy
 * file is checked as the worker checks it; the keyring is read in a child
 * that became the user.  revoke_on_close logins go to the worker, which
 * keeps the session records. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "helper_args.h"
#include "log_record.h"
#include "cache/cache.h"
#include "cache/keyring.h"
#include "cache/l1.h"
#include "core/timeutil.h"
#include "core/trusted_file.h"

static int log_fd = -1;

static void to_worker(char **argv) __attribute__((noreturn));
static void to_worker(char **argv)
{
	char path[PATH_MAX], self[PATH_MAX], why[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
	/* Next to this program (the build tree, or libexecdir). */
	if (slash)
		*slash = '\0';
	if (!slash || snprintf(path, sizeof(path), "%s/" PAM_WORKER_NAME, self) >= (int)sizeof(path))
		snprintf(path, sizeof(path), "%s/" PAM_WORKER_NAME, CFTOKEN_LIBEXECDIR);
	argv[0] = (char *)PAM_WORKER_NAME;
	/* (log_fd has no FD_CLOEXEC: the worker writes its records there) */
	execv(path, argv);
	snprintf(why, sizeof(why), "cannot run %s: %s", path, strerror(errno));
	log_record_say(log_fd, LOG_ERR, why);
	exit(EXIT_FAILED);
}

/* The child's part: become the user, read the route, report. */
static int look(const struct passwd *pw, const char *fp, int exported, int fd)
{
	cft_l1_record r = { 0 };
	char route_to[CFT_KEY_DESC_MAX], expires[CFT_RFC3339_SIZE];
	if (geteuid() == 0 && pw->pw_uid != 0 &&
	    (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	     setuid(pw->pw_uid) != 0 || setuid(0) == 0))
		return 1;
	if (geteuid() != pw->pw_uid)
		return 1;
	if (cft_keyring_new_session(NULL) != CFT_OK ||
	    cft_cache_lookup_route(fp, NULL, &r, route_to, NULL, NULL) != CFT_OK)
		return 1;
	int status = 1;
	if (cft_l1_fresh(&r, time(NULL), 0)) {
		_cleanup_secret_ cft_secret *out = cft_secret_alloc(4096);
		cft_time_format_rfc3339(r.expires, expires);
		int n = out ? exported ? snprintf(cft_secret_buffer(out), 4096,
						 "token_id=%s\nCLOUDFLARE_API_TOKEN=%s\n"
						 "CLOUDFLARE_ACCOUNT_ID=%s\nCFTOKEN_EXPIRES_ON=%s\n",
						 r.id, cft_secret_str(r.token), r.account, expires)
				   : snprintf(cft_secret_buffer(out), 4096, "token_id=%s\n", r.id)
			  : -1;
		if (n > 0 && n < 4096 && write(fd, cft_secret_buffer(out), (size_t)n) == n)
			status = 0;
	}
	cft_l1_record_clear(&r);
	return status;
}

/* 0 with the answer in out when warm; otherwise the worker's turn. */
static int warm(const args *a, cft_secret *out)
{
	struct passwd *pw = getpwnam(a->user);
	char fp[CFT_FP_HEX];
	int p[2];
	if (!pw || cft_check_trusted_file(a->config, "configuration", NULL) != CFT_OK)
		return -1;
	cft_login_route_fingerprint(a->config, pw->pw_uid, fp);
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(look(pw, fp, !a->no_export, p[1]));
	}
	close(p[1]);
	size_t len = 0, cap = cft_secret_capacity(out) - 1;
	char *buf = cft_secret_buffer(out);
	for (ssize_t n; pid > 0 && len < cap && (n = read(p[0], buf + len, cap - len)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	int wstatus = 0;
	while (pid > 0 && waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	cft_secret_set_len(out, len);
	return pid > 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && len ? 0 : -1;
}

int main(int argc, char **argv)
{
	args a;
	char why[128];

	/* The token may pass through: no core dumps, no ptrace. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);

	if (helper_args_parse(argc, argv, &a, why, sizeof(why)) != 0)
		to_worker(argv);  /* which reports a bad command line itself */
	log_fd = a.log_fd;
	if (helper_hands_on(a.stage, a.revoke_on_close))
		to_worker(argv);
	cft_secret *out = cft_secret_alloc(4096);
	if (!out || warm(&a, out) != 0) {
		cft_secret_free(out);
		to_worker(argv);
	}
	if (a.debug) {
		char line[512];
		snprintf(line, sizeof(line), "the login token of %s is cached: no API call", a.user);
		log_record_say(log_fd, LOG_DEBUG, line);
	}
	ssize_t n = write(STDOUT_FILENO, cft_secret_str(out), cft_secret_len(out));
	int status = n == (ssize_t)cft_secret_len(out) ? EXIT_DONE : EXIT_FAILED;
	cft_secret_free(out);
	return status;
}
