/* The declared token of a profile (cftoken apply), shared by apply and
 * destroy (cmd_apply.c), bind (cmd_bind.c), roll (cmd_tokens.c) and the
 * commands that hand a token over (obtain_token.c):
 * declared_ops.c and worker_bindings.c. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "cli.h"

/* A profile's declared token and what acts on it: its account, owner and
 * API, a client for the parent token, the Secret Service when open. */
typedef struct apply_ctx {
	const cli *c;
	const cft_profile *p;
	char account[CFT_ID_LEN + 1];
	const char *api;
	cft_owner owner;
	cft_client *client;
	cft_l2 *l2;
} apply_ctx;

/* The profile, its account and owner, the parent token's client and the
 * Secret Service, as apply, destroy and roll --profile need them. */
cft_code cli_apply_open(const cli *c, apply_ctx *a, cft_error *err);
void cli_apply_close(apply_ctx *a);

/* Keeps a declared token's value where exec, env and token find it (and
 * under route_fp, when given), expiring at expires. */
void cli_apply_cache_value(const apply_ctx *a, const char *route_fp, const char *id,
			   cft_secret *value, time_t expires);

/* The value of the profile's declared token (cftoken apply), from the
 * caches or, when they lost it, rolled; stored under route_fp.
 * CFT_E_NOT_FOUND when the profile has no declared token; another error
 * when the state cannot be read or trusted (lib/mint/declared.h). */
cft_code cli_declared_token(const cli *c, const cft_profile *p, const char *account,
			    cft_l2 *l2, const char *route_fp, long min_ttl,
			    cft_l1_record *out, cft_error *err);

/* Puts the declared token's value into each binding the profile has
 * (only_pending: only those a failed update left behind).  Returns how
 * many failed (marked pending, reported). */
int cli_sync_bindings(const cli *c, cft_client *client, const char *account,
		      const char *profile, const cft_secret *value, bool only_pending);
/* Deletes every binding's secret and forgets it.  Returns failures. */
int cli_unbind_all(const cli *c, cft_client *client, const char *account, const char *profile);
/* roll --profile P: a new value for the declared token, into the caches
 * and every binding. */
int cli_roll_declared(const cli *c);

/* The parent lacks "Workers Scripts Write": err says so, not just "403". */
void cli_explain_worker_rights(const char *what, cft_code rc, cft_error *err);
