/* The state of `cftoken apply`: which token (by id, never by value) the
 * API holds for each declared profile.  A text file of its own user,
 * $XDG_STATE_HOME/cftoken/declared (~/.local/state/cftoken/declared),
 * mode 0600, one line per token:
 *
 *   token profile=NAME account=ID api=URL id=ID
 *   binding profile=NAME account=ID api=URL worker=W name=N state=ok|pending
 *
 * (URL: the API's, normalised as fingerprint.h says, compared exactly; a
 * binding: the token stored as Worker W's secret N; pending: the last
 * update of that secret failed and is retried at the next apply, bind or
 * roll)
 * rewritten whole (a new file renamed over the old), so a crash leaves the
 * old state or the new one, never half of either.
 *
 * The state decides what apply and destroy delete, so its directory must
 * be the user's own, a real directory that nobody else may write; a
 * symlink as the state file is refused, and the new file is created with
 * O_EXCL (lib/core/safe_file.h).  Anything else is an error, never an empty
 * state: another user must not be able to plant one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* The file's path.  -1 when no home is known. */
int cft_declared_path(char *buf, size_t size);

/* The id recorded for account + profile + API; CFT_E_NOT_FOUND if none
 * (or no state at all), another error if the state cannot be trusted. */
cft_code cft_declared_get(const char *account, const char *profile, const char *api_url,
			  char id[33], cft_error *err);

/* Records id (NULL: forgets the entry). */
cft_code cft_declared_set(const char *account, const char *profile, const char *api_url,
			  const char *id, cft_error *err);

typedef struct cft_binding {
	char worker[64];
	char name[65];
	bool pending;
} cft_binding;

enum { CFT_BINDING_OK, CFT_BINDING_PENDING, CFT_BINDING_GONE };

/* Records a binding's state (CFT_BINDING_GONE: forgets it). */
cft_code cft_binding_set(const char *account, const char *profile, const char *api_url,
			 const char *worker, const char *name, int state, cft_error *err);

/* The profile's bindings, in a new array (free() it). */
cft_code cft_bindings_list(const char *account, const char *profile, const char *api_url,
			   cft_binding **out, size_t *n, cft_error *err);
