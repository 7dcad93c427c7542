/* The single-flight lock of one user + account + profile: a file under
 * $XDG_RUNTIME_DIR/cftoken/ (or /run/user/UID/cftoken/, or, with no runtime
 * directory, $XDG_CACHE_HOME/cftoken/ or ~/.cache/cftoken/; never a
 * guessable name in a shared directory such as /tmp), held
 * with flock so that a killed holder releases it.  The directory must be
 * ours, not a symlink, and writable by nobody else. */
#pragma once

#include <stdint.h>

#include "core/cleanup.h"
#include "core/error.h"

/* Waits until deadline_ms (CLOCK_MONOTONIC ms).  *fd is the held lock. */
cft_code cft_lock_acquire(const char *account, const char *profile, int64_t deadline_ms,
			  int *fd, cft_error *err);
void cft_lock_release(int fd);
static inline void cft_lock_releasep(int *fd)
{
	cft_lock_release(*fd);
}
#define _cleanup_lock_ _cleanup_(cft_lock_releasep)

/* The path of a file beside the profile's lock ("ACCOUNT-PROFILE" + suffix
 * in the same checked directory), for what must outlive one process. */
cft_code cft_lock_path(const char *account, const char *profile, const char *suffix,
		       char *buf, size_t size, cft_error *err);

/* The same wait on a lock file the caller names (created 0600, never
 * through a symlink); busy: the message when the deadline passes (NULL:
 * "another cftoken process holds PATH"). */
cft_code cft_lock_file(const char *path, int64_t deadline_ms, const char *busy, int *fd,
		       cft_error *err);
