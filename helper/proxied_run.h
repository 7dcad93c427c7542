/* A program run through exec --proxy's forwarder (forwarder.h), with the
 * token obtained for it: exec --proxy (cmd_exec.c) and learn
 * (cmd_learn.c).  Shared by the two, so it is neither's. */
#pragma once

#include "cli.h"
#include "obtain_token.h"

/* What learn adds: a record of every request passed on (fwd_options'
 * record).  NULL members: nothing. */
typedef struct proxied_hooks {
	void (*record)(void *ctx, const char *method, const char *path, int status);
	void *record_ctx;
} proxied_hooks;

/* Runs c->args as our child, which gets the forwarder's URL and stand-in,
 * never the token r holds (wiped here); cftoken stays its parent, and the
 * forwarder serves until the program exits, renewing the token when it is
 * due (as cli_obtain obtains it for after->o.profile).  A token minted
 * under cache = none is deleted at the end.  *status: the program's wait
 * status.  An error (and *status untouched) when the forwarder could not
 * start: nothing ran, and the token is already dealt with. */
cft_code cli_run_proxied(const cli *c, cft_l1_record *r, after_handover *after,
			 const proxied_hooks *hooks, int *status, cft_error *err);

/* Deletes the token minted for exec under cache = none once its program
 * has ended, warning when it could not. */
void cli_delete_uncached(const cli *c, after_handover *run, const char *id);
