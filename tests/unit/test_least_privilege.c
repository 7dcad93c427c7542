/* lib/config/least_privilege.c and config_edit.c: the least privilege
 * `cftoken learn` chooses for recorded requests, against
 * data/api-operations.tsv's rows, and the section it writes, word for
 * word; and --write's edit of a configuration file, which keeps every
 * other line. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_edit.h"
#include "config/least_privilege.h"
#include "tap.h"

#define ACC "/accounts/023e105f4ecef8ad9ca31a8372d0c353"
#define ZONE "9a7806061c88ada191ed06f989cc3dac"

/* The groups a learning token holds for the table (its user-scope and
 * token-making groups left out). */
static const char *const account_groups[] = {
	"Account API Tokens Read", "D1 Read", "D1 Write", "Workers KV Storage Read",
	"Workers KV Storage Write", "Workers R2 Storage Read", "Workers R2 Storage Write",
	"Workers Scripts Read", "Workers Scripts Write", "Workers Tail Read",
};
static const char *const zone_groups[] = { "Workers Routes Read", "Workers Routes Write",
					   "Zone Read" };
static const cft_learn_holdable holdable = {
	.account = account_groups, .n_account = sizeof(account_groups) / sizeof(account_groups[0]),
	.zone = zone_groups, .n_zone = sizeof(zone_groups) / sizeof(zone_groups[0]),
};

static char section[4096];

static const char *section_of(const cft_learned *l)
{
	static const char *const argv[] = { "wrangler", "deploy" };
	FILE *f = fmemopen(section, sizeof(section), "w");
	if (!f)
		return "";
	cft_learned_section(f, l, "deploy", "023e105f4ecef8ad9ca31a8372d0c353", argv, 2);
	fclose(f);
	return section;
}

/* "G1, G2": the learned groups. */
static const char *groups_of(const cft_learned *l)
{
	static char out[1024];
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n_groups; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? ", " : "", l->groups[i]);
	return out;
}

static const cft_learn_op *op_named(const cft_learned *l, const char *method, const char *shown)
{
	for (size_t i = 0; i < l->n_ops; i++)
		if (!strcmp(l->ops[i].method, method) && !strcmp(l->ops[i].shown, shown))
			return &l->ops[i];
	return NULL;
}

/* Read before Write where both are accepted; a Write the run needs covers
 * the Read chosen beside it, which is dropped. */
static void test_read_before_write(void)
{
	cft_learned l;
	const cft_learn_call reads[] = {
		{ "GET", ACC "/storage/kv/namespaces", 200 },
		{ "GET", ACC "/workers/scripts/w/settings", 200 },
		{ "POST", ACC "/d1/database/0b7f1c7e-1111-2222-3333-444455556666/query", 200 },
	};
	cft_learn_least(reads, 3, &holdable, &l);
	tap_is_str(groups_of(&l), "D1 Read, Workers KV Storage Read, Workers Scripts Read",
		   "reads alone: each its Read (the one whose Write is accepted, not Tail Read)");
	tap_ok(!l.incomplete && !l.zone_group, "... complete, no zone group");

	const cft_learn_call both[] = {
		{ "GET", ACC "/storage/kv/namespaces", 200 },
		{ "POST", ACC "/storage/kv/namespaces", 200 },
		{ "GET", ACC "/workers/scripts/w/settings", 200 },
		{ "PUT", ACC "/workers/scripts/w", 200 },
		{ "GET", ACC "/workers/subdomain", 200 },
		{ "POST", ACC "/workers/scripts/w/tails", 200 },
	};
	cft_learn_least(both, 6, &holdable, &l);
	tap_is_str(groups_of(&l), "Workers KV Storage Write, Workers Scripts Write",
		   "a Write the run needs covers its Read, and Tail Read (tails accept Scripts Write)");
	const cft_learn_op *o = op_named(&l, "GET", "/accounts/{account_id}/storage/kv/namespaces");
	tap_ok(o && o->kind == CFT_LEARN_GROUP && !strcmp(o->group, "Workers KV Storage Write"),
	       "the dropped Read's operation now names the Write that covers it");
	o = op_named(&l, "POST", "/accounts/{account_id}/workers/scripts/{script_name}/tails");
	tap_ok(o && !strcmp(o->group, "Workers Scripts Write"), "... and so does the tail's");
	tap_is_int(l.n_ops, 6, "six operations");
	tap_is_str(l.ops[0].shown, "/accounts/{account_id}/storage/kv/namespaces",
		   "sorted by template");
	tap_is_str(l.ops[0].method, "GET", "... then method");
}

/* Calls needing no group, and user-scope ones, are reported, not learned;
 * "?" rows and operations the table lacks make the profile incomplete. */
static void test_kinds(void)
{
	cft_learned l;
	const cft_learn_call calls[] = {
		{ "GET", "/accounts", 200 },
		{ "GET", "/user/tokens/verify", 200 },
		{ "GET", "/memberships", 403 },
		{ "GET", "/user", 403 },
		{ "GET", ACC "/workers/services/w", 404 },
		{ "GET", ACC "/workers/services/w", 200 },
		{ "DELETE", "/zones/" ZONE "/dns_records/r1?x=1", 200 },
		{ "PUT", ACC "/workers/scripts/w", 200 },
	};
	cft_learn_least(calls, sizeof(calls) / sizeof(calls[0]), &holdable, &l);
	const cft_learn_op *o = op_named(&l, "GET", "/accounts");
	tap_ok(o && o->kind == CFT_LEARN_NO_GROUP, "GET /accounts: needs none");
	o = op_named(&l, "GET", "/user/tokens/verify");
	tap_ok(o && o->kind == CFT_LEARN_NO_GROUP, "GET /user/tokens/verify: needs none");
	o = op_named(&l, "GET", "/memberships");
	tap_ok(o && o->kind == CFT_LEARN_USER_SCOPE && o->failed == 1 && o->status == 403,
	       "GET /memberships: user scope only, its 403 kept");
	o = op_named(&l, "GET", "/user");
	tap_ok(o && o->kind == CFT_LEARN_USER_SCOPE, "GET /user: user scope only");
	o = op_named(&l, "GET", "/accounts/{account_id}/workers/services/{service_name}");
	tap_ok(o && o->kind == CFT_LEARN_GROUPS_UNKNOWN && o->calls == 2 && o->failed == 1 &&
	       o->status == 200, "a \"?\" row: groups unknown, two calls, one failed, last 200");
	o = op_named(&l, "DELETE", "/zones/{zone_id}/dns_records/r1");
	tap_ok(o && o->kind == CFT_LEARN_NOT_IN_TABLE && !o->op,
	       "an operation the table lacks: shown without the zone's id or the query");
	tap_is_int(l.n_unknown, 2, "two operations whose groups are not known");
	tap_ok(l.incomplete, "... make the profile incomplete");
	tap_is_str(groups_of(&l), "Workers Scripts Write", "only the upload's group is learned");
	tap_is_int(l.n_zones, 0, "a path the table lacks names no zone");
	tap_is_str(section_of(&l),
		   "[profile deploy]\n"
		   "# cftoken learn: learned from wrangler deploy\n"
		   "# incomplete: cftoken's operations table does not know the groups of 2 "
		   "operations the program called; they may need more\n"
		   "account = 023e105f4ecef8ad9ca31a8372d0c353\n"
		   "permissions = Workers Scripts Write\n",
		   "the section says it is incomplete, and why");
}

/* Zone groups: the zones the paths named, or every zone, said so. */
static void test_zones(void)
{
	cft_learned l;
	const cft_learn_call calls[] = {
		{ "GET", "/zones?name=example.com", 200 },
		{ "GET", "/zones/" ZONE "/workers/routes", 200 },
		{ "POST", "/zones/" ZONE "/workers/routes", 200 },
		{ "GET", "/zones/" ZONE "/workers/routes/", 200 },
		{ "PUT", ACC "/workers/scripts/w", 200 },
	};
	cft_learn_least(calls, sizeof(calls) / sizeof(calls[0]), &holdable, &l);
	tap_is_str(groups_of(&l), "Workers Routes Write, Workers Scripts Write, Zone Read",
		   "the routes' Write covers their Read; the zone look-up needs Zone Read");
	tap_ok(l.zone_group && l.n_zones == 1 && !strcmp(l.zones[0], ZONE),
	       "the zone the paths named, once");
	tap_is_str(section_of(&l),
		   "[profile deploy]\n"
		   "# cftoken learn: learned from wrangler deploy\n"
		   "account = 023e105f4ecef8ad9ca31a8372d0c353\n"
		   "permissions = Workers Routes Write, Workers Scripts Write, Zone Read\n"
		   "zones = " ZONE "\n",
		   "the section, word for word");

	const cft_learn_call lookup[] = { { "GET", "/zones?name=example.com", 200 } };
	cft_learn_least(lookup, 1, &holdable, &l);
	tap_is_str(section_of(&l),
		   "[profile deploy]\n"
		   "# cftoken learn: learned from wrangler deploy\n"
		   "account = 023e105f4ecef8ad9ca31a8372d0c353\n"
		   "permissions = Zone Read\n"
		   "# zones: the requests named no zone (or too many), so the zone groups "
		   "cover every zone of the account\n",
		   "a zone group, no zone named: every zone, said so");

	const cft_learn_call none[] = { { "GET", "/accounts", 200 } };
	cft_learn_least(none, 1, &holdable, &l);
	tap_is_str(section_of(&l),
		   "[profile deploy]\n"
		   "# cftoken learn: learned from wrangler deploy\n"
		   "account = 023e105f4ecef8ad9ca31a8372d0c353\n"
		   "# no operation the program called needs a permission group\n",
		   "nothing to learn: said so");
}

/* A group is dropped only when every operation it was chosen for has
 * another: two groups that each cover an operation alone both stay. */
static void test_drop_needs_every_operation(void)
{
	cft_learned l;
	const cft_learn_call calls[] = {
		{ "GET", ACC "/d1/database", 200 },
		{ "GET", ACC "/r2/buckets", 200 },
		{ "POST", ACC "/r2/buckets", 200 },
		{ "GET", ACC "/workers/scripts/w/deployments", 200 },
		{ "POST", ACC "/workers/scripts/w/deployments", 200 },
	};
	cft_learn_least(calls, sizeof(calls) / sizeof(calls[0]), &holdable, &l);
	tap_is_str(groups_of(&l), "D1 Read, Workers R2 Storage Write, Workers Scripts Write",
		   "D1 Read stays (nothing else covers the list); the Writes cover their Reads");
	tap_is_int(l.n_unknown, 0, "every operation known");
}

/* The token could hold none of an operation's groups but one: that one. */
static void test_holdable_only(void)
{
	cft_learned l;
	static const char *const only_write[] = { "Workers Scripts Write" };
	cft_learn_holdable h = { .account = only_write, .n_account = 1 };
	const cft_learn_call calls[] = { { "GET", ACC "/workers/scripts/w/settings", 200 } };
	cft_learn_least(calls, 1, &h, &l);
	tap_is_str(groups_of(&l), "Workers Scripts Write",
		   "the narrowest among the groups the token could hold");
}

static void test_edit(void)
{
	static const char *const text =
		"# my settings\n"
		"[defaults]\n"
		"account = 023e105f4ecef8ad9ca31a8372d0c353   # the team's\n"
		"\n"
		"[profile deploy]\n"
		"# cftoken learn: learned from wrangler deploy --old\n"
		"preset = workers-deploy\n"
		"permissions = Zone Read\n"
		"ttl = 1h   # long jobs\n"
		"# keep this comment\n"
		"zones = example.com\n"
		"\n"
		"# the next one\n"
		"[profile other]\n"
		"permissions = D1 Read\n"
		"zones = example.org";
	static const char *const learned = "[profile deploy]\n"
					   "# cftoken learn: learned from wrangler deploy\n"
					   "permissions = Workers Scripts Write\n";
	char *out = cft_config_with_section(text, "deploy", learned);
	tap_is_str(out,
		   "# my settings\n"
		   "[defaults]\n"
		   "account = 023e105f4ecef8ad9ca31a8372d0c353   # the team's\n"
		   "\n"
		   "[profile deploy]\n"
		   "# cftoken learn: learned from wrangler deploy\n"
		   "permissions = Workers Scripts Write\n"
		   "ttl = 1h   # long jobs\n"
		   "# keep this comment\n"
		   "\n"
		   "# the next one\n"
		   "[profile other]\n"
		   "permissions = D1 Read\n"
		   "zones = example.org\n",
		   "the section's learned keys and old comment replaced; every other line kept");
	free(out);
	out = cft_config_with_section(text, "new", "[profile new]\npermissions = D1 Read\n");
	char want[2048];
	snprintf(want, sizeof(want), "%s\n\n[profile new]\npermissions = D1 Read\n", text);
	tap_is_str(out, want, "a new section goes at the end, after a blank line");
	free(out);
	out = cft_config_with_section("", "new", "[profile new]\npermissions = D1 Read\n");
	tap_is_str(out, "[profile new]\npermissions = D1 Read\n", "an empty file: the section alone");
	free(out);
	out = cft_config_with_section("[profile deployer]\nzones = a.com\n", "deploy",
				      "[profile deploy]\n");
	tap_is_str(out, "[profile deployer]\nzones = a.com\n\n[profile deploy]\n",
		   "[profile deployer] is not [profile deploy]");
	free(out);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static int entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The file: written beside itself and renamed, its mode kept; refused as
 * reading refuses it; a result that would not read back changes nothing. */
static void test_write_file(void)
{
	char dir[] = "/tmp/test-learn-XXXXXX", path[128], sub[128];
	cft_error err;
	if (!mkdtemp(dir)) {
		tap_ok(0, "a scratch directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("# mine\n[profile other]\npermissions = D1 Read\n", f);
		fclose(f);
	}
	chmod(path, 0640);
	cft_error_clear(&err);
	cft_code rc = cft_config_write_section(path, "deploy",
					       "[profile deploy]\npermissions = D1 Write\n", &err);
	tap_is_int(rc, CFT_OK, "written (%s)", err.detail);
	tap_is_str(slurp(path), "# mine\n[profile other]\npermissions = D1 Read\n\n"
		   "[profile deploy]\npermissions = D1 Write\n", "the section added, the rest kept");
	tap_is_int(mode_of(path), 0640, "the file keeps its mode");
	tap_is_int(entries(dir), 1, "no file left beside it");

	cft_error_clear(&err);
	rc = cft_config_write_section(path, "deploy", "[profile deploy]\nno_such_key = 1\n", &err);
	tap_ok(rc != CFT_OK && strstr(err.detail, "no_such_key"),
	       "a result that would not read back is refused (%s)", err.detail);
	tap_contains(slurp(path), "permissions = D1 Write\n", "... and the file is unchanged");
	tap_is_int(entries(dir), 1, "... and no file left beside it");

	chmod(path, 0660);
	cft_error_clear(&err);
	rc = cft_config_write_section(path, "deploy", "[profile deploy]\n", &err);
	tap_ok(rc == CFT_E_INVALID_ARG && strstr(err.detail, "writable by group or others"),
	       "a file its group may write is refused, as reading refuses it (%s)", err.detail);
	tap_contains(slurp(path), "permissions = D1 Write\n", "... and left as it was");
	unlink(path);

	snprintf(sub, sizeof(sub), "%s/cftoken", dir);
	snprintf(path, sizeof(path), "%s/cftoken/config", dir);
	cft_error_clear(&err);
	rc = cft_config_write_section(path, "deploy", "[profile deploy]\npermissions = D1 Read\n",
				      &err);
	tap_ok(rc == CFT_OK && !strcmp(slurp(path), "[profile deploy]\npermissions = D1 Read\n") &&
	       mode_of(path) == 0600 && mode_of(sub) == 0700,
	       "a new file: its directory made (0700), the file 0600 (%s)", err.detail);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	test_read_before_write();
	test_kinds();
	test_zones();
	test_drop_needs_every_operation();
	test_holdable_only();
	test_edit();
	test_write_file();
	return tap_done();
}
