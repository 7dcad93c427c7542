#include "core/trusted_file.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safe_file.h"

static cft_code trusted(const struct stat *st, const char *path, const char *what,
			cft_error *err)
{
	uid_t me = geteuid();
	if (st->st_uid != 0 && st->st_uid != me && me == 0)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"%s %.300s is owned by uid %u, not by root: refused", what, path,
				(unsigned)st->st_uid);
	if (st->st_uid != 0 && st->st_uid != me)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"%s %.300s is owned by uid %u, neither by you (uid %u) nor by root: "
				"refused", what, path, (unsigned)st->st_uid, (unsigned)me);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"%s %.300s is writable by group or others (mode %04o): refused", what,
				path, (unsigned)(st->st_mode & 07777));
	return CFT_OK;
}

cft_code cft_check_trusted_file(const char *path, const char *what, cft_error *err)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return cft_fail(err, errno == ENOENT ? CFT_E_NOT_FOUND : CFT_E_INVALID_ARG,
				"%s %.300s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"%s %.300s is not a regular file (%s): refused", what, path,
				cft_file_kind(st.st_mode));
	cft_code rc = trusted(&st, path, what, err);
	if (rc)
		return rc;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	const char *d = dirname(dir);
	if (stat(d, &st) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "%.300s: %s", d, strerror(errno));
	char dir_what[128];
	snprintf(dir_what, sizeof(dir_what), "the directory of the %s", what);
	return trusted(&st, d, dir_what, err);
}
