/* Forgets what an earlier test's emulator left in the user keyring under
 * the API URL a new emulator now has.  Each emulator listens on a port the
 * kernel picks, and ports come round again: later in the same run, and in
 * later runs on one machine, whose keyrings outlive them.  The keys
 * cftoken names by their API (tokens and permission groups in the user
 * keyring, the parent in the persistent one, for three days) would then
 * meet a test that expects none: test_groups.sh found the groups "cached
 * 4 h ago" before its first mint, and test_helper.sh a parent (the seed's,
 * valid at every emulator) before its login.  with-emulator.sh runs this
 * once the port is known, before the test.
 *   forget_api API_URL
 * Prints the API's hash, which ends the names of its keys (a test finds
 * its own key by name with it, not by reading every key of @u).  Exit 0
 * when no key of that API is left. */
#include <stdio.h>
#include <string.h>

#include "cache/keyring.h"
#include "cache/parent.h"
#include "core/fingerprint.h"

typedef struct forget_ctx {
	char suffix[CFT_API_HASH_SIZE + 1];  /* ":" and the API's hash */
	unsigned forgotten;
	int failed;
} forget_ctx;

/* Every description cftoken gives a key of one API ends with its hash
 * (lib/cache/l1.c, parent.c, lib/config/group_cache.c). */
static int forget(const char *desc, void *p)
{
	forget_ctx *c = p;
	size_t n = strlen(desc), s = strlen(c->suffix);
	cft_error err;
	if (n < s || strcmp(desc + n - s, c->suffix) != 0)
		return 0;
	cft_error_clear(&err);
	if (cft_keyring_drop(desc, &err) == CFT_OK) {
		c->forgotten++;
	} else {
		fprintf(stderr, "forget_api: %s: %s\n", desc, err.detail);
		c->failed = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	forget_ctx c = { .forgotten = 0 };
	char hash[CFT_API_HASH_SIZE];
	cft_error err;
	if (argc != 2) {
		fprintf(stderr, "usage: forget_api API_URL\n");
		return 2;
	}
	cft_api_hash(argv[1], hash);
	snprintf(c.suffix, sizeof(c.suffix), ":%s", hash);
	cft_error_clear(&err);
	if (cft_keyring_each("cftoken", forget, &c, &err) != CFT_OK ||
	    cft_parent_drop(argv[1], &err) != CFT_OK) {
		fprintf(stderr, "forget_api: %s\n", err.detail);
		return 1;
	}
	if (c.forgotten)
		fprintf(stderr, "forget_api: %u key(s) an earlier emulator at %s left\n",
			c.forgotten, argv[1]);
	printf("%s\n", hash);
	return c.failed;
}
