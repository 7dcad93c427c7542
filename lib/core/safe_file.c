#include "core/safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"

/* O_PATH: fstat and the *at calls need no read permission, so a foreign
 * directory is refused for being foreign, not for a permission error. */
static int open_dir(const char *path)
{
	return open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static cft_code dir_failure(const char *what, const char *path, int e, cft_error *err)
{
	if (e == ELOOP || e == ENOTDIR)
		return cft_fail(err, CFT_E_INVALID_ARG, "%s %s is not a directory (a symlink?)",
				what, path);
	return cft_fail(err, CFT_E_INVALID_ARG, "%s %s: %s", what, path, strerror(e));
}

cft_code cft_private_dir(const char *what, const char *path, cft_dir_mode mode, int *fd_out,
			 cft_error *err)
{
	if (fd_out)
		*fd_out = -1;
	int fd = open_dir(path);
	if (fd < 0 && errno == ENOENT && mode == CFT_DIR_MAY_BE_ABSENT)
		return cft_fail(err, CFT_E_NOT_FOUND, "%s %s does not exist", what, path);
	if (fd < 0 && errno == ENOENT && mode == CFT_DIR_CREATE) {
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return cft_fail(err, CFT_E_INVALID_ARG, "creating %s %s: %s", what, path,
					strerror(errno));
		fd = open_dir(path);
	}
	if (fd < 0)
		return dir_failure(what, path, errno, err);
	/* Checked on the descriptor the caller goes on to use. */
	struct stat st;
	cft_code rc = CFT_OK;
	if (fstat(fd, &st) != 0)
		rc = dir_failure(what, path, errno, err);
	else if (st.st_uid != getuid())
		rc = cft_fail(err, CFT_E_INVALID_ARG, "%s %s belongs to another user (uid %u)",
			      what, path, (unsigned)st.st_uid);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		rc = cft_fail(err, CFT_E_INVALID_ARG,
			      "%s %s is writable by group or others (mode %04o)", what, path,
			      (unsigned)(st.st_mode & 07777));
	if (rc || !fd_out)
		close(fd);
	else
		*fd_out = fd;
	return rc;
}

const char *cft_file_kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
	       : S_ISBLK(m) ? "a block device" : S_ISDIR(m) ? "a directory"
	       : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link" : "not a file";
}

cft_code cft_file_open(int dir_fd, const char *path, const char *what, size_t max, int flags,
		       int *fd_out, cft_error *err)
{
	*fd_out = -1;
	/* O_NONBLOCK: opening a FIFO waits for a writer, forever. */
	int oflags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if (flags & CFT_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	int fd = openat(dir_fd, path, oflags);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return cft_fail(err, CFT_E_NOT_FOUND, "%.400s: %s", what, strerror(e));
		if (e == ELOOP && (flags & CFT_FILE_NOFOLLOW))
			return cft_fail(err, CFT_E_INVALID_ARG, "%.400s is a symlink: refused",
					what);
		return cft_fail(err, CFT_E_INVALID_ARG, "%.400s: %s", what, strerror(e));
	}
	struct stat st;
	cft_code rc = CFT_OK;
	if (fstat(fd, &st) != 0)
		rc = cft_fail(err, CFT_E_INVALID_ARG, "%.400s: %s", what, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = cft_fail(err, CFT_E_INVALID_ARG, "%.400s is not a regular file (%s): refused",
			      what, cft_file_kind(st.st_mode));
	else if ((uintmax_t)st.st_size > (uintmax_t)max)
		rc = cft_fail(err, CFT_E_INVALID_ARG,
			      "%.400s is too large (%jd bytes; at most %zu): refused", what,
			      (intmax_t)st.st_size, max);
	else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
		rc = cft_fail(err, CFT_E_INVALID_ARG, "%.400s: %s", what, strerror(errno));
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return CFT_OK;
}

cft_code cft_file_read_fd(int fd, const char *what, char *buf, size_t max, size_t *len,
			  cft_error *err)
{
	*len = 0;
	for (;;) {
		char probe;
		bool full = *len == max;
		ssize_t n = full ? read(fd, &probe, 1) : read(fd, buf + *len, max - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cft_fail(err, CFT_E_INVALID_ARG, "reading %.400s: %s", what,
					strerror(errno));
		if (n == 0)
			return CFT_OK;
		if (full)
			return cft_fail(err, CFT_E_INVALID_ARG,
					"%.400s is too large (more than %zu bytes): refused", what,
					max);
		*len += (size_t)n;
	}
}

cft_code cft_file_read(int dir_fd, const char *path, const char *what, size_t max, int flags,
		       char **out, size_t *len, cft_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	*out = NULL;
	*len = 0;
	cft_code rc = cft_file_open(dir_fd, path, what, max, flags, &fd, err);
	if (rc)
		return rc;
	/* The size fstat gave, checked against max: a file that grows while
	 * it is read is refused, not read past it. */
	size_t size = fstat(fd, &st) == 0 ? (size_t)st.st_size : 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	rc = cft_file_read_fd(fd, what, buf, size, len, err);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[*len] = '\0';
	*out = buf;
	return CFT_OK;
}
