/* store's last check: a token's policies, as the API describes them, give
 * nothing beyond what the profile's spec grants. */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "mint/token_diff.h"

#define ACCT "com.cloudflare.api.account.0123456789abcdef0123456789abcdef"
#define OTHER_ACCT "com.cloudflare.api.account.ffffffffffffffffffffffffffffffff"
#define ZONE_A "com.cloudflare.api.account.zone.aaaa0000bbbb1111cccc2222dddd3333"
#define ZONE_B "com.cloudflare.api.account.zone.bbbb0000bbbb1111cccc2222dddd3333"
#define ZONES "com.cloudflare.api.account.zone.*"
#define G_ZONE_READ "c8fed203ed3043cba015a93ad1616f1f"
#define G_DNS_WRITE "4755a26eedb94da69e1066d98aa820be"
#define G_WORKERS "e086da7e2179491d91ee5f35b3ca210a"
#define G_TOKENS "5bc3f8b21c554832afc660159ab75fa4"

/* A profile's spec as tokenspec.c builds it: Workers on the account, and
 * Zone Read + DNS Write on the zones given (nested under the account). */
static bool within(const char *zone_key, const char *have)
{
	static const char *const account_groups[] = { G_WORKERS };
	static const char *const zone_groups[] = { G_ZONE_READ, G_DNS_WRITE };
	cft_resource account = { .key = ACCT };
	cft_resource zone = { .key = zone_key };
	cft_resource nested = { .key = ACCT, .children = &zone, .n_children = 1 };
	cft_policy_spec policies[] = {
		{ .group_ids = account_groups, .n_groups = 1, .resources = &account,
		  .n_resources = 1 },
		{ .group_ids = zone_groups, .n_groups = 2, .resources = &nested, .n_resources = 1 },
	};
	cft_token_spec spec = { .name = "cftoken test", .policies = policies, .n_policies = 2 };
	char why[512];
	bool fits = cft_policies_within(&spec, have, why, sizeof(why));
	if (!fits)
		printf("#   why: %s\n", why);
	return fits;
}

#define ALLOW(groups, resources) \
	"{\"effect\":\"allow\",\"permission_groups\":[" groups "],\"resources\":" resources "}"
#define G(id) "{\"id\":\"" id "\",\"name\":\"n\"}"

int main(void)
{
	tap_ok(within(ZONES, "[" ALLOW(G(G_WORKERS), "{\"" ACCT "\":\"*\"}") "," ALLOW(
				     G(G_ZONE_READ) "," G(G_DNS_WRITE),
				     "{\"" ACCT "\":{\"" ZONES "\":\"*\"}}") "]"),
	       "the profile's own policies fit");
	tap_ok(within(ZONES, "[" ALLOW(G(G_ZONE_READ), "{\"" ACCT "\":{\"" ZONE_A "\":\"*\"}}") "]"),
	       "fewer groups on one zone fit within every zone");
	tap_ok(within(ZONES, "[" ALLOW(G(G_WORKERS), "{\"" ACCT "\":{\"" ZONE_A "\":\"*\"}}") "]"),
	       "an account grant holds what lies below the account");
	tap_ok(within(ZONES, "[]"), "no policy at all fits");
	tap_ok(within(ZONES, "[{\"effect\":\"deny\",\"permission_groups\":[" G(G_TOKENS) "],"
			     "\"resources\":{\"" OTHER_ACCT "\":\"*\"}}]"),
	       "a deny policy only takes rights away");

	tap_ok(!within(ZONES, "[" ALLOW(G(G_TOKENS), "{\"" ACCT "\":\"*\"}") "]"),
	       "a group the profile does not give does not fit");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_WORKERS), "{\"" OTHER_ACCT "\":\"*\"}") "]"),
	       "nor another account");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_WORKERS), "{\"com.cloudflare.api.account.*\":\"*\"}") "]"),
	       "nor every account");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_ZONE_READ), "{\"" ACCT "\":\"*\"}") "]"),
	       "nor a zone group on the whole account (the spec names zones)");
	tap_ok(!within(ZONE_A, "[" ALLOW(G(G_DNS_WRITE), "{\"" ACCT "\":{\"" ZONES "\":\"*\"}}") "]"),
	       "nor every zone for a one-zone profile");
	tap_ok(within(ZONE_A, "[" ALLOW(G(G_DNS_WRITE), "{\"" ACCT "\":{\"" ZONE_A "\":\"*\"}}") "]"),
	       "but that zone fits");
	tap_ok(!within(ZONE_A, "[" ALLOW(G(G_DNS_WRITE), "{\"" ACCT "\":{\"" ZONE_B "\":\"*\"}}") "]"),
	       "and another zone does not");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_ZONE_READ), "{\"" ZONE_A "\":\"*\"}") "]"),
	       "a zone outside the account's map does not fit");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_ZONE_READ),
				       "{\"" ACCT "\":{\"" ZONES "\":\"read\"}}") "]"),
	       "a value other than \"*\" or a map does not fit");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_ZONE_READ), "{}") "]"), "an empty resource map does not fit");
	tap_ok(!within(ZONES, "[{\"effect\":\"maybe\",\"permission_groups\":[],\"resources\":{}}]"),
	       "an unknown effect does not fit");
	tap_ok(!within(ZONES, "[" ALLOW("{\"name\":\"no id\"}", "{\"" ACCT "\":\"*\"}") "]"),
	       "a group without an id does not fit");
	tap_ok(!within(ZONES, "[" ALLOW(G(G_ZONE_READ), "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":\"*\"}}}}}") "]"),
	       "a map deeper than any the API uses does not fit");
	tap_ok(!within(ZONES, "{\"not\":\"a list\"}"), "policies that are not a list do not fit");
	tap_ok(!within(ZONES, "not json"), "nor text that is not JSON");

	static const char *const spec_groups[] = { G_ZONE_READ };
	cft_resource z = { .key = ZONES };
	cft_resource acct = { .key = ACCT, .children = &z, .n_children = 1 };
	cft_policy_spec p = { .group_ids = spec_groups, .n_groups = 1, .resources = &acct,
			      .n_resources = 1 };
	cft_token_spec spec = { .name = "t", .policies = &p, .n_policies = 1 };
	char why[512];
	cft_policies_within(&spec,
			    "[" ALLOW("{\"id\":\"" G_WORKERS "\",\"name\":\"Workers\\u001b[31m\"}",
				      "{\"" ACCT "\":\"*\"}") "]",
			    why, sizeof(why));
	tap_contains(why, G_WORKERS, "why names the group's id");
	tap_contains(why, ACCT, "and the resource");
	tap_ok(strchr(why, 0x1b) == NULL, "with control characters from the API dropped");
	return tap_done();
}
