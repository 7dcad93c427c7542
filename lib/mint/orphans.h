/* Tokens a create may have made although the caller never learnt it (a
 * 5xx after the API acted, a connection lost after the request went out,
 * an answer cut short).  Nobody holds such a token, and each one counts
 * against the account's 500-token cap: find it by the name cftoken gave
 * and the time it asked, and delete it.  When the API cannot be asked
 * now, a note says what to look for, and the next mint sweeps first.
 *
 * Who keeps the notes follows whose parent token acts on them: with the
 * user's own parent (`cftoken login`), beside the profile's lock in the
 * user's runtime directory; with an admin's parent (pam_cftoken's worker),
 * in root's run_dir (pam/root_orphans.c), never in a file the user can
 * write, since a note is an order to delete. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "api/api.h"
#include "core/error.h"

/* True when a create that failed with rc may still have made a token. */
bool cft_create_may_have_happened(cft_code rc);

/* Deletes token id, an id taken from a cache, a state file or a note
 * (which the user, or code running as the user, can write), only once the
 * API shows its name has the form cftoken gives the profile's tokens
 * (cft_token_name_matches): no such record can steer a deletion to any
 * other token.  CFT_E_NOT_FOUND: gone already; CFT_E_INVALID_ARG: not
 * ours, left alone. */
cft_code cft_token_delete_if_ours(cft_client *c, cft_owner owner, const char *id,
				  const char *template, const char *profile, cft_error *err);

/* Deletes the owner's tokens named `name` issued at or after since (less
 * a margin for clock skew), except those keep lists (NULL-terminated; may
 * be NULL): tokens the caller knows, such as the one it recorded last and
 * the replaced ones that live out their expiry.  *deleted (may be NULL)
 * counts them. */
cft_code cft_orphans_sweep(cft_client *c, cft_owner owner, const char *name, time_t since,
			   const char *const *keep, unsigned *deleted, cft_error *err);

/* The note of a sweep still to do for account + profile. */
typedef struct cft_orphan_note {
	time_t since;
	bool user_owned;
	char name[256];
} cft_orphan_note;

#define CFT_ORPHAN_NOTES_MAX 16

/* Notes in a file of their own: one line each, "SINCE K API-URL NAME"
 * (they never hold a token value).  append adds one line; write replaces
 * the file (atomically; n == 0 removes it); read takes the notes of
 * exactly this API URL (a sweep deletes with its parent, at its API), at
 * most CFT_ORPHAN_NOTES_MAX, and skips torn lines. */
cft_code cft_orphans_append(const char *path, const char *api_url, const cft_orphan_note *note,
			    cft_error *err);
cft_code cft_orphans_write(const char *path, const char *api_url, const cft_orphan_note *notes,
			   size_t n, cft_error *err);
cft_code cft_orphans_read(const char *path, const char *api_url,
			  cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX], size_t *n, cft_error *err);

/* The user's own notes: ACCOUNT-PROFILE.orphans in the lock's directory. */
cft_code cft_orphans_remember(const char *account, const char *profile, const char *api_url,
			      const cft_orphan_note *note, cft_error *err);
/* The notes kept for exactly this API URL; *n is 0 when there are none. */
cft_code cft_orphans_recall(const char *account, const char *profile, const char *api_url,
			    cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX], size_t *n, cft_error *err);
void cft_orphans_forget(const char *account, const char *profile);
