/* Cleanup by attribute, after systemd's _cleanup_ (src/fundamental/macro)
 * and GLib's g_autoptr: a variable declared with one of these is released
 * when it goes out of scope, on every return path, so an early return
 * cannot leak it.  What a function hands to its caller it gives away with
 * TAKE_PTR, which leaves nothing behind for the cleanup.
 *
 * Types with their own release declare their cleanup beside it:
 * _cleanup_secret_ (core/secret.h: wipes, then frees), _cleanup_lock_
 * (core/lock.h), _cleanup_client_ (api/api.h).  JSON values use jansson's
 * own json_auto_t (jansson >= 2.9), GLib values g_autoptr / g_autofree. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Returns p and leaves NULL in its place: the caller owns the value now,
 * the cleanup of p does nothing. */
#define TAKE_PTR(p)                                                    \
	__extension__({                                                \
		__typeof__(p) *cft_take_p_ = &(p);                     \
		__typeof__(p) cft_take_v_ = *cft_take_p_;              \
		*cft_take_p_ = NULL;                                   \
		cft_take_v_;                                           \
	})

/* No _cleanup_free_ for malloc'd memory: clang-tidy's analyzer does not
 * see a cleanup free it and reports a leak on every return. */

/* -1 is no descriptor.  errno survives: a cleanup runs after the
 * statement that may have set it. */
static inline void cft_closep(int *fd)
{
	if (*fd >= 0) {
		int e = errno;
		close(*fd);
		errno = e;
	}
}
#define _cleanup_close_ _cleanup_(cft_closep)

/* Only for a stream that is read: a written one checks fclose's result. */
static inline void cft_fclosep(FILE **f)
{
	if (*f) {
		int e = errno;
		fclose(*f);
		errno = e;
	}
}
#define _cleanup_fclose_ _cleanup_(cft_fclosep)
