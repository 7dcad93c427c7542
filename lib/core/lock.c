#include "core/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/safe_file.h"
#include "core/timeutil.h"

#define POLL_MS 10

/* A directory we may keep locks in: ours, a real directory, writable by
 * nobody else (lib/core/safe_file.h). */
static cft_code safe_dir(const char *what, const char *path, bool create, cft_error *err)
{
	return cft_private_dir(what, path, create ? CFT_DIR_CREATE : CFT_DIR_MUST_EXIST, NULL,
			       err);
}

/* A private directory under the user's cache directory, for a process
 * without a runtime directory (a cron job, a host without pam_systemd).
 * Never a guessable name in a shared directory such as /tmp: another user
 * could make it first and deny us every lock. */
static cft_code cache_lock_dir(char *buf, size_t size, cft_error *err)
{
	const char *cache = secure_getenv("XDG_CACHE_HOME"), *home = secure_getenv("HOME");
	char parent[512];
	int n;
	if (cache && cache[0] == '/')
		n = snprintf(parent, sizeof(parent), "%s", cache);
	else if (home && home[0] == '/')
		n = snprintf(parent, sizeof(parent), "%s/.cache", home);
	else
		return cft_fail(err, CFT_E_INVALID_ARG,
				"no XDG_RUNTIME_DIR and no home directory: cftoken has no private "
				"directory for its locks (set XDG_RUNTIME_DIR)");
	if (n < 0 || (size_t)n >= sizeof(parent))
		return cft_fail(err, CFT_E_INVALID_ARG, "the cache directory's path is too long");
	struct stat st;
	if (lstat(parent, &st) != 0 && errno == ENOENT && mkdir(parent, 0700) != 0 &&
	    errno != EEXIST)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"no XDG_RUNTIME_DIR, and creating %s for cftoken's locks: %s", parent,
				strerror(errno));
	n = snprintf(buf, size, "%s/cftoken", parent);
	if (n < 0 || (size_t)n >= size)
		return cft_fail(err, CFT_E_INVALID_ARG, "the cache directory's path is too long");
	return safe_dir("lock directory", buf, true, err);
}

static cft_code lock_dir(char *buf, size_t size, cft_error *err)
{
	const char *runtime = secure_getenv("XDG_RUNTIME_DIR");
	char fallback[64];
	if (!runtime || !*runtime) {
		snprintf(fallback, sizeof(fallback), "/run/user/%u", (unsigned)getuid());
		if (access(fallback, W_OK) != 0)
			return cache_lock_dir(buf, size, err);
		runtime = fallback;
	}
	cft_code rc = safe_dir("XDG_RUNTIME_DIR", runtime, false, err);
	if (rc)
		return rc;
	int n = snprintf(buf, size, "%s/cftoken", runtime);
	if (n < 0 || (size_t)n >= size)
		return cft_fail(err, CFT_E_INVALID_ARG, "XDG_RUNTIME_DIR is too long");
	return safe_dir("lock directory", buf, true, err);
}

cft_code cft_lock_file(const char *path, int64_t deadline_ms, const char *busy, int *fd_out,
		       cft_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "lock %s: %s", path,
				errno == ELOOP ? "is a symlink" : strerror(errno));
	/* Polled, not blocking: a holder stuck past its own deadline must
	 * not hold us past ours. */
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*fd_out = fd;
			return CFT_OK;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(fd);
			return cft_fail(err, CFT_E_INTERNAL, "lock %s: %s", path, strerror(e));
		}
		if (cft_now_ms() >= deadline_ms) {
			close(fd);
			if (busy)
				return cft_fail(err, CFT_E_BUSY, "%s (%s)", busy, path);
			return cft_fail(err, CFT_E_BUSY, "another cftoken process holds %s",
					path);
		}
		struct timespec ts = { 0, POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

cft_code cft_lock_path(const char *account, const char *profile, const char *suffix,
		       char *buf, size_t size, cft_error *err)
{
	char dir[512];
	cft_code rc = lock_dir(dir, sizeof(dir), err);
	if (rc)
		return rc;
	int n = snprintf(buf, size, "%s/%s-%s%s", dir, account, profile, suffix);
	if (n < 0 || (size_t)n >= size)
		return cft_fail(err, CFT_E_INVALID_ARG, "the runtime directory's path is too long");
	return CFT_OK;
}

cft_code cft_lock_acquire(const char *account, const char *profile, int64_t deadline_ms,
			  int *fd_out, cft_error *err)
{
	char path[700];
	cft_code rc = cft_lock_path(account, profile, ".lock", path, sizeof(path), err);
	if (rc)
		return rc;
	return cft_lock_file(path, deadline_ms,
			     "another cftoken process is still getting this profile's token",
			     fd_out, err);
}

void cft_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);  /* closing drops the flock */
}
