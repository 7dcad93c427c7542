#include "warm_args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "core/timeutil.h"

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

bool warm_args_parse(int argc, char **argv, warm_args *w)
{
	const char *v;
	int64_t seconds;

	memset(w, 0, sizeof(*w));
	w->format = CFT_ENV_SH;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (w->command && !strcmp(w->command, "exec") && (!strcmp(a, "--") || a[0] != '-')) {
			w->exec_index = !strcmp(a, "--") ? i + 1 : i;
			return w->exec_index < argc;
		}
		if (a[0] != '-') {
			if (w->command)
				return false;  /* get and env take no arguments */
			w->command = a;
		} else if ((v = option_value(argv, &i, "--profile"))) {
			w->rq.profile = v;
		} else if ((v = option_value(argv, &i, "--min-ttl"))) {
			if (cft_duration_parse(v, &seconds) != 0 || seconds > LONG_MAX)
				return false;
			w->min_ttl = (long)seconds;
		} else if ((v = option_value(argv, &i, "--format"))) {
			if (cft_env_format_parse(v, &w->format) != 0)
				return false;
		} else if (!strcmp(a, "--force")) {
			w->force = true;
		} else {
			return false;
		}
	}
	return w->command && (!strcmp(w->command, "get") || !strcmp(w->command, "env"));
}

void warm_exec_sibling(const char *name, char **argv)
{
	char path[PATH_MAX], self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
	int w = -1;
	if (slash) {
		*slash = '\0';
		w = snprintf(path, sizeof(path), "%s/%s", self, name);
	}
	if (w < 0 || (size_t)w >= sizeof(path) || access(path, X_OK) != 0)
		snprintf(path, sizeof(path), "%s/%s", CFTOKEN_LIBEXECDIR, name);
	execv(path, argv);
	fprintf(stderr, "cftoken: cannot run %s: %s\n", path, strerror(errno));
	exit(1);
}

int warm_answer(const warm_args *w, char **argv, cft_l1_record *r)
{
	int status;
	if (!strcmp(w->command, "get"))
		status = cft_handover_git(stdout, r) ? 1 : 0;
	else if (!strcmp(w->command, "env"))
		status = cft_handover_env(stdout, w->format, r) ? 1 : 0;
	else {
		cft_error err;
		status = cft_handover_exec(argv + w->exec_index, r, &err);
		fprintf(stderr, "cftoken: exec: %s\n", err.detail);
	}
	cft_l1_record_clear(r);
	return status;
}
