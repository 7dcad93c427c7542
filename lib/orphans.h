/* Tokens a create may have made although the caller never learnt it (a
 * 5xx after the API acted, a connection lost after the request went out,
 * an answer cut short).  Nobody holds such a token, and each one counts
 * against the account's 500-token cap: find it by the name cftoken gave
 * and the time it asked, and delete it.  When the API cannot be asked
 * now, a note beside the profile's lock says what to look for, and the
 * next mint of that profile sweeps first. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "api.h"
#include "error.h"

/* True when a create that failed with rc may still have made a token. */
bool cft_create_may_have_happened(cft_code rc);

/* Deletes the owner's tokens named `name` issued at or after since (less
 * a margin for clock skew), except keep_id (may be NULL).  *deleted
 * (may be NULL) counts them. */
cft_code cft_orphans_sweep(cft_client *c, cft_owner owner, const char *name, time_t since,
			   const char *keep_id, unsigned *deleted, cft_error *err);

/* The note of a sweep still to do for account + profile. */
typedef struct cft_orphan_note {
	time_t since;
	bool user_owned;
	char name[256];
} cft_orphan_note;

#define CFT_ORPHAN_NOTES_MAX 16

/* Adds a note (one line of ACCOUNT-PROFILE.orphans in the lock's
 * directory, "SINCE a|u API-URL NAME"; it never holds a token value). */
cft_code cft_orphans_remember(const char *account, const char *profile, const char *api_url,
			      const cft_orphan_note *note, cft_error *err);
/* The notes kept for exactly this API URL (a sweep deletes with its
 * parent, at its API), at most CFT_ORPHAN_NOTES_MAX; *n is 0 when there
 * are none. */
cft_code cft_orphans_recall(const char *account, const char *profile, const char *api_url,
			    cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX], size_t *n, cft_error *err);
void cft_orphans_forget(const char *account, const char *profile);
