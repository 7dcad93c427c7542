/* The profile's token, as the commands that hand one over obtain it:
 * get (cmd_credential.c), exec, env and token (cmd_exec.c); store and
 * erase use its parent token and account. */
#pragma once

#include <stdbool.h>

#include "cli.h"
#include "core/gitcred.h"
#include "mint/obtain.h"

/* The parent token, loaded once, when obtain first needs it. */
typedef struct lazy_parent {
	const cli *c;
	bool login;                  /* the request is for the login policy */
	cft_parent parent;
	bool loaded;
} lazy_parent;

/* For cft_obtain's parent callback: ctx is a lazy_parent. */
cft_code cli_get_parent(void *ctx, const cft_secret **out, cft_error *err);

/* What a request that minted keeps for after the hand-over
 * (after_handover.c): the obtain, its parent token still loaded and its
 * API client, so that the work after (cft_obtain_tidy) and, for exec's
 * uncached token, the deletion when the program exits, go over the
 * connection the create opened. */
typedef struct after_handover {
	bool minted;                 /* this request minted: there may be work */
	bool uncached;               /* exec's token under cache = none */
	lazy_parent lp;
	cft_obtain o;
	char account[CFT_ID_LEN + 1];
	cft_client *client;
	bool keep_in_l2;             /* the new token still goes to the Secret Service */
	cft_l2 *l2;                  /* ... over this connection, or NULL: a new one */
} after_handover;

/* Releases the parent token, the client and the Secret Service
 * connection after holds, without work (after_handover.h runs the work). */
void cli_after_handover_release(after_handover *after);

/* The profile's token into out: the declared one (cftoken apply) when the
 * profile has one, else the cached or a newly minted one, else, for the
 * login token when no parent token is at hand, the broker's renewal.  g:
 * git's request (NULL for exec, env and token); exec: the request is
 * exec's (its uncached token lives as long as the program).  after gets
 * what the work after the hand-over takes; the caller runs or releases it
 * (after_handover.h). */
cft_code cli_obtain(const cli *c, const cft_profile *p, const cft_gitcred *g, bool exec,
		    cft_l1_record *out, after_handover *after, cft_error *err);

/* The parent token: --token-file, parent_token_file (not for the login
 * policy: login), or `cftoken login`'s. */
cft_code cli_load_parent(const cli *c, bool login, cft_parent *parent, cft_error *err);

/* The account the profile's token lives in, asking the parent token (lp
 * loads it) when nothing names one. */
cft_code cli_find_account(const cli *c, const cft_profile *p, lazy_parent *lp,
			  char account[CFT_ID_LEN + 1], cft_error *err);

/* The request's fingerprint, as the front end computes it (g: git's
 * request, or NULL). */
void cli_request_fp(const cli *c, const cft_gitcred *g, char fp[CFT_FP_HEX]);
