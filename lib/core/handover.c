#include "core/handover.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timeutil.h"

int cft_env_format_parse(const char *name, cft_env_format *out)
{
	if (!strcmp(name, "sh"))
		*out = CFT_ENV_SH;
	else if (!strcmp(name, "fish"))
		*out = CFT_ENV_FISH;
	else if (!strcmp(name, "json"))
		*out = CFT_ENV_JSON;
	else
		return -1;
	return 0;
}

static int finish(FILE *out)
{
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int cft_handover_git(FILE *out, const cft_l1_record *r)
{
	/* Token characters are [A-Za-z0-9_-]: nothing to escape. */
	fprintf(out, "username=%s\npassword=%s\npassword_expiry_utc=%lld\n", r->account,
		cft_secret_str(r->token), (long long)r->expires);
	return finish(out);
}

int cft_handover_env(FILE *out, cft_env_format format, const cft_l1_record *r)
{
	char expires[CFT_RFC3339_SIZE];
	const char *tok = cft_secret_str(r->token);
	cft_time_format_rfc3339(r->expires, expires);
	switch (format) {
	case CFT_ENV_SH:
		fprintf(out, "export CLOUDFLARE_API_TOKEN='%s'\nexport CLOUDFLARE_ACCOUNT_ID='%s'\n"
			"export CFTOKEN_EXPIRES_ON='%s'\n", tok, r->account, expires);
		break;
	case CFT_ENV_FISH:
		fprintf(out, "set -gx CLOUDFLARE_API_TOKEN '%s';\nset -gx CLOUDFLARE_ACCOUNT_ID '%s';\n"
			"set -gx CFTOKEN_EXPIRES_ON '%s';\n", tok, r->account, expires);
		break;
	case CFT_ENV_JSON:
		fprintf(out, "{\"CLOUDFLARE_API_TOKEN\": \"%s\", \"CLOUDFLARE_ACCOUNT_ID\": \"%s\", "
			"\"CFTOKEN_EXPIRES_ON\": \"%s\"}\n", tok, r->account, expires);
		break;
	}
	return finish(out);
}

/* NAME=VALUE in a new string; NULL when out of memory. */
static char *assignment(const char *name, const char *value)
{
	size_t n = strlen(name) + 1 + strlen(value) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s=%s", name, value);
	return s;
}

/* Whether our environment's entry is one of the three set (or an
 * expiry that would not be the program's token's). */
static bool is_handed_over(const char *entry, const char *const names[3])
{
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(names[i]);
		if (!strncmp(entry, names[i], n) && entry[n] == '=')
			return true;
	}
	return !strncmp(entry, "CFTOKEN_EXPIRES_ON=", 19);
}

/* Our environment with the three names set to the values; vars[0] the
 * first, which holds the secret. */
static int environ_with(const char *const names[3], const char *const values[3],
			cft_token_environ *out)
{
	extern char **environ;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (char **e = environ; e && *e; e++)
		n++;
	out->envp = calloc(n + 4, sizeof(*out->envp));
	for (size_t i = 0; i < 3; i++)
		out->vars[i] = assignment(names[i], values[i]);
	if (!out->envp || !out->vars[0] || !out->vars[1] || !out->vars[2]) {
		cft_token_environ_clear(out);
		errno = ENOMEM;
		return -1;
	}
	size_t k = 0;
	for (char **e = environ; e && *e; e++)
		if (!is_handed_over(*e, names))
			out->envp[k++] = *e;
	for (size_t i = 0; i < 3; i++)
		out->envp[k++] = out->vars[i];
	return 0;
}

int cft_token_environ_build(const cft_l1_record *r, cft_token_environ *out)
{
	static const char *const names[3] = { "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID",
					      "CFTOKEN_EXPIRES_ON" };
	char expires[CFT_RFC3339_SIZE];
	cft_time_format_rfc3339(r->expires, expires);
	const char *const values[3] = { cft_secret_str(r->token), r->account, expires };
	return environ_with(names, values, out);
}

int cft_proxy_environ_build(const cft_secret *stand_in, const char *account,
			    const char *base_url, cft_token_environ *out)
{
	static const char *const names[3] = { "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID",
					      "CLOUDFLARE_API_BASE_URL" };
	const char *const values[3] = { cft_secret_str(stand_in), account, base_url };
	return environ_with(names, values, out);
}

void cft_token_environ_clear(cft_token_environ *e)
{
	if (e->vars[0])
		explicit_bzero(e->vars[0], strlen(e->vars[0]));
	for (size_t i = 0; i < 3; i++)
		free(e->vars[i]);
	free(e->envp);
	memset(e, 0, sizeof(*e));
}

int cft_handover_exec(char **argv, cft_l1_record *r, cft_error *err)
{
	cft_token_environ env;
	if (cft_token_environ_build(r, &env) != 0) {
		cft_fail(err, CFT_E_INTERNAL, "%s", strerror(errno));
		cft_l1_record_clear(r);
		return 126;
	}
	cft_l1_record_clear(r);
	int status = cft_handover_execvpe(argv, env.envp, err);
	cft_token_environ_clear(&env);
	return status;
}

int cft_handover_execvpe(char **argv, char **envp, cft_error *err)
{
	execvpe(argv[0], argv, envp);
	int e = errno;
	cft_fail(err, CFT_E_INVALID_ARG, "cannot run %s: %s", argv[0], strerror(e));
	return e == ENOENT ? 127 : 126;
}
