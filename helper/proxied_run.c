/* cli_run_proxied: the forwarder serves while the program runs, and
 * renews the token for it; the token it retires under cache = none is
 * deleted. */
#include "proxied_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "after_handover.h"
#include "forwarder.h"
#include "config/profile.h"
#include "core/handover.h"
#include "mint/obtain.h"

void cli_delete_uncached(const cli *c, after_handover *run, const char *id)
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
	cli_delete_uncached(p->c, after, id);
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

cft_code cli_run_proxied(const cli *c, cft_l1_record *r, after_handover *after,
			 const proxied_hooks *hooks, int *status, cft_error *err)
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
			   .idle_ms = c->proxy_idle_ms,
			   .profile = profile->name, .permissions = names,
			   .n_permissions = n_names,
			   .record = hooks ? hooks->record : NULL,
			   .record_ctx = hooks ? hooks->record_ctx : NULL };
	forwarder *f = NULL;
	cft_token_environ env;
	cft_code rc = fwd_listen(&fo, &f, err);
	if (!rc && cft_proxy_environ_build(fwd_stand_in(f), r->account, fwd_base_url(f), &env))
		rc = cft_fail(err, CFT_E_NOMEM, NULL);
	if (rc) {
		char id[33];
		snprintf(id, sizeof(id), "%s", r->id);
		fwd_free(f);
		cft_l1_record_clear(r);
		if (after->uncached)
			cli_delete_uncached(c, after, id);
		cli_after_handover(c, after, NULL);
		return rc;
	}
	if (c->verbose)
		fprintf(stderr, "cftoken: exec --proxy: %s forwards to %s\n", fwd_base_url(f),
			cli_api_url(c));
	proxied p = { .c = c, .f = f, .env = &env, .r = r, .after = after };
	*status = cli_run_child(c->args, env.envp, serve_program, &p);
	fwd_free(f);
	return CFT_OK;
}
