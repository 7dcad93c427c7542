/* exec, env and token: hand over the profile's token (obtain_token.c),
 * minting one when the cache has none that is fresh.  The front end
 * (warm.c) answered the warm cases before we were run; exec --proxy (and
 * a profile's proxy = true) is always ours: the program gets a stand-in
 * and the forwarder's URL (forwarder.h), never the token. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "after_handover.h"
#include "cli.h"
#include "obtain_token.h"
#include "proxied_run.h"
#include "config/profile.h"
#include "core/handover.h"
#include "mint/obtain.h"

/* exec, env and token: the named (or default) profile's token. */
static cft_code obtain_for_profile(const cli *c, bool exec, cft_l1_record *r,
				   after_handover *after, cft_error *err)
{
	const cft_profile *p = NULL;
	cft_error_clear(err);
	cft_code rc = cli_profile(c, &p, err);
	if (!rc)
		rc = cli_obtain(c, p, NULL, exec, r, after, err);
	return rc;
}

/* env and token: the answer is written and standard output closed (the
 * reader has it all) before the work after the hand-over. */
static int close_then_tidy(const cli *c, int status, after_handover *after, cft_l1_record *r)
{
	if (fclose(stdout) != 0 && status == EXIT_OK)
		status = EXIT_API;
	cli_after_handover(c, after, r);
	cft_l1_record_clear(r);
	return status;
}

/* exec under cache = none: the program runs as our child, and its token
 * is deleted when it exits.  Our exit status is the program's. */
static int exec_uncached(const cli *c, cft_l1_record *r, after_handover *run)
{
	char id[33];
	snprintf(id, sizeof(id), "%s", r->id);
	int status = cli_run_program(c->args, r);
	cli_delete_uncached(c, run, id);
	/* The program has ended: the work after the hand-over, here (no
	 * token to keep: cache none). */
	cli_after_handover(c, run, NULL);
	cli_exit_like(status);
}

/* exec --proxy: the program gets the forwarder's URL and stand-in, never
 * the token.  Our exit status is the program's. */
static int exec_proxied(const cli *c, cft_l1_record *r, after_handover *after)
{
	int status;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = cli_run_proxied(c, r, after, NULL, &status, &err);
	if (rc)
		return cli_fail("exec --proxy", rc, &err);
	cli_exit_like(status);
}

int cmd_exec(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_error err;
	if (c->n_args == 0) {
		fprintf(stderr, "cftoken: exec: name the program to run: cftoken exec -- PROGRAM\n");
		return EXIT_USAGE;
	}
	after_handover after = { 0 };
	cft_code rc = obtain_for_profile(c, true, &r, &after, &err);
	if (rc)
		return cli_fail("exec", rc, &err);
	if (c->forward || after.o.profile->proxy)
		return exec_proxied(c, &r, &after);
	if (after.uncached)
		return exec_uncached(c, &r, &after);
	cli_after_handover_detached(&after);
	int status = cft_handover_exec(c->args, &r, &err);
	fprintf(stderr, "cftoken: exec: %s\n", err.detail);
	return status;
}

int cmd_token(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_error err;
	if (c->n_args) {
		fprintf(stderr, "cftoken: token: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: token: not printing a token to a terminal; pipe it into "
			"the program that needs it, or give --force\n");
		return EXIT_USAGE;
	}
	after_handover after = { 0 };
	cft_code rc = obtain_for_profile(c, false, &r, &after, &err);
	if (rc)
		return cli_fail("token", rc, &err);
	int status = cli_print_value(c, r.token);
	return close_then_tidy(c, status, &after, &r);
}

int cmd_env(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_env_format format = CFT_ENV_SH;
	cft_error err;
	if (c->format && cft_env_format_parse(c->format, &format) != 0) {
		fprintf(stderr, "cftoken: env: --format %.20s: use sh, fish or json\n", c->format);
		return EXIT_USAGE;
	}
	if (c->n_args) {
		fprintf(stderr, "cftoken: env: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: env: not printing a token to a terminal; use "
			"eval \"$(cftoken env)\", or give --force\n");
		return EXIT_USAGE;
	}
	after_handover after = { 0 };
	cft_code rc = obtain_for_profile(c, false, &r, &after, &err);
	if (rc)
		return cli_fail("env", rc, &err);
	int status = cft_handover_env(stdout, format, &r) ? EXIT_API : EXIT_OK;
	return close_then_tidy(c, status, &after, &r);
}
