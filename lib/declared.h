/* The state of `cftoken apply`: which token (by id, never by value) the
 * API holds for each declared profile.  A text file of its own user,
 * $XDG_STATE_HOME/cftoken/declared (~/.local/state/cftoken/declared),
 * mode 0600, one line per token:
 *
 *   token profile=NAME account=ID api=HASH id=ID
 *
 * rewritten whole (a new file renamed over the old), so a crash leaves the
 * old state or the new one, never half of either. */
#pragma once

#include "error.h"

/* The file's path.  -1 when no home is known. */
int cft_declared_path(char *buf, size_t size);

/* The id recorded for account + profile + API; CFT_E_NOT_FOUND if none. */
cft_code cft_declared_get(const char *account, const char *profile, const char *api_url,
			  char id[33], cft_error *err);

/* Records id (NULL: forgets the entry). */
cft_code cft_declared_set(const char *account, const char *profile, const char *api_url,
			  const char *id, cft_error *err);
