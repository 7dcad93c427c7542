/* lib/core/safe_file.h: a bounded read refuses what is not a small regular
 * file without blocking or reading it; a private directory is ours, real
 * and writable by nobody else. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "core/safe_file.h"

static char dir[] = "/tmp/cftoken-safe-file.XXXXXX";

/* dir/name, in one of two buffers, so that two may be arguments at once. */
static const char *at(const char *name)
{
	static char paths[2][256];
	static int next;
	char *path = paths[next++ % 2];
	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	return path;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");
	fputs(text, f);
	fclose(f);
}

/* The code and message of reading name with max and flags. */
static cft_code try_read(const char *path, size_t max, int flags, cft_error *err)
{
	char *text = NULL;
	size_t len = 0;
	cft_error_clear(err);
	cft_code rc = cft_file_read(AT_FDCWD, path, "the file", max, flags, &text, &len, err);
	free(text);
	return rc;
}

static void reads(void)
{
	cft_error err;
	char *text = NULL;
	size_t len = 0;
	write_file("small", "abc\n");
	tap_is_int(cft_file_read(AT_FDCWD, at("small"), "small", 4, 0, &text, &len, &err), CFT_OK,
		   "a regular file of exactly max bytes is read");
	tap_is_str(text, "abc\n", "whole, NUL-terminated");
	tap_is_int(len, 4, "with its length");
	free(text);

	tap_is_int(try_read(at("small"), 3, 0, &err), CFT_E_INVALID_ARG, "one byte more: refused");
	tap_ok(strstr(err.detail, "too large (4 bytes; at most 3)") != NULL, "as too large: %s",
	       err.detail);

	mkfifo(at("fifo"), 0600);
	tap_is_int(try_read(at("fifo"), 1024, 0, &err), CFT_E_INVALID_ARG,
		   "a FIFO with no writer: refused, not waited on");
	tap_ok(strstr(err.detail, "not a regular file (a FIFO)") != NULL, "named: %s", err.detail);

	tap_is_int(try_read("/dev/zero", 1024, 0, &err), CFT_E_INVALID_ARG, "/dev/zero: refused");
	tap_ok(strstr(err.detail, "(a character device)") != NULL, "named: %s", err.detail);

	int fd = open(at("sparse"), O_WRONLY | O_CREAT, 0600);
	tap_ok(fd >= 0 && ftruncate(fd, (off_t)2 << 30) == 0, "a sparse 2 GiB file");
	close(fd);
	tap_is_int(try_read(at("sparse"), 1 << 20, 0, &err), CFT_E_INVALID_ARG,
		   "is refused before any byte is read");
	tap_ok(strstr(err.detail, "too large (2147483648 bytes") != NULL, "named: %s", err.detail);
	unlink(at("sparse"));

	tap_is_int(try_read(at("absent"), 1024, 0, &err), CFT_E_NOT_FOUND, "absent: not found");

	tap_ok(symlink(at("small"), at("link")) == 0, "a symlink to it");
	tap_is_int(try_read(at("link"), 1024, 0, &err), CFT_OK, "a symlink is followed by default");
	tap_is_int(try_read(at("link"), 1024, CFT_FILE_NOFOLLOW, &err), CFT_E_INVALID_ARG,
		   "and refused with CFT_FILE_NOFOLLOW");
	tap_ok(strstr(err.detail, "is a symlink") != NULL, "named: %s", err.detail);
}

static void private_dirs(void)
{
	cft_error err;
	int fd = -1;
	cft_error_clear(&err);
	tap_is_int(cft_private_dir("d", at("new"), CFT_DIR_MAY_BE_ABSENT, &fd, &err),
		   CFT_E_NOT_FOUND, "an absent directory that may be absent: not found");
	tap_is_int(cft_private_dir("d", at("new"), CFT_DIR_MUST_EXIST, NULL, &err),
		   CFT_E_INVALID_ARG, "one that must exist: an error");
	tap_is_int(cft_private_dir("d", at("new"), CFT_DIR_CREATE, &fd, &err), CFT_OK,
		   "created when asked");
	struct stat st;
	tap_ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0700,
	       "mode 0700, with a descriptor of it");
	close(fd);
	chmod(at("new"), 0770);
	tap_is_int(cft_private_dir("d", at("new"), CFT_DIR_MUST_EXIST, &fd, &err),
		   CFT_E_INVALID_ARG, "group-writable: refused");
	tap_ok(fd == -1 && strstr(err.detail, "writable by group or others (mode 0770)") != NULL,
	       "no descriptor, and why: %s", err.detail);
	tap_ok(symlink(at("new"), at("linked")) == 0, "a symlink to it");
	tap_is_int(cft_private_dir("d", at("linked"), CFT_DIR_CREATE, &fd, &err),
		   CFT_E_INVALID_ARG, "a symlink to a directory: refused");
	tap_ok(strstr(err.detail, "not a directory (a symlink?)") != NULL, "why: %s", err.detail);
	if (getuid() == 0) {
		chmod(at("new"), 0700);
		tap_ok(chown(at("new"), 65534, 65534) == 0, "a directory of another user (uid 65534)");
		tap_is_int(cft_private_dir("d", at("new"), CFT_DIR_MUST_EXIST, &fd, &err),
			   CFT_E_INVALID_ARG, "is refused");
		tap_ok(strstr(err.detail, "belongs to another user (uid 65534)") != NULL, "why: %s",
		       err.detail);
	} else {
		tap_ok(1, "# SKIP a directory of another user: needs root to make one");
	}
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	reads();
	private_dirs();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_ok(0, "cleaning %s up", dir);
	return tap_done();
}
