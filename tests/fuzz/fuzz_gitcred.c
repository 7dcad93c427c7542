/* libFuzzer target: the git credential-protocol reader (lib/core/gitcred.c).
 * The input is what git writes on the helper's standard input.  It is
 * parsed as a buffer; and one input in eight (by length, so that every
 * input replays the same way) is also read through cft_gitcred_read_input
 * from a memfd and parsed again, the way `cftoken get` does it.  That
 * reader holds its input in a 32 KiB locked mapping, which costs ten times
 * the parse (mmap, the page faults of its wipe, munmap): on every input it
 * would leave the parser a tenth of the executions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/gitcred.h"

static void check_field(const char *s)
{
	/* Lines are split at '\n': no value can hold one. */
	if (s && strchr(s, '\n'))
		abort();
}

static void parse(const char *buf, size_t len)
{
	cft_gitcred c;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = cft_gitcred_parse(buf, len, &c, &err);
	if (rc != CFT_OK) {
		/* On failure the output is left empty. */
		if (c.protocol || c.host || c.path || c.username || c.password ||
		    c.password_expiry_utc || err.code != rc)
			abort();
		return;
	}
	check_field(c.protocol);
	check_field(c.host);
	check_field(c.path);
	check_field(c.username);
	check_field(c.password_expiry_utc);
	if (c.password && memchr(cft_secret_str(c.password), '\n', cft_secret_len(c.password)))
		abort();
	cft_gitcred_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;

	parse((const char *)data, size);
	if (size % 8 != 0)
		return 0;

	if (fd < 0 && (fd = memfd_create("fuzz-gitcred", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	cft_secret *raw = NULL;
	cft_error err;
	cft_error_clear(&err);
	if (cft_gitcred_read_input(fd, &raw, &err) == CFT_OK) {
		if (cft_secret_len(raw) > size || cft_secret_len(raw) > CFT_GITCRED_INPUT_MAX)
			abort();
		parse(cft_secret_str(raw), cft_secret_len(raw));
		cft_secret_free(raw);
	}
	return 0;
}
