/* The profile's ledger of tokens to delete once they expire: the ones no
 * cache holds, so that nothing else would ever delete them, while the
 * account's 500-token cap counts a token, expired or not, until it is
 * deleted.  They are tokens minted with cache = none, and tokens a renewal
 * replaced, which live out their expiry so that a job started with one
 * finishes (lib/mint/obtain.h).  The ledger lies beside the profile's lock
 * (ACCOUNT-PROFILE.uncached in the lock directory, lib/core/lock.h): one
 * line "EXPIRES OWNER ID" per token, never a value.  exec deletes an
 * uncached token when its program exits and strikes it off; get, env and
 * token mint uncached tokens of CFT_UNCACHED_TTL_S at most; the work after
 * each later hand-over of a new token of the profile deletes those whose
 * expiry has passed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/error.h"

/* The longest life of an uncached token that is printed or answered
 * (get, env, token): nothing tells cftoken when its user is done. */
#define CFT_UNCACHED_TTL_S (15 * 60)

typedef struct cft_uncached {
	time_t expires;
	bool user_owned;
	char id[33];
} cft_uncached;

/* At most this many are taken for deletion at once: each call adds one,
 * so a few more keep the ledger short without a long pause. */
#define CFT_UNCACHED_TAKE_MAX 16

/* Adds a token to the ledger. */
cft_code cft_uncached_note(const char *account, const char *profile, const cft_uncached *t,
			   cft_error *err);

/* Takes off the ledger up to max tokens whose expiry is at or before now,
 * into out (*n of them), for the caller to delete; a token that could not
 * be deleted goes back with cft_uncached_note. */
cft_code cft_uncached_take_due(const char *account, const char *profile, time_t now,
			       cft_uncached *out, size_t max, size_t *n, cft_error *err);

/* Whether the ledger lists a token whose expiry is at or before now: a
 * read without the lock, to tell whether there is work after a hand-over
 * at all (the work itself takes the lock). */
bool cft_uncached_any_due(const char *account, const char *profile, time_t now);

/* The same three for a ledger another keeper holds at path, beside its
 * own lock (path + ".lock"): root's ledger of the login tokens it
 * replaced for a user (pam_cftoken's worker, RUN_DIR/replaced/UID), in a
 * directory only root can write. */
cft_code cft_uncached_note_at(const char *path, const cft_uncached *t, cft_error *err);
cft_code cft_uncached_take_due_at(const char *path, time_t now, cft_uncached *out, size_t max,
				  size_t *n, cft_error *err);
bool cft_uncached_any_due_at(const char *path, time_t now);
/* The last max tokens it lists (the newest), into out (*n of them, in no
 * order): a read without the lock, of what the ledger holds at that
 * moment. */
void cft_uncached_list_at(const char *path, cft_uncached *out, size_t max, size_t *n);

/* Strikes a token off the ledger (deleted by its own caller). */
cft_code cft_uncached_forget(const char *account, const char *profile, const char *id,
			     cft_error *err);
