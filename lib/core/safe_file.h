/* Opening what cftoken keeps or reads so that nobody else can steer it.
 *
 * A private directory (locks, apply's state) is checked on the descriptor
 * that is then used, so a directory swapped after the check is never
 * written into.  A file is read with a bound: never blocking on a FIFO
 * or a device, never more than the caller allows, whatever the file
 * claims to be.  libc only (the warm path and the PAM helper use it). */
#pragma once

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef enum cft_dir_mode {
	CFT_DIR_MUST_EXIST,    /* absent: an error */
	CFT_DIR_CREATE,        /* absent: made, mode 0700 (its parent must exist) */
	CFT_DIR_MAY_BE_ABSENT, /* absent: CFT_E_NOT_FOUND, for readers of an empty state */
} cft_dir_mode;

/* A directory of our own: a real directory (a symlink is refused), owned
 * by the real user, writable by neither group nor others.  what names it
 * in messages ("XDG_RUNTIME_DIR", "state directory"), so a person knows
 * which setting to fix.  *fd_out (NULL: not wanted) is an O_PATH
 * descriptor of it, for openat(), renameat() and unlinkat(). */
cft_code cft_private_dir(const char *what, const char *path, cft_dir_mode mode, int *fd_out,
			 cft_error *err);

/* Refuse a symlink as the file itself (a state file in a private
 * directory).  Without it a symlink is followed: configuration and token
 * files named by the user are often links (dotfiles, mounted secrets). */
#define CFT_FILE_NOFOLLOW 1

/* What a file that is not a regular one is, for a message: "a FIFO",
 * "a character device", "a symbolic link"... */
const char *cft_file_kind(mode_t mode);

/* Opens dir_fd/path for reading (dir_fd AT_FDCWD: path as given) without
 * ever blocking: O_NONBLOCK until fstat shows a regular file, which must
 * hold at most max bytes.  A FIFO, a device, a directory or a larger file
 * is refused with a message that says which, naming it as what.
 * CFT_E_NOT_FOUND when absent. */
cft_code cft_file_open(int dir_fd, const char *path, const char *what, size_t max, int flags,
		       int *fd_out, cft_error *err);

/* Reads an open file to its end, at most max bytes: a file that grew past
 * max since it was opened is refused rather than cut.  *len: the bytes. */
cft_code cft_file_read_fd(int fd, const char *what, char *buf, size_t max, size_t *len,
			  cft_error *err);

/* The whole file, NUL-terminated, in a new buffer (free() it), opened
 * and read as above. */
cft_code cft_file_read(int dir_fd, const char *path, const char *what, size_t max, int flags,
		       char **out, size_t *len, cft_error *err);
