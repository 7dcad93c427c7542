/* cftoken, the front end: answers a warm get, exec or env from the kernel
 * keyring and hands everything else to cftoken-backend.
 *
 * This program links only libc and libkeyutils (DESIGN.md, "The warm
 * path"): a hit costs two keyring searches and two reads, no configuration
 * parsing (the request's fingerprint names the route), no libcurl, no GLib.
 * It understands only the options that decide a hit; anything else, every
 * miss and every other command is the backend's, run with the same
 * arguments and, for `get`, the same standard input. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "gitcred.h"
#include "handover.h"
#include "l1.h"
#include "timeutil.h"

#define BACKEND_NAME "cftoken-backend"

typedef struct front {
	const char *command;
	int command_index;
	int exec_index;              /* exec: where the program's argv starts */
	cft_request rq;
	long min_ttl;
	cft_env_format format;
	bool force;
} front;

/* The backend beside this program (a build tree), else the installed one. */
static void backend_path(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			int w = snprintf(buf, size, "%s/%s", self, BACKEND_NAME);
			if (w > 0 && (size_t)w < size && access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "%s/%s", CFTOKEN_LIBEXECDIR, BACKEND_NAME);
}

/* Never returns. */
static void hand_off(char **argv, cft_secret *input)
{
	char path[PATH_MAX];

	if (input) {
		/* The backend reads the request we already consumed. */
		int fd = memfd_create("cftoken-request", MFD_CLOEXEC);
		if (fd < 0 ||
		    write(fd, cft_secret_str(input), cft_secret_len(input)) !=
			    (ssize_t)cft_secret_len(input) ||
		    lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, STDIN_FILENO) < 0) {
			fprintf(stderr, "cftoken: passing the request on: %s\n", strerror(errno));
			exit(1);
		}
		close(fd);
		cft_secret_free(input);
	}
	backend_path(path, sizeof(path));
	execv(path, argv);
	fprintf(stderr, "cftoken: cannot run %s: %s\n", path, strerror(errno));
	exit(1);
}

static const char *option_value(char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && argv[*i + 1])
		return argv[++*i];
	return NULL;
}

/* Returns false when anything is beyond what the warm path decides. */
static bool parse(int argc, char **argv, front *f)
{
	const char *v;
	int64_t seconds;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (f->command && !strcmp(f->command, "exec") && (!strcmp(a, "--") || a[0] != '-')) {
			f->exec_index = !strcmp(a, "--") ? i + 1 : i;
			return f->exec_index < argc;
		}
		if (a[0] != '-') {
			if (f->command)
				return false;  /* get and env take no arguments */
			f->command = a;
			f->command_index = i;
		} else if ((v = option_value(argv, &i, "--profile"))) {
			f->rq.profile = v;
		} else if ((v = option_value(argv, &i, "--min-ttl"))) {
			if (cft_duration_parse(v, &seconds) != 0 || seconds > LONG_MAX)
				return false;
			f->min_ttl = (long)seconds;
		} else if ((v = option_value(argv, &i, "--format"))) {
			if (cft_env_format_parse(v, &f->format) != 0)
				return false;
		} else if (!strcmp(a, "--force")) {
			f->force = true;
		} else {
			return false;
		}
	}
	return f->command && (!strcmp(f->command, "get") || !strcmp(f->command, "env"));
}

int main(int argc, char **argv)
{
	front f = { .format = CFT_ENV_SH };
	cft_secret *input = NULL;
	cft_gitcred cred = { 0 };
	cft_l1_record r = { 0 };
	cft_error err;
	char fp[CFT_FP_HEX];

	/* This process may hold a token: no core dumps, no ptrace. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	const char *cache = secure_getenv("CFTOKEN_CACHE");
	if (!parse(argc, argv, &f) || (cache && !strcmp(cache, "none")))
		hand_off(argv, NULL);
	if (!strcmp(f.command, "env") && isatty(STDOUT_FILENO) && !f.force)
		hand_off(argv, NULL);  /* the backend explains the refusal */

	cft_error_clear(&err);
	if (!strcmp(f.command, "get")) {
		if (cft_gitcred_read_input(STDIN_FILENO, &input, &err) != CFT_OK ||
		    cft_gitcred_parse(cft_secret_str(input), cft_secret_len(input), &cred, &err) !=
			    CFT_OK)
			hand_off(argv, input);  /* the backend reports the same error */
		f.rq.git_protocol = cred.protocol;
		f.rq.git_host = cred.host;
		f.rq.git_path = cred.path;
	}
	cft_request_fingerprint(&f.rq, fp);
	if (cft_l1_lookup(fp, &r, &err) != CFT_OK || !cft_l1_fresh(&r, time(NULL), f.min_ttl)) {
		cft_l1_record_clear(&r);
		cft_gitcred_clear(&cred);
		hand_off(argv, input);
	}
	cft_gitcred_clear(&cred);
	cft_secret_free(input);

	int status = 0;
	if (!strcmp(f.command, "get"))
		status = cft_handover_git(stdout, &r) ? 1 : 0;
	else if (!strcmp(f.command, "env"))
		status = cft_handover_env(stdout, f.format, &r) ? 1 : 0;
	else
		status = cft_handover_exec(argv + f.exec_index, &r);
	cft_l1_record_clear(&r);
	return status;
}
