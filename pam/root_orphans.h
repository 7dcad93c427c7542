/* Root's notes of creates the admin's parent token may have made without
 * anyone learning the new token (lib/mint/orphans.h), RUN_DIR/orphans/UID.
 *
 * A note is an order to delete every token of that name issued since its
 * time, given with the admin's parent token, which can delete any token on
 * the account.  So only root writes and reads these notes: root chooses the
 * name of the login token, notes it before the user's part may send the
 * create (a part the user can kill, and the module's deadline too), and
 * settles the note only when that part says nothing can be left behind.
 * Anything else is swept, now or before the user's next mint.  The notes
 * in the user's own runtime directory are never read with this parent. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "api/api.h"
#include "mint/orphans.h"

typedef struct root_orphans {
	char path[4200];
	const char *api_url;  /* the notes of this API (the policy's) */
	cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX];
	size_t n;
	bool loaded;
	bool in_flight;  /* the last note is this job's create */
} root_orphans;

/* Reads the user's notes for api_url (none: n == 0), making root's
 * directory; notes of another API are dropped at the next write. */
cft_code root_orphans_load(root_orphans *r, const char *run_dir, uid_t uid, const char *api_url,
			   cft_error *err);

/* Sweeps every note loaded (except the tokens keep lists, NULL-terminated:
 * the one root recorded last for the user, which may be that young, and
 * the replaced ones that live out their expiry in root's ledger) and keeps
 * those whose sweep failed; *deleted counts the tokens deleted. */
cft_code root_orphans_sweep(root_orphans *r, cft_client *c, const char *account,
			    const char *const *keep, unsigned *deleted, cft_error *err);

/* Notes the create this job may make, before the user's part starts. */
cft_code root_orphans_begin(root_orphans *r, const cft_orphan_note *note, cft_error *err);

/* The user's part reported that nothing of this job's create can be left
 * behind: its note goes. */
cft_code root_orphans_settle(root_orphans *r, cft_error *err);
