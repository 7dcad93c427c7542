/* The token value in memory: its own type so it cannot be mixed up with an
 * ordinary string.  Lives in an mmap'd page that is mlock'ed (best effort)
 * and excluded from core dumps; wiped before it is returned to the system. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/cleanup.h"
#include "core/error.h"

typedef struct cft_secret cft_secret;

/* Largest secret we hold: a token is at most 80 characters, but git
 * credential input (which may carry one) is held whole, up to 32 KiB. */
#define CFT_SECRET_MAX (64 * 1024)

/* A copy of n bytes of s (s need not be terminated).  NULL on ENOMEM or n
 * over CFT_SECRET_MAX. */
cft_secret *cft_secret_new(const char *s, size_t n);

/* An empty secret with room for n bytes, to be filled through
 * cft_secret_buffer() and sealed with cft_secret_set_len(). */
cft_secret *cft_secret_alloc(size_t n);
char *cft_secret_buffer(cft_secret *s);
size_t cft_secret_capacity(const cft_secret *s);
void cft_secret_set_len(cft_secret *s, size_t n);

/* The value, always NUL-terminated. */
const char *cft_secret_str(const cft_secret *s);
size_t cft_secret_len(const cft_secret *s);
int cft_secret_equal(const cft_secret *a, const cft_secret *b);

/* Wipe and release; NULL-safe; returns NULL so `s = cft_secret_free(s)` works. */
cft_secret *cft_secret_free(cft_secret *s);

static inline void cft_secret_freep(cft_secret **s)
{
	if (s && *s)
		*s = cft_secret_free(*s);
}
#define _cleanup_secret_ _cleanup_(cft_secret_freep)

/* Wipe memory the compiler may not optimise away. */
void cft_wipe(void *p, size_t n);

/* Token values as a person pastes them: trims leading and trailing white
 * space (a newline from `echo`, spaces from the clipboard), refuses a legacy
 * Global API Key (37 lowercase hex characters) and anything that is not
 * 40 to 80 characters of [A-Za-z0-9_-] (the older 40-character tokens and
 * the prefixed cfat_ / cfut_ ones).  The message never contains the value. */
cft_code cft_token_parse(const char *s, size_t n, cft_secret **out, cft_error *err);

/* Whether s, exactly as given (no trimming), is shaped like a Cloudflare
 * API token and not like another vendor's: cfat_ or cfut_ and then 40 to
 * 75 of [A-Za-z0-9_-], or exactly 40 of them (the older tokens) that do not
 * start as GitHub's do (ghp_, gho_, ghu_, ghs_, ghr_: 40 characters too).
 * For a value that came from somewhere else (git's store): only a value of
 * this shape is ever shown to the API. */
bool cft_token_is_cloudflare_shaped(const char *s, size_t n);

/* A token handed to a forked process through a pipe (a secret's pages do
 * not cross fork): reads fd to its end (at most a token's length), closes
 * it, and parses what came (cft_token_parse).  *out is NULL when nothing
 * came; the buffer is wiped. */
cft_code cft_token_read_fd(int fd, cft_secret **out, cft_error *err);

#define CFT_TOKEN_MIN_LEN 40
#define CFT_TOKEN_MAX_LEN 80
#define CFT_GLOBAL_KEY_LEN 37
