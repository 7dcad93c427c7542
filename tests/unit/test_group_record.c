/* The permission-group cache's record (lib/config/group_record.h): round
 * trips, a bound it never passes, every damaged form a miss and none a
 * crash; and the names it keeps resolve as against the full list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "config/group_record.h"
#include "config/policy.h"

#define API "https://api.cloudflare.com/client/v4"
#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"
#define ID_C "00112233445566778899aabbccddeeff"

/* cft_perm_group holds the strings the API's list owns: here, literals. */
#define W(s) ((char *)(s))

static cft_perm_group groups[] = {
	{ .id = W(ID_A), .name = W("Workers Scripts Write"), .scopes = CFT_SCOPE_ACCOUNT },
	{ .id = W(ID_B), .name = W("Logs Write"), .scopes = CFT_SCOPE_ZONE },
	{ .id = W(ID_C), .name = W("Logs Write"), .scopes = CFT_SCOPE_ACCOUNT },
};

static cft_code format(const cft_perm_group *const *g, size_t n, char *out, size_t *len)
{
	return cft_group_record_format(API, 1795366800, g, n, out, len, NULL);
}

static cft_code parse(const char *text, cft_group_record *r)
{
	return cft_group_record_parse(text, strlen(text), r, NULL);
}

static void test_round_trip(void)
{
	const cft_perm_group *all[] = { &groups[0], &groups[1], &groups[2] };
	char buf[CFT_GROUP_RECORD_MAX + 1];
	size_t len = 0;
	cft_group_record r;
	tap_is_int(format(all, 3, buf, &len), CFT_OK, "three groups are written");
	tap_is_str(buf, "cftoken-groups 1\napi=" API "\nfetched=1795366800\n"
		   ID_A " 1 Workers Scripts Write\n" ID_B " 2 Logs Write\n" ID_C " 1 Logs Write\n",
		   "as lines a person can read");
	tap_is_int((int)len, (int)strlen(buf), "their length is given");
	tap_is_int(cft_group_record_parse(buf, len, &r, NULL), CFT_OK, "and read back");
	tap_is_str(r.api, API, "  with the API");
	tap_ok(r.fetched == 1795366800, "  the time of the fetch");
	tap_is_int((int)r.groups.n, 3, "  and every group");
	bool same = r.groups.n == 3;
	for (size_t i = 0; same && i < 3; i++)
		same = !strcmp(r.groups.items[i].id, groups[i].id) &&
		       !strcmp(r.groups.items[i].name, groups[i].name) &&
		       r.groups.items[i].scopes == groups[i].scopes;
	tap_ok(same, "  each with its id, name and scopes");
	cft_group_record_clear(&r);
	tap_is_int(format(all, 0, buf, &len), CFT_OK, "no group at all is a record too");
	tap_is_int(parse(buf, &r), CFT_OK, "  and reads back");
	tap_is_int((int)r.groups.n, 0, "  empty");
	cft_group_record_clear(&r);
}

static void test_format_refuses(void)
{
	char buf[CFT_GROUP_RECORD_MAX + 1], long_name[200];
	size_t len = 0;
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cft_perm_group bad[] = {
		{ .id = W("0123"), .name = W("Short Id"), .scopes = 1 },
		{ .id = W("0123456789ABCDEF0123456789ABCDEF"), .name = W("Upper Id"), .scopes = 1 },
		{ .id = W(ID_A), .name = W("Two\nLines"), .scopes = 1 },
		{ .id = W(ID_A), .name = W(""), .scopes = 1 },
		{ .id = W(ID_A), .name = W(long_name), .scopes = 1 },
		{ .id = W(ID_A), .name = W("No Scope"), .scopes = 0 },
		{ .id = W(ID_A), .name = W("Too Many Scopes"), .scopes = 32 },
		{ .id = W(NULL), .name = W("No Id"), .scopes = 1 },
	};
	static const char *const why[] = { "a short id", "an upper-case id", "a newline in the name",
					   "an empty name", "a name of 199 characters", "no scope",
					   "scope 32", "no id" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const cft_perm_group *one[] = { &bad[i] };
		tap_is_int(format(one, 1, buf, &len), CFT_E_INVALID_ARG,
			   "a group that would not read back is refused: %s", why[i]);
	}
	const cft_perm_group *one[] = { &groups[0] };
	tap_is_int(cft_group_record_format("HTTPS://API.cloudflare.com/client/v4/", 1, one, 1, buf,
					   &len, NULL),
		   CFT_E_INVALID_ARG, "an API URL that is not normalised is refused");
	/* 64 groups of long names pass 3072 bytes. */
	cft_perm_group many[CFT_GROUP_RECORD_MAX_GROUPS];
	const cft_perm_group *ptrs[CFT_GROUP_RECORD_MAX_GROUPS];
	char names[CFT_GROUP_RECORD_MAX_GROUPS][64];
	for (size_t i = 0; i < CFT_GROUP_RECORD_MAX_GROUPS; i++) {
		snprintf(names[i], sizeof(names[i]), "A Rather Long Permission Group Name Number %zu", i);
		many[i] = (cft_perm_group){ .id = W(ID_A), .name = W(names[i]), .scopes = 1 };
		ptrs[i] = &many[i];
	}
	tap_is_int(format(ptrs, CFT_GROUP_RECORD_MAX_GROUPS, buf, &len), CFT_E_INVALID_ARG,
		   "more than %d bytes is refused", CFT_GROUP_RECORD_MAX);
	tap_is_int(format(ptrs, 20, buf, &len), CFT_OK, "twenty such groups fit");
	tap_ok(len <= CFT_GROUP_RECORD_MAX, "  within the bound (%zu bytes)", len);
}

static void test_damaged(void)
{
	static const struct {
		const char *text, *what;
	} bad[] = {
		{ "", "nothing" },
		{ "cftoken-groups 2\napi=" API "\nfetched=1\n", "another version" },
		{ "cftoken-l1 2\napi=" API "\nfetched=1\n", "another record" },
		{ "cftoken-groups 1\nfetched=1\n", "no API" },
		{ "cftoken-groups 1\napi=HTTPS://API.cloudflare.com/client/v4\nfetched=1\n",
		  "an API URL not normalised" },
		{ "cftoken-groups 1\napi=http://api.cloudflare.com/client/v4\nfetched=1\n",
		  "an http:// API" },
		{ "cftoken-groups 1\napi=" API "\n", "no time" },
		{ "cftoken-groups 1\napi=" API "\nfetched=\n", "an empty time" },
		{ "cftoken-groups 1\napi=" API "\nfetched=-1\n", "a negative time" },
		{ "cftoken-groups 1\napi=" API "\nfetched=12x\n", "a time with a letter" },
		{ "cftoken-groups 1\napi=" API "\nfetched=01\n", "a time with a leading zero" },
		{ "cftoken-groups 1\napi=" API "\nfetched=99999999999999999999\n", "a time too long" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1", "no newline after the time" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n0123 1 Short\n", "a short id" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" "0123456789ABCDEF0123456789ABCDEF 1 Up\n",
		  "an upper-case id" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 0 No Scope\n", "scope 0" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 32 Big Scope\n", "scope 32" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 01 Zero\n", "scope 01" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " x Letter\n", "scope x" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 1 \n", "an empty name" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 1\n", "no name" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 1 Tab\there\n", "a tab in a name" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 1 Last", "no final newline" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n\n", "an empty line" },
		{ "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A "  1 Two Spaces\n",
		  "two spaces after the id" },
	};
	cft_group_record r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tap_is_int(parse(bad[i].text, &r), CFT_E_MALFORMED, "damaged: %s", bad[i].what);
		tap_ok(r.groups.n == 0 && r.groups.items == NULL && r.api[0] == '\0',
		       "  leaves the record empty");
	}
	char text[CFT_GROUP_RECORD_MAX + 64];
	snprintf(text, sizeof(text), "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 1 N%0200d\n", 0);
	tap_is_int(parse(text, &r), CFT_E_MALFORMED, "damaged: a name of 201 characters");
	const char with_nul[] = "cftoken-groups 1\napi=" API "\nfetched=1\n" ID_A " 1 A\0B\n";
	tap_is_int(cft_group_record_parse(with_nul, sizeof(with_nul) - 1, &r, NULL), CFT_E_MALFORMED,
		   "damaged: a NUL inside");
	/* More groups than a record may hold, or more bytes. */
	size_t used = (size_t)snprintf(text, sizeof(text), "cftoken-groups 1\napi=" API "\nfetched=1\n");
	for (int i = 0; i <= CFT_GROUP_RECORD_MAX_GROUPS && used + 40 < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, ID_A " 1 G%d\n", i);
	tap_is_int(parse(text, &r), CFT_E_MALFORMED, "damaged: %d groups",
		   CFT_GROUP_RECORD_MAX_GROUPS + 1);
	char big[CFT_GROUP_RECORD_MAX + 2];
	memset(big, 'a', sizeof(big));
	tap_is_int(cft_group_record_parse(big, sizeof(big), &r, NULL), CFT_E_MALFORMED,
		   "damaged: %zu bytes", sizeof(big));

	/* Every cut of a good record that does not end a line, and every
	 * byte changed: a miss or a record of valid groups, never a crash. */
	const cft_perm_group *all[] = { &groups[0], &groups[1], &groups[2] };
	char good[CFT_GROUP_RECORD_MAX + 1];
	size_t len = 0;
	format(all, 3, good, &len);
	bool cuts_miss = true, flips_valid = true;
	for (size_t cut = 0; cut < len; cut++)
		if (cut == 0 || good[cut - 1] != '\n') {
			cuts_miss &= cft_group_record_parse(good, cut, &r, NULL) == CFT_E_MALFORMED;
			cft_group_record_clear(&r);
		}
	for (size_t at = 0; at < len; at++)
		for (int v = 0; v < 256; v += 7) {
			char copy[CFT_GROUP_RECORD_MAX + 1];
			memcpy(copy, good, len);
			copy[at] = (char)v;
			if (cft_group_record_parse(copy, len, &r, NULL) == CFT_OK)
				for (size_t i = 0; i < r.groups.n; i++)
					flips_valid &= cft_is_id(r.groups.items[i].id) &&
						       r.groups.items[i].name[0] != '\0' &&
						       r.groups.items[i].scopes != 0;
			cft_group_record_clear(&r);
		}
	tap_ok(cuts_miss, "every cut inside a line is a miss");
	tap_ok(flips_valid, "every changed byte is a miss or reads only valid groups");
}

/* The names a record keeps resolve as against the full list: both scopes
 * of "Logs Write" are kept, so the bare name stays ambiguous. */
static void test_names(void)
{
	tap_ok(cft_perm_name_is("Workers Routes Write", "  workers routes EDIT "),
	       "a group's name matches the name as people write it");
	tap_ok(cft_perm_name_is("Logs Write", "zone:Logs Write"), "  its qualifier left out");
	tap_ok(!cft_perm_name_is("Logs Write", "Logs"), "  not a part of it");
	tap_ok(!cft_perm_name_is("Logs Write", ""), "  nor nothing");
	cft_perm_group_list kept = { .items = groups, .n = 3 };
	const char *zone[] = { "zone:Logs Write", "Workers Scripts Write" };
	const char *bare[] = { "Logs Write" };
	const char *unknown[] = { "Workers Scripts Write", "DNS Write" };
	tap_ok(cft_perm_all_resolve(&kept, zone, 2), "qualified names resolve against the kept groups");
	tap_ok(!cft_perm_all_resolve(&kept, bare, 1), "a name of two scopes, unqualified, does not");
	tap_ok(!cft_perm_all_resolve(&kept, unknown, 2), "nor a name the record lacks");
}

int main(void)
{
	test_round_trip();
	test_format_refuses();
	test_damaged();
	test_names();
	return tap_done();
}
