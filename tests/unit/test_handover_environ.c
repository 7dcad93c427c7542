/* The environment exec hands a token over in: the process's own, with the
 * three hand-over variables set to the token's (replacing what was there,
 * once each), built without touching the process's own environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "core/handover.h"
#include "core/secret.h"

extern char **environ;

static int count(char **envp, const char *prefix, const char **value)
{
	int n = 0;
	for (char **p = envp; *p; p++)
		if (!strncmp(*p, prefix, strlen(prefix))) {
			n++;
			*value = *p + strlen(prefix);
		}
	return n;
}

int main(void)
{
	cft_l1_record r = { 0 };
	r.token = cft_secret_new("the-token-value", 15);
	snprintf(r.account, sizeof(r.account), "%s", "0123456789abcdef0123456789abcdef");
	r.expires = 1800000000;  /* 2027-01-15T08:00:00Z */
	setenv("CLOUDFLARE_API_TOKEN", "an-older-token", 1);
	setenv("CFTOKEN_TEST_KEPT", "yes", 1);
	unsetenv("CLOUDFLARE_ACCOUNT_ID");
	unsetenv("CFTOKEN_EXPIRES_ON");
	int before = 0;
	for (char **p = environ; *p; p++)
		before++;

	cft_token_environ e;
	tap_is_int(cft_token_environ_build(&r, &e), 0, "the environment is built");
	const char *v = NULL;
	tap_is_int(count(e.envp, "CLOUDFLARE_API_TOKEN=", &v), 1, "it holds CLOUDFLARE_API_TOKEN once");
	tap_is_str(v, "the-token-value", "... with the token's value, not the older one");
	tap_is_int(count(e.envp, "CLOUDFLARE_ACCOUNT_ID=", &v), 1, "CLOUDFLARE_ACCOUNT_ID once");
	tap_is_str(v, "0123456789abcdef0123456789abcdef", "... the record's account");
	tap_is_int(count(e.envp, "CFTOKEN_EXPIRES_ON=", &v), 1, "CFTOKEN_EXPIRES_ON once");
	tap_is_str(v, "2027-01-15T08:00:00Z", "... the expiry in RFC 3339");
	tap_is_int(count(e.envp, "CFTOKEN_TEST_KEPT=", &v), 1, "the rest of the environment is kept");
	int after = 0;
	for (char **p = e.envp; *p; p++)
		after++;
	tap_is_int(after, before + 2, "one entry more for each of the two variables that were not set");
	tap_is_str(getenv("CLOUDFLARE_API_TOKEN"), "an-older-token",
		   "the process's own environment is untouched");
	tap_ok(getenv("CFTOKEN_EXPIRES_ON") == NULL, "... and gains nothing");
	char *token_entry = e.vars[0];
	cft_token_environ_clear(&e);
	tap_ok(e.envp == NULL && e.vars[0] == NULL && token_entry != NULL, "clear frees it all");

	/* exec --proxy's: the stand-in and the forwarder's URL replace what
	 * was there; no expiry at all. */
	setenv("CLOUDFLARE_API_BASE_URL", "https://api.example/client/v4", 1);
	setenv("CFTOKEN_EXPIRES_ON", "2020-01-01T00:00:00Z", 1);
	cft_secret *stand_in = cft_secret_new("a-stand-in", 10);
	tap_is_int(cft_proxy_environ_build(stand_in, r.account, "http://127.0.0.1:4242/client/v4",
					   &e), 0, "the --proxy environment is built");
	tap_is_int(count(e.envp, "CLOUDFLARE_API_TOKEN=", &v), 1, "it holds CLOUDFLARE_API_TOKEN once");
	tap_is_str(v, "a-stand-in", "... the stand-in");
	tap_is_int(count(e.envp, "CLOUDFLARE_API_BASE_URL=", &v), 1,
		   "CLOUDFLARE_API_BASE_URL once");
	tap_is_str(v, "http://127.0.0.1:4242/client/v4", "... the forwarder's");
	tap_is_int(count(e.envp, "CFTOKEN_EXPIRES_ON=", &v), 0, "no CFTOKEN_EXPIRES_ON, not even ours");
	cft_token_environ_clear(&e);
	cft_secret_free(stand_in);
	unsetenv("CLOUDFLARE_API_BASE_URL");
	unsetenv("CFTOKEN_EXPIRES_ON");

	/* A program that cannot run: the shell's status, and why. */
	char program[] = "/nonexistent/cftoken-test-program";
	char *argv[] = { program, NULL };
	cft_error err;
	cft_error_clear(&err);
	tap_is_int(cft_handover_exec(argv, &r, &err), 127, "exec of a missing program: 127");
	tap_ok(strstr(err.detail, "cannot run /nonexistent/cftoken-test-program") != NULL,
	       "saying which program could not run (%s)", err.detail);
	tap_ok(r.token == NULL, "and the record's token is wiped and freed");
	return tap_done();
}
