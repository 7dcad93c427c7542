/* Obtain-or-create (DESIGN.md, "The path of one request"): a cached token
 * whose renewal is not due is returned with no network call; otherwise,
 * under the profile's lock, look again (another process may have minted),
 * mint with the parent token and cache it.  The create is the one request
 * before the token is handed over: the token it replaces lives out its
 * expiry (a job started with it finishes), kept in the profile's ledger
 * (lib/mint/uncached.h), and cft_obtain_tidy, after the hand-over,
 * deletes the ledger's expired tokens, so the account's 500-token cap
 * never fills with cftoken's leftovers; at the cap, a mint deletes them
 * early. */
#pragma once

#include <stdbool.h>

#include "api/api.h"
#include "cache/secret_service.h"
#include "config/config.h"
#include "core/l1_record.h"
#include "core/secret.h"
#include "mint/orphans.h"

typedef struct cft_obtain {
	const cft_config *cfg;
	const cft_profile *profile;   /* the section describing the token */
	const char *account_id;       /* resolved: 32 hex */
	const char *api_url;          /* the effective API base */
	const char *ca_file;
	long timeout_ms;              /* per API call; the create's retries too */
	/* The process's one API client, made on first need and kept for the
	 * work after the hand-over (cft_obtain_tidy): one connection, one
	 * TLS handshake, for every request.  The caller frees *client.  NULL:
	 * each call makes its own. */
	cft_client **client;
	/* The parent token, asked for only when a mint (or a deletion) needs
	 * it: a cached token is served without it. */
	cft_code (*parent)(void *ctx, const cft_secret **out, cft_error *err);
	void *parent_ctx;
	const char *route_fp;         /* the request's fingerprint, or NULL */
	long min_ttl;                 /* the token must last this long */
	const char *refused_id;       /* a token the API refused: never serve it */
	cft_l2 *l2;                   /* the Secret Service, or NULL: L1 alone */
	/* A new token goes into the Secret Service by the caller, after the
	 * hand-over (cft_obtain_keep_in_l2), not before: L1 holds it, and
	 * the write is durability, not the request's. */
	bool l2_store_by_caller;
	bool no_cache;                /* cache = none: mint, cache nothing */
	/* With no_cache, for the user's own commands: the token goes into
	 * the user's ledger of uncached tokens (lib/mint/uncached.h), and the
	 * ledger's expired ones are deleted first.  Never with the admin's
	 * parent token: the ledger is the user's to edit. */
	bool track_uncached;
	int64_t max_ttl;              /* > 0: a minted token lives at most this long */
	/* Report the token a mint replaced (in old_id) but leave it, and
	 * leave the user's ledger alone: the caller settles it by its own
	 * records.  pam_cftoken's worker sets this with the admin's parent:
	 * the cache that names the old token is the user's to edit, and the
	 * admin's parent token must never delete a token the user merely
	 * named. */
	bool keep_replaced;
	/* A failed renewal fails, even while the due token is valid: the
	 * renewal broker's own requests, whose asker then decides (and tells
	 * its person) whether the due token serves. */
	bool no_due_fallback;
	/* An admin's policy (pam_cftoken's worker with parent_token_file):
	 * the profile's ttl is a ceiling that min_ttl never stretches (the
	 * worker refuses such a request first, with the reason), ... */
	bool ttl_is_ceiling;
	/* ... the token is created under exactly this name, which root chose
	 * and noted before the create, or NULL: the profile's template ... */
	const char *token_name;
	/* ... and a create that may have left a token behind is told to root
	 * through this call instead of a note in the user's runtime
	 * directory; the user's notes are never read (lib/mint/orphans.h: the
	 * admin's parent acts only on what root recorded).  NULL: the user's
	 * own notes. */
	void (*note_orphan)(void *ctx, const cft_orphan_note *note);
	void *note_orphan_ctx;
	/* The permission groups to resolve the profile's names against
	 * (cft_profile_spec_build), or NULL: the cache in this user's kernel
	 * keyring.  With the admin's parent, root's own (possibly none: then
	 * the API's full list), never a key the user could have written. */
	const cft_perm_group_list *groups;
	/* The ledger cft_obtain_tidy and cft_obtain_settle_early settle: NULL,
	 * the profile's, beside its lock; or a ledger another keeper holds
	 * (lib/mint/uncached.h's *_at), whose tokens are named for
	 * ledger_user (NULL: this process's user).  pam_cftoken's worker
	 * settles root's own ledger of the login tokens it replaced for a
	 * user this way, with the admin's parent: root's records, never the
	 * user's. */
	const char *ledger;
	const char *ledger_user;
} cft_obtain;

/* Deletes a token minted with no_cache once its user is done with it
 * (exec's program has exited), and strikes it off the ledger.  A token
 * the API no longer knows counts as deleted. */
cft_code cft_obtain_delete_uncached(const cft_obtain *o, const char *id, cft_error *err);

/* Where the token came from, for --verbose. */
typedef enum cft_obtain_source {
	CFT_FROM_KERNEL_KEYRING,
	CFT_FROM_SECRET_SERVICE,
	CFT_MINTED,
} cft_obtain_source;

/* *source: which level answered, or that a new token was created (and
 * *replaced_id, when not empty, the token that mint replaced: in the
 * ledger until it expires (or deleted at once when the ledger could not
 * take it), or, with keep_replaced, left for the caller).  Empty whenever
 * nothing was minted, or a deletion failed (a warning says so). */
cft_code cft_obtain_token(const cft_obtain *o, cft_l1_record *out, cft_obtain_source *source,
			  char replaced_id[33], cft_error *err);

/* The work after the hand-over, for the caller to run once the token has
 * reached its user (get's answer written and stdout closed, exec's
 * program started, the PAM module answered): deletes the ledger's tokens
 * that have expired, by the API's word and only tokens of cftoken's form
 * for the profile.  Never with keep_replaced, nor with an admin's parent
 * but on root's own ledger (ledger).
 * Failures only delay it to the next time. */
void cft_obtain_tidy(const cft_obtain *o);

/* Deletes at once every token the ledger lists, expired or not (by the
 * API's word and only tokens of cftoken's form, as cft_obtain_tidy):
 * when the account's cap is reached and the caller mints again, or when
 * the user's last session ends (pam_cftoken's revoke_on_close).  Returns
 * how many were deleted. */
unsigned cft_obtain_settle_early(const cft_obtain *o);

/* Whether cft_obtain_tidy has anything to do now (a read of the ledger,
 * no request): a caller that would start a process for it asks first. */
bool cft_obtain_tidy_due(const cft_obtain *o);

/* Stores a new token in the Secret Service; a failure costs durability,
 * not the request, and is told as a warning (cft_log). */
void cft_obtain_keep_in_l2(const cft_obtain *o, cft_l2 *l2, const cft_l1_record *r);

/* Whether a failed renewal may leave the due token in use (the failure
 * is of the moment: the API down or slow, rate limiting, a busy lock, no
 * broker) rather than fail the command. */
bool cft_renewal_may_wait(cft_code rc);

/* Whether a cached token was minted under what the profile grants now
 * (cft_profile_grant): a token of a profile edited since is replaced,
 * never served, not even while its renewal fails.  A record that does not
 * know its grant (an adopted token, an earlier cftoken's) is taken as it
 * is. */
bool cft_obtain_granted(const cft_obtain *o, const cft_l1_record *r);

/* After such a failure (why): the profile's cached token if it has not
 * expired (and lasts min_ttl, is not refused_id and is granted), with a warning
 * (cft_log) naming why and until when; CFT_E_NOT_FOUND otherwise. */
cft_code cft_obtain_due_token(const cft_obtain *o, const cft_error *why, cft_l1_record *out);
