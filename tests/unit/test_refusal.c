/* lib/config/refusal.c: the line cftoken prints for a refused request,
 * word for word, against data/api-operations.tsv's rows: one accepted
 * group, several (Read first for a GET), a group held but not for the
 * resource, no group needed, a "?" row, an operation the table lacks. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/operations.h"
#include "config/refusal.h"
#include "tap.h"

#define ACC "/accounts/023e105f4ecef8ad9ca31a8372d0c353"

static char got[1024];

static const char *refusal(const char *method, const char *path, const char *const *names,
			   size_t n)
{
	cft_refusal_line(got, sizeof(got), method, path, 403, "deploy", names, n);
	return got;
}

static const char *const kv[] = { "Workers KV Storage Write", "Account Settings Read", NULL };
/* Held in any case, with a qualifier, in the dashboard's wording. */
static const char *const scripts_zone[] = { "workers scripts write", "Zone: Zone Read", NULL };
static const char *const routes_edit[] = { "Workers Routes Edit", NULL };
static const char *const none[] = { NULL };

static const struct {
	const char *method, *path;
	const char *const *names;
	const char *want, *what;
} cases[] = {
	/* The profile lacks every accepted group: one to add. */
	{ "PUT", ACC "/workers/scripts/hello", kv,
	  "cftoken: PUT /accounts/{account_id}/workers/scripts/{script_name} needs "
	  "\"Workers Scripts Write\"; profile deploy lacks it: add it to permissions =",
	  "one accepted group: the group to add" },
	{ "GET", ACC "/workers/scripts/hello/secrets?x=1", kv,
	  "cftoken: GET /accounts/{account_id}/workers/scripts/{script_name}/secrets "
	  "needs one of \"Workers Tail Read\", \"Workers Scripts Write\", \"Workers "
	  "Scripts Read\"; profile deploy lacks them all: add \"Workers Scripts Read\" "
	  "to permissions =",
	  "several: the table's list, and for a GET the Read whose Write is accepted" },
	{ "GET", "/memberships", kv,
	  "cftoken: GET /memberships needs one of \"Memberships Write\", \"Memberships "
	  "Read\"; profile deploy lacks them all: add \"Memberships Read\" to permissions =",
	  "a GET: Read before Write, whatever the table's order" },
	{ "POST", ACC "/workers/scripts/w/tails", kv,
	  "cftoken: POST /accounts/{account_id}/workers/scripts/{script_name}/tails "
	  "needs one of \"Workers Tail Read\", \"Workers Scripts Write\"; profile deploy "
	  "lacks them all: add \"Workers Tail Read\" to permissions =",
	  "not a GET: the table's first group" },
	{ "GET", ACC "/storage/kv/namespaces", none,
	  "cftoken: GET /accounts/{account_id}/storage/kv/namespaces needs one of "
	  "\"Workers KV Storage Write\", \"Workers KV Storage Read\"; profile deploy "
	  "lacks them all: add \"Workers KV Storage Read\" to permissions =",
	  "a profile with no names" },
	/* It holds one: the token's resources are at fault, no group offered. */
	{ "GET", "/zones", scripts_zone,
	  "cftoken: GET /zones needs \"Zone Read\"; profile deploy has \"Zone Read\", "
	  "and the API refused it all the same: a missing group is not the cause",
	  "held (any case, qualified), on no account or zone: no fix offered" },
	{ "GET", "/zones/9a7806061c88ada191ed06f989cc3dac/workers/routes", routes_edit,
	  "cftoken: GET /zones/{zone_id}/workers/routes needs one of \"Workers Routes "
	  "Write\", \"Workers Routes Read\"; profile deploy has \"Workers Routes Write\", "
	  "but not for this zone: check its zones =",
	  "held in the dashboard's wording, on a zone: its zones are at fault" },
	{ "PUT", ACC "/workers/scripts/hello", scripts_zone,
	  "cftoken: PUT /accounts/{account_id}/workers/scripts/{script_name} needs "
	  "\"Workers Scripts Write\"; profile deploy has \"Workers Scripts Write\", but "
	  "not for this account: check its account =",
	  "held, on an account: its account is at fault" },
	/* What the table does not know is said so, never guessed. */
	{ "GET", ACC "/r2/buckets/photos", none,
	  "cftoken: GET /accounts/{account_id}/r2/buckets/{bucket_name} was refused "
	  "(403); cftoken's operations table does not know which permission groups allow it",
	  "a \"?\" row: said plainly, no group guessed" },
	{ "GET", ACC "/foo/bar?token=x", none,
	  "cftoken: GET /accounts/{account_id}/foo/bar was refused (403); cftoken's "
	  "operations table does not know this operation",
	  "an operation the table lacks: its path without the id and the query" },
	{ "DELETE", "/zones/9a7806061c88ada191ed06f989cc3dac/dns_records/r1", none,
	  "cftoken: DELETE /zones/{zone_id}/dns_records/r1 was refused (403); "
	  "cftoken's operations table does not know this operation",
	  "a zone's id is left out too" },
	{ "GET", "/accounts", none,
	  "cftoken: GET /accounts was refused (403), though it needs no permission "
	  "group: a missing group is not the cause",
	  "an operation that needs no group: no group blamed" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 0;
		while (cases[i].names[n])
			n++;
		tap_is_str(refusal(cases[i].method, cases[i].path, cases[i].names, n),
			   cases[i].want, "%s", cases[i].what);
	}
	char small[24];
	cft_refusal_line(small, sizeof(small), "GET", "/zones", 403, "deploy", NULL, 0);
	tap_is_str(small, "cftoken: GET /zones nee", "a small buffer holds the line's start");
}

/* Every row of the table: its template and each of its groups appear,
 * and a profile holding none is told to add one of them. */
static void test_every_row(void)
{
	size_t n, bad = 0;
	const struct cft_operation *ops = cft_operations(&n);
	for (size_t i = 0; i < n; i++) {
		char path[512], want[512];
		snprintf(path, sizeof(path), "%s", ops[i].template);
		refusal(ops[i].method, path, NULL, 0);
		snprintf(want, sizeof(want), "cftoken: %s %s ", ops[i].method, ops[i].template);
		bool ok = !strncmp(got, want, strlen(want));
		for (size_t g = 0; ops[i].groups[g]; g++) {
			snprintf(want, sizeof(want), "\"%s\"", ops[i].groups[g]);
			ok = ok && strstr(got, want);
		}
		if (ops[i].groups[0] && !ops[i].groups_unknown)
			ok = ok && strstr(got, "; profile deploy lacks ") &&
			     strstr(got, " to permissions =");
		if (!ok) {
			tap_ok(0, "row %s %s: %s", ops[i].method, ops[i].template, got);
			bad++;
		}
	}
	tap_ok(n > 50 && bad == 0, "each of the table's %zu rows gives its template and groups", n);
}

int main(void)
{
	test_cases();
	test_every_row();
	return tap_done();
}
