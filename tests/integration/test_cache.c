/* cache.h across its levels: the real L1 (this user's kernel keyring) and
 * an L2 of one slot in memory, given through the table of functions as
 * the backend gives libsecret's.  What it checks is the interface's own
 * part: the order of the levels, the three answers of a look-up (a level
 * that cannot answer is never "absent"), and that a drop reaches both.
 * Linked with libcftoken_core alone, as the warm front ends are: cache.c
 * must need nothing more.
 *
 * Tests of one uid share its user keyring: every key here is of an API
 * URL, account and token id of this run's own. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "cache/cache.h"
#include "cache/keyring.h"
#include "cache/l1.h"

/* The fake L2: one record, or none; `answer` forces a lookup's code. */
struct cft_l2 {
	cft_l1_record slot;
	bool full;
	cft_code answer;
	int lookups, stores, drops;
};

static cft_code fake_lookup(cft_l2 *l2, const char *account, const char *profile,
			    const char *api_url, cft_l1_record *out, cft_error *err)
{
	(void)account;
	(void)profile;
	(void)api_url;
	l2->lookups++;
	if (l2->answer)
		return cft_fail(err, l2->answer, "the fake Secret Service says no");
	if (!l2->full)
		return CFT_E_NOT_FOUND;
	*out = l2->slot;
	out->token = cft_secret_new(cft_secret_str(l2->slot.token),
				    cft_secret_len(l2->slot.token));
	return CFT_OK;
}

static cft_code fake_store(cft_l2 *l2, const cft_l1_record *r, const char *api_url,
			   cft_error *err)
{
	(void)api_url;
	(void)err;
	l2->stores++;
	cft_l1_record_clear(&l2->slot);
	l2->slot = *r;
	l2->slot.token = cft_secret_new(cft_secret_str(r->token), cft_secret_len(r->token));
	l2->full = true;
	return CFT_OK;
}

static cft_code fake_drop_all(cft_l2 *l2)
{
	l2->drops++;
	cft_l1_record_clear(&l2->slot);
	l2->full = false;
	return CFT_OK;
}

static cft_code fake_drop(cft_l2 *l2, const char *account, const char *profile,
			  const char *api_url, cft_error *err)
{
	(void)account;
	(void)profile;
	(void)api_url;
	(void)err;
	return fake_drop_all(l2);
}

static cft_code fake_drop_key(cft_l2 *l2, const char *key, cft_error *err)
{
	(void)key;
	(void)err;
	return fake_drop_all(l2);
}

static const cft_cache_l2_ops fake_ops = {
	.lookup = fake_lookup,
	.store = fake_store,
	.drop = fake_drop,
	.drop_id = fake_drop_key,
	.drop_api = fake_drop_key,
};

static char api[128], account[33], id[33];
#define PROFILE "cache-test"

static cft_l1_record sample(void)
{
	cft_l1_record r = { 0 };
	r.token = cft_secret_new("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234", 49);
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.account, sizeof(r.account), "%s", account);
	snprintf(r.profile, sizeof(r.profile), "%s", PROFILE);
	r.expires = time(NULL) + 600;
	r.renew_at = r.expires - 60;
	return r;
}

static cft_code lookup(cft_cache c, cft_cache_level levels)
{
	cft_l1_record r = { 0 };
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = cft_cache_lookup(c, levels, account, PROFILE, api, &r, &err);
	if (rc == CFT_OK && strcmp(r.id, id) != 0)
		rc = CFT_E_INTERNAL;
	cft_l1_record_clear(&r);
	return rc;
}

int main(void)
{
	unsigned long tag = (unsigned long)getpid() ^ (unsigned long)time(NULL) << 16;
	snprintf(api, sizeof(api), "https://cache-test-%lx.invalid/client/v4", tag);
	snprintf(account, sizeof(account), "%032lx", tag);
	snprintf(id, sizeof(id), "%032lx", ~tag);
	cft_keyring_prepare(NULL);

	struct cft_l2 fake = { 0 };
	cft_cache both = { .ops = &fake_ops, .l2 = &fake };
	cft_l1_record r = sample();

	tap_is_int(lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_BOTH), CFT_E_NOT_FOUND,
		   "L1 alone, nothing stored: absent");
	tap_is_int(lookup(both, CFT_CACHE_BOTH), CFT_E_NOT_FOUND,
		   "both levels, nothing stored: absent");
	tap_is_int(fake.lookups, 1, "L2 was asked after L1 missed");

	fake.answer = CFT_E_L2_LOCKED;
	tap_is_int(lookup(both, CFT_CACHE_BOTH), CFT_E_L2_LOCKED,
		   "L1 misses, L2 locked: unavailable, not absent");
	fake.answer = CFT_E_L2_UNAVAILABLE;
	tap_is_int(lookup(both, CFT_CACHE_L2), CFT_E_L2_UNAVAILABLE,
		   "L2 asked alone and not answering: unavailable");
	fake.answer = CFT_OK;

	tap_is_int(cft_cache_store(both, CFT_CACHE_L2, NULL, &r, api, NULL), CFT_OK,
		   "stored in L2 only");
	tap_is_int(lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_BOTH), CFT_E_NOT_FOUND,
		   "L1 alone does not see what L2 holds");
	tap_is_int(lookup(both, CFT_CACHE_L1), CFT_E_NOT_FOUND, "nor does L1 asked alone");
	tap_is_int(lookup(both, CFT_CACHE_BOTH), CFT_OK, "both levels: the L2 hit");
	tap_is_int(lookup(both, CFT_CACHE_L1), CFT_E_NOT_FOUND, "an L2 hit does not refill L1");

	tap_is_int(cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_BOTH, NULL, &r, api, NULL),
		   CFT_OK, "stored with L1 alone in force");
	int asked = fake.lookups;
	fake.answer = CFT_E_L2_LOCKED;
	tap_is_int(lookup(both, CFT_CACHE_BOTH), CFT_OK, "an L1 hit answers, L2 locked or not");
	tap_is_int(fake.lookups, asked, "and L2 is not asked");
	fake.answer = CFT_OK;

	tap_is_int(cft_cache_drop(both, account, PROFILE, api, NULL), CFT_OK, "dropped");
	tap_is_int(lookup(both, CFT_CACHE_BOTH), CFT_E_NOT_FOUND, "gone from both levels");

	cft_cache_store(both, CFT_CACHE_BOTH, NULL, &r, api, NULL);
	tap_is_int(lookup(both, CFT_CACHE_L1), CFT_OK, "stored in both: L1 holds it");
	tap_ok(fake.full, "and L2 holds it");
	tap_is_int(cft_cache_drop_id(both, id), 1, "dropped by id: one L1 key held it");
	tap_is_int(lookup(both, CFT_CACHE_BOTH), CFT_E_NOT_FOUND, "gone from both levels");

	cft_cache_store(both, CFT_CACHE_BOTH, NULL, &r, api, NULL);
	int drops = fake.drops;
	tap_is_int(cft_cache_drop_api(CFT_CACHE_L1_ALONE, api), 1,
		   "dropped by API with L1 alone: one key");
	tap_is_int(fake.drops, drops, "L2, not in force, untouched");
	tap_is_int(cft_cache_drop_api(both, api), 0, "dropped by API again: no L1 key left");
	tap_ok(!fake.full, "and L2's copy is gone");

	cft_l1_record_clear(&r);
	cft_l1_record_clear(&fake.slot);
	return tap_done();
}
