#include "core/handover.h"

#include <errno.h>
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

int cft_handover_setenv(const cft_l1_record *r)
{
	char expires[CFT_RFC3339_SIZE];
	cft_time_format_rfc3339(r->expires, expires);
	/* setenv copies the value into the environment block the new
	 * program receives: that copy is the hand-over itself. */
	if (setenv("CLOUDFLARE_API_TOKEN", cft_secret_str(r->token), 1) != 0 ||
	    setenv("CLOUDFLARE_ACCOUNT_ID", r->account, 1) != 0 ||
	    setenv("CFTOKEN_EXPIRES_ON", expires, 1) != 0)
		return -1;
	return 0;
}

void cft_handover_unsetenv(void)
{
	char *v = getenv("CLOUDFLARE_API_TOKEN");
	if (v)
		explicit_bzero(v, strlen(v));
	unsetenv("CLOUDFLARE_API_TOKEN");
}

int cft_handover_exec(char **argv, cft_l1_record *r, cft_error *err)
{
	if (cft_handover_setenv(r) != 0) {
		cft_fail(err, CFT_E_INTERNAL, "%s", strerror(errno));
		return 126;
	}
	cft_l1_record_clear(r);
	int status = cft_handover_execvp(argv, err);
	cft_handover_unsetenv();
	return status;
}

int cft_handover_execvp(char **argv, cft_error *err)
{
	execvp(argv[0], argv);
	int e = errno;
	cft_fail(err, CFT_E_INVALID_ARG, "cannot run %s: %s", argv[0], strerror(e));
	return e == ENOENT ? 127 : 126;
}
