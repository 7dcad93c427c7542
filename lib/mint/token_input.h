/* Reading a token from where a person puts it: a terminal (no echo), a
 * pipe, or a file readable by its owner only.  Never from argv. */
#pragma once

#include <stdio.h>

#include "core/error.h"
#include "core/secret.h"

/* path: a file, "-" for stdin, or NULL for stdin (read without echo when
 * stdin is a terminal, after writing `prompt` to prompt_to: the program's
 * stderr; NULL for no prompt).  The value is trimmed and checked
 * (cft_token_parse). */
cft_code cft_read_token(const char *path, FILE *prompt_to, const char *prompt,
			cft_secret **out, cft_error *err);
