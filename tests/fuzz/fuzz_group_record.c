/* libFuzzer target: the permission-group cache's record
 * (lib/config/group_record.c).  The input is what a kernel-keyring key
 * holds, which the user can write.  A damaged record leaves nothing
 * behind; one that parses holds only groups that can be kept, and is
 * exactly what cft_group_record_format writes for them: the format has
 * one spelling of everything (no leading zeros, lower-case ids). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/group_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cft_group_record r;
	char out[CFT_GROUP_RECORD_MAX + 1];
	size_t len = 0;
	const cft_perm_group *groups[CFT_GROUP_RECORD_MAX_GROUPS];

	if (cft_group_record_parse((const char *)data, size, &r, NULL) != CFT_OK) {
		if (r.groups.items || r.groups.n || r.api[0] || r.fetched)
			abort();  /* a damaged record leaves nothing behind */
		return 0;
	}
	if (r.groups.n > CFT_GROUP_RECORD_MAX_GROUPS || !cft_api_url_is(r.api, r.api))
		abort();
	for (size_t i = 0; i < r.groups.n; i++)
		groups[i] = &r.groups.items[i];
	if (cft_group_record_format(r.api, r.fetched, groups, r.groups.n, out, &len, NULL) != CFT_OK)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	cft_group_record_clear(&r);
	return 0;
}
