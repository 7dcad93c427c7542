#include "session_records.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/lock.h"
#include "core/safe_file.h"

int session_name_valid(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < 64 && name[0] != '-' && strspn(name, "0123456789-") == n;
}

/* A directory of ours: created with mode, else checked to be root's (or
 * our own user's, when the helper is not root) and not writable by others. */
static cft_code own_dir(const char *path, mode_t mode, cft_error *err)
{
	struct stat st;
	if (mkdir(path, mode) == 0)
		chmod(path, mode);  /* the helper's umask is 077 */
	else if (errno != EEXIST)
		return cft_fail(err, CFT_E_INTERNAL, "creating %.300s: %s", path, strerror(errno));
	if (lstat(path, &st) != 0)
		return cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"%.300s is not a directory of uid %u that only it can write: refused",
				path, (unsigned)geteuid());
	return CFT_OK;
}

/* RUN_DIR/KIND/UID, RUN_DIR (0755) and RUN_DIR/KIND (mode) made root's. */
static cft_code kind_path(const char *run_dir, const char *kind, mode_t mode, uid_t uid,
			  char *out, size_t size, cft_error *err)
{
	char dir[4096];
	int n = snprintf(dir, sizeof(dir), "%s/%s", run_dir, kind);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return cft_fail(err, CFT_E_INVALID_ARG, "run_dir is too long");
	cft_code rc = own_dir(run_dir, 0755, err);
	if (!rc)
		rc = own_dir(dir, mode, err);
	if (rc)
		return rc;
	n = snprintf(out, size, "%s/%u", dir, (unsigned)uid);
	if (n < 0 || (size_t)n >= size)
		return cft_fail(err, CFT_E_INVALID_ARG, "run_dir is too long");
	return CFT_OK;
}

cft_code root_record_path(const char *run_dir, const char *kind, uid_t uid, char *out,
			  size_t size, cft_error *err)
{
	return kind_path(run_dir, kind, 0700, uid, out, size, err);
}

cft_code user_runtime_dir(const char *run_dir, uid_t uid, gid_t gid, char *out, size_t size,
			  cft_error *err)
{
	struct stat st;
	/* RUN_DIR/users is root's and only root's to write: nobody can take a
	 * user's name in it first, as anyone could in /tmp. */
	cft_code rc = kind_path(run_dir, "users", 0755, uid, out, size, err);
	if (rc)
		return rc;
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return cft_fail(err, CFT_E_INTERNAL, "creating %.300s: %s", out, strerror(errno));
	int fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", out, strerror(errno));
	} else if ((st.st_uid != uid || st.st_gid != gid) && geteuid() == 0 &&
		   fchown(fd, uid, gid) != 0) {
		rc = cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", out, strerror(errno));
	} else if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
		rc = cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", out, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The user's record directory, opened and locked. */
static cft_code open_locked(const char *run_dir, uid_t uid, int *dir_fd, cft_error *err)
{
	char sessions[4096], user_dir[4200];
	snprintf(sessions, sizeof(sessions), "%s/sessions", run_dir);
	snprintf(user_dir, sizeof(user_dir), "%s/%u", sessions, (unsigned)uid);
	cft_code rc = own_dir(run_dir, 0755, err);
	if (!rc)
		rc = own_dir(sessions, 0700, err);
	if (!rc)
		rc = own_dir(user_dir, 0700, err);
	if (rc)
		return rc;
	int fd = open(user_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", user_dir, strerror(errno));
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return cft_fail(err, CFT_E_INTERNAL, "locking %.300s: %s", user_dir,
					strerror(errno));
		}
	}
	*dir_fd = fd;
	return CFT_OK;
}

cft_code session_record_add(const char *run_dir, uid_t uid, const char *session,
			    cft_error *err)
{
	int dir;
	if (!session_name_valid(session))
		return cft_fail(err, CFT_E_INVALID_ARG, "bad session name");
	cft_code rc = open_locked(run_dir, uid, &dir, err);
	if (rc)
		return rc;
	int fd = openat(dir, session, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "recording session %s: %s", session,
			      strerror(errno));
	else
		close(fd);
	close(dir);
	return rc;
}

static int host_alive(const char *session)
{
	long pid = strtol(session, NULL, 10);
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

cft_code session_record_remove(const char *run_dir, uid_t uid, const char *session,
			       unsigned *others, cft_error *err)
{
	int dir;
	*others = 0;
	if (session && !session_name_valid(session))
		return cft_fail(err, CFT_E_INVALID_ARG, "bad session name");
	cft_code rc = open_locked(run_dir, uid, &dir, err);
	if (rc)
		return rc;
	if (session)
		unlinkat(dir, session, 0);
	int scan = dup(dir);
	DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
	if (!d) {
		if (scan >= 0)
			close(scan);
		close(dir);
		return cft_fail(err, CFT_E_INTERNAL, "listing sessions: %s", strerror(errno));
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (!session_name_valid(e->d_name))
			continue;
		if (host_alive(e->d_name))
			(*others)++;
		else
			unlinkat(dir, e->d_name, 0);
	}
	closedir(d);
	close(dir);
	return CFT_OK;
}

/* "ID EXPIRES", or an older version's "ID": anything else is no record. */
static void read_record(const char *path, minted_record *r)
{
	char buf[64] = { 0 };
	int fd = -1;
	memset(r, 0, sizeof(*r));
	cft_file_open(AT_FDCWD, path, path, 64, CFT_FILE_NOFOLLOW, &fd, NULL);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	size_t id_len = strcspn(buf, " \n");
	if (id_len != 32)
		return;
	memcpy(r->id, buf, 32);
	r->id[32] = '\0';
	if (buf[32] == ' ')
		r->expires = (time_t)strtoll(buf + 33, NULL, 10);
}

void minted_record_read(const char *run_dir, uid_t uid, minted_record *r)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/minted/%u", run_dir, (unsigned)uid);
	read_record(path, r);
}

cft_code minted_record_swap(const char *run_dir, uid_t uid, const minted_record *now,
			    minted_record *previous, cft_error *err)
{
	char path[4200], tmp[4300], line[64];
	memset(previous, 0, sizeof(*previous));
	cft_code rc = root_record_path(run_dir, "minted", uid, path, sizeof(path), err);
	if (rc)
		return rc;
	read_record(path, previous);
	int len = now->id[0] ? snprintf(line, sizeof(line), "%s %lld", now->id,
					(long long)now->expires)
			     : 0;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)len) != len || fsync(fd) != 0 ||
	    rename(tmp, path) != 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "recording the minted token: %s",
			      strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

cft_code job_lock_acquire(const char *run_dir, uid_t uid, int64_t deadline_ms, int *fd,
			  cft_error *err)
{
	char jobs[4096], path[4200];
	snprintf(jobs, sizeof(jobs), "%s/jobs", run_dir);
	snprintf(path, sizeof(path), "%s/%u.lock", jobs, (unsigned)uid);
	cft_code rc = own_dir(run_dir, 0755, err);
	if (!rc)
		rc = own_dir(jobs, 0700, err);
	if (rc)
		return rc;
	return cft_lock_file(path, deadline_ms,
			     "another login or renewal of this user is still running", fd, err);
}
