/* The git credential-helper protocol (gitcredentials(7)): "key=value"
 * lines on standard input, ended by a blank line or end of input.  Unknown
 * attributes are ignored, as git requires of helpers.  Bounded: a line over
 * CFT_GITCRED_LINE_MAX bytes, more than CFT_GITCRED_LINES lines, a NUL byte
 * or a line without '=' is an error, and nothing is acted on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/secret.h"

#define CFT_GITCRED_LINE_MAX 4096
#define CFT_GITCRED_LINES 128
#define CFT_GITCRED_INPUT_MAX (CFT_GITCRED_LINE_MAX * 8)

typedef struct cft_gitcred {
	char *protocol;
	char *host;
	char *path;
	char *username;
	cft_secret *password;        /* given to store and erase */
	char *password_expiry_utc;
	bool wants_authtype;         /* capability[]=authtype seen (we do not offer it) */
} cft_gitcred;

/* Parses the whole input held in buf (len bytes). */
cft_code cft_gitcred_parse(const char *buf, size_t len, cft_gitcred *out, cft_error *err);

/* Reads standard input (up to CFT_GITCRED_INPUT_MAX bytes) into a secret
 * buffer, which a caller may hand on to another process as is. */
cft_code cft_gitcred_read_input(int fd, cft_secret **raw, cft_error *err);

void cft_gitcred_clear(cft_gitcred *c);

/* Why cftoken gives this request no answer at all, or NULL when it may.
 * A token goes only over HTTPS: protocol=http, smtp or none is refused.
 * A path must hold no "." or ".." segment (between '/' or '\\'), raw or
 * percent-encoded at any depth (%2e%2e, %252e...), and no encoded '/', '\\'
 * or NUL: a server normalises such a path to another place, so a path that
 * seems to lie under a hosts = entry's path could lead anywhere.  The front
 * end and the backend both ask, before any cache is looked at. */
const char *cft_gitcred_refusal(const cft_gitcred *c);
