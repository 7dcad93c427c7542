/* exec, env and token: hand over the profile's token (obtain_token.c),
 * minting one when the cache has none that is fresh.  The front end
 * (warm.c) answered the warm cases before we were run; exec --proxy (and
 * a profile's proxy = true) is always ours: the program gets a stand-in
 * and the forwarder's URL (forwarder.h), never the token. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "after_handover.h"
#include "cli.h"
#include "forwarder.h"
#include "obtain_token.h"
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

/* The token minted for exec under cache = none, once its program has
 * ended. */
static void delete_uncached(const cli *c, after_handover *run, const char *id)
{
	cft_error err;
	cft_error_clear(&err);
	if (cft_obtain_delete_uncached(&run->o, id, &err) != CFT_OK) {
		char msg[1024];
		cft_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "cftoken: warning: token %s was not deleted (%s); the next "
			"uncached request of profile %s deletes it once it has expired\n", id, msg,
			run->o.profile->name);
	} else if (c->verbose) {
		fprintf(stderr, "cftoken: token %s deleted\n", id);
	}
}

/* exec under cache = none: the program runs as our child, and its token
 * is deleted when it exits.  Our exit status is the program's. */
static int exec_uncached(const cli *c, cft_l1_record *r, after_handover *run)
{
	char id[33];
	snprintf(id, sizeof(id), "%s", r->id);
	int status = cli_run_program(c->args, r);
	delete_uncached(c, run, id);
	/* The program has ended: the work after the hand-over, here (no
	 * token to keep: cache none). */
	cli_after_handover(c, run, NULL);
	cli_exit_like(status);
}

typedef struct proxied {
	const cli *c;
	forwarder *f;
	cft_token_environ *env;
	cft_l1_record *r;
	after_handover *after;
} proxied;

/* The forwarder's token is due: a fresh one, obtained as exec obtains
 * one (on a forwarder thread; requests go on with the current token
 * meanwhile).  A token minted under cache = none is kept, with what
 * deletes it, until no request uses it (retire_token). */
static cft_code renew_token(void *ctx, cft_l1_record *out, void **handle, cft_error *err)
{
	proxied *p = ctx;
	after_handover *after = calloc(1, sizeof(*after));
	if (!after)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	cft_code rc = cli_obtain(p->c, p->after->o.profile, NULL, true, out, after, err);
	if (!rc && p->c->verbose)
		fprintf(stderr, "cftoken: exec --proxy: requests from now on carry token %s\n",
			out->id);
	if (!rc && after->uncached) {
		*handle = after;
		return CFT_OK;
	}
	if (!rc)
		cli_after_handover(p->c, after, NULL);
	free(after);
	return rc;
}

/* A token minted under cache = none that no request carries any more:
 * deleted, and the work after its hand-over done. */
static void retire_token(void *ctx, void *handle, const char *id)
{
	proxied *p = ctx;
	after_handover *after = handle;
	delete_uncached(p->c, after, id);
	cli_after_handover(p->c, after, NULL);
	if (after != p->after)
		free(after);
}

/* The program runs: the forwarder starts serving (its threads start only
 * now, after the fork), the token leaves the record for the forwarder's
 * copy, and the work after the hand-over runs here meanwhile. */
static void serve_program(void *ctx, pid_t pid)
{
	proxied *p = ctx;
	fwd_source src = { .renew = renew_token, .retire = retire_token, .ctx = p };
	cft_error err;
	cft_error_clear(&err);
	cft_token_environ_clear(p->env);
	/* Served even when the program did not start: the forwarder's end
	 * retires the token (deletes it under cache = none). */
	if (fwd_serve(p->f, p->r, p->after->uncached ? p->after : NULL, &src, &err) != CFT_OK &&
	    pid > 0) {
		fprintf(stderr, "cftoken: exec --proxy: %s; stopping %s\n", err.detail,
			p->c->args[0]);
		kill(pid, SIGTERM);
	}
	cft_l1_record_clear(p->r);
	if (!p->after->uncached)
		cli_after_handover(p->c, p->after, NULL);
}

/* exec --proxy: the program gets the forwarder's URL and stand-in, never
 * the token; cftoken stays its parent, and the forwarder serves until
 * the program exits, renewing the token when it is due.  Our exit status
 * is the program's. */
static int exec_proxied(const cli *c, cft_l1_record *r, after_handover *after)
{
	const cft_profile *profile = after->o.profile;
	const char *names[CFT_PROFILE_MAX_NAMES];
	size_t n_names = 0;
	/* For the forwarder's line on a refused request; a profile without
	 * names was refused before it got here. */
	if (cft_profile_permissions(profile, names, CFT_PROFILE_MAX_NAMES, &n_names, NULL))
		n_names = 0;
	fwd_options fo = { .api_url = cli_api_url(c), .ca_file = c->ca_file,
			   .proxy = c->cfg->proxy, .connect_ms = c->timeout_ms,
			   .profile = profile->name, .permissions = names,
			   .n_permissions = n_names };
	forwarder *f = NULL;
	cft_token_environ env;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = fwd_listen(&fo, &f, &err);
	if (!rc && cft_proxy_environ_build(fwd_stand_in(f), r->account, fwd_base_url(f), &env))
		rc = cft_fail(&err, CFT_E_NOMEM, NULL);
	if (rc) {
		char id[33];
		snprintf(id, sizeof(id), "%s", r->id);
		fwd_free(f);
		cft_l1_record_clear(r);
		if (after->uncached)
			delete_uncached(c, after, id);
		cli_after_handover(c, after, NULL);
		return cli_fail("exec --proxy", rc, &err);
	}
	if (c->verbose)
		fprintf(stderr, "cftoken: exec --proxy: %s forwards to %s\n", fwd_base_url(f),
			cli_api_url(c));
	proxied p = { .c = c, .f = f, .env = &env, .r = r, .after = after };
	int status = cli_run_child(c->args, env.envp, serve_program, &p);
	fwd_free(f);
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
