/* learn: runs a program through exec --proxy's forwarder (proxied_run.h)
 * with a learning token, records every request the forwarder passes on,
 * and prints the least privilege that covers them
 * (config/least_privilege.h): a profile section and a table, or one JSON
 * object; --write puts the section into the user's configuration file
 * (config/config_edit.h).
 *
 * The learning token holds every group of the operations table that an
 * account-owned token can hold (the token-making groups only under
 * allow_token_minting: the program reaches the API through the
 * forwarder, so what the token may do, the program may), on the account
 * and every zone of it.  It lasts 15 minutes (renewed by the forwarder
 * when a run lasts longer), is never cached, and is deleted when the
 * program exits, as exec deletes a token under cache = none. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "obtain_token.h"
#include "proxied_run.h"
#include "api/operations.h"
#include "config/config_edit.h"
#include "config/group_cache.h"
#include "config/least_privilege.h"
#include "config/policy.h"
#include "config/profile_spec.h"
#include "core/fingerprint.h"

/* The learning token's life, and when the forwarder renews it. */
#define LEARN_TTL_S (15 * 60)
#define LEARN_RENEW_MARGIN_S (5 * 60)
/* Requests kept; a run that makes more is learned from these, and its
 * profile is marked incomplete. */
#define MAX_CALLS 100000

/* The requests the forwarder passed on, from its connection threads. */
typedef struct recorder {
	pthread_mutex_t lock;
	cft_learn_call *calls;
	size_t n, cap;
	size_t lost;                 /* past MAX_CALLS, or out of memory */
} recorder;

static void record_call(void *ctx, const char *method, const char *path, int status)
{
	recorder *rec = ctx;
	pthread_mutex_lock(&rec->lock);
	if (rec->n == rec->cap && rec->cap < MAX_CALLS) {
		size_t cap = rec->cap ? rec->cap * 2 : 64;
		cft_learn_call *more = realloc(rec->calls, cap * sizeof(*more));
		if (more) {
			rec->calls = more;
			rec->cap = cap;
		}
	}
	char *m = NULL, *p = NULL;
	if (rec->n < rec->cap && (m = strdup(method)) && (p = strdup(path))) {
		rec->calls[rec->n++] = (cft_learn_call){ .method = m, .path = p, .status = status };
	} else {
		free(m);
		rec->lost++;
	}
	pthread_mutex_unlock(&rec->lock);
}

static void recorder_clear(recorder *rec)
{
	for (size_t i = 0; i < rec->n; i++) {
		free((char *)rec->calls[i].method);
		free((char *)rec->calls[i].path);
	}
	free(rec->calls);
}

/* The table's groups, each once, and which of them the learning token
 * holds, by scope. */
typedef struct learning_groups {
	const char *all[CFT_SPEC_MAX_GROUPS];
	size_t n_all;
	const char *names[CFT_SPEC_MAX_GROUPS];  /* held: account's, then zones' */
	size_t n_names;
	const char *account[CFT_SPEC_MAX_GROUPS];
	size_t n_account;
	const char *zone[CFT_SPEC_MAX_GROUPS];
	size_t n_zone;
} learning_groups;

static void table_groups(learning_groups *lg)
{
	size_t n;
	const struct cft_operation *ops = cft_operations(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t g = 0; ops[i].groups[g]; g++) {
			bool seen = false;
			for (size_t k = 0; k < lg->n_all && !seen; k++)
				seen = !strcmp(lg->all[k], ops[i].groups[g]);
			if (!seen && lg->n_all < CFT_SPEC_MAX_GROUPS)
				lg->all[lg->n_all++] = ops[i].groups[g];
		}
}

/* Which of the table's groups an account-owned token for account can
 * hold: resolved against the account's permission groups (the cache's,
 * else the API's), at account or zone scope. */
static cft_code holdable_groups(const cli *c, lazy_parent *lp, const char *account,
				learning_groups *lg, cft_error *err)
{
	const cft_secret *parent;
	cft_client *client = NULL;
	cft_perm_group_list list = { 0 };
	table_groups(lg);
	cft_code rc = cli_get_parent(lp, &parent, err);
	cft_client_options o = { .api_url = c->api_url, .ca_file = c->ca_file,
				 .proxy = c->cfg->proxy, .timeout_ms = c->timeout_ms };
	if (!rc)
		rc = cft_client_new(&o, parent, &client, err);
	if (!rc)
		rc = cft_group_cache_groups(client, CFT_ACCOUNT_OWNED(account),
					    cft_group_cache_ttl(c->cfg), NULL, lg->all, lg->n_all,
					    &list, err);
	cft_client_free(client);
	if (rc)
		return rc;
	for (size_t i = 0; i < lg->n_all; i++) {
		const cft_perm_group *g = NULL;
		cft_error ignored;
		cft_error_clear(&ignored);
		if (cft_perm_resolve(&list, lg->all[i], CFT_SCOPE_ACCOUNT | CFT_SCOPE_ZONE, &g,
				     &ignored) != CFT_OK)
			continue;  /* user scope only, or unknown to this API */
		if (cft_group_makes_tokens(lg->all[i]) && !c->cfg->allow_token_minting)
			continue;
		if (g->scopes & CFT_SCOPE_ACCOUNT)
			lg->account[lg->n_account++] = lg->all[i];
		else
			lg->zone[lg->n_zone++] = lg->all[i];
	}
	cft_perm_group_list_clear(&list);
	for (size_t i = 0; i < lg->n_account; i++)
		lg->names[lg->n_names++] = lg->account[i];
	for (size_t i = 0; i < lg->n_zone; i++)
		lg->names[lg->n_names++] = lg->zone[i];
	if (!lg->n_names)
		return cft_fail(err, CFT_E_INTERNAL, "none of the operations table's groups exists "
				"for account %s", account);
	return CFT_OK;
}

static const char *kind_word(cft_learn_kind k)
{
	switch (k) {
	case CFT_LEARN_GROUP: return "learned";
	case CFT_LEARN_NO_GROUP: return "no-group";
	case CFT_LEARN_USER_SCOPE: return "user-scope";
	case CFT_LEARN_GROUPS_UNKNOWN: return "groups-unknown";
	case CFT_LEARN_NOT_IN_TABLE: return "not-in-table";
	}
	return "";
}

/* What the table column says of an operation. */
static const char *group_column(const cft_learn_op *o)
{
	switch (o->kind) {
	case CFT_LEARN_GROUP: return o->group;
	case CFT_LEARN_NO_GROUP: return "(needs no group)";
	case CFT_LEARN_USER_SCOPE: return "(user-scope groups only: not learned)";
	case CFT_LEARN_GROUPS_UNKNOWN: return "? (the table does not know its groups)";
	case CFT_LEARN_NOT_IN_TABLE: return "? (not in cftoken's operations table)";
	}
	return "";
}

static void print_table(const cft_learned *l)
{
	int width = 9;
	for (size_t i = 0; i < l->n_ops; i++) {
		int w = (int)(strlen(l->ops[i].method) + 1 + strlen(l->ops[i].shown));
		if (w > width)
			width = w;
	}
	printf("%-*s  %5s  %6s  %s\n", width, "operation", "calls", "status", "group");
	for (size_t i = 0; i < l->n_ops; i++) {
		const cft_learn_op *o = &l->ops[i];
		char op[CFT_LEARN_SHOWN + 20];
		snprintf(op, sizeof(op), "%s %s", o->method, o->shown);
		printf("%-*s  %5u  %6d  %s\n", width, op, o->calls, o->status, group_column(o));
	}
}

static void print_json(const cli *c, const cft_learned *l, const char *account,
		       const char *section, int status, const char *written)
{
	json_t *ops = json_array(), *groups = json_array(), *zones = json_array();
	for (size_t i = 0; i < l->n_ops; i++) {
		const cft_learn_op *o = &l->ops[i];
		json_array_append_new(ops, json_pack(
			"{s:s, s:s, s:s?, s:s, s:s?, s:i, s:i, s:i}", "method", o->method,
			"operation", o->shown, "operation_id", o->op ? o->op->operation_id : NULL,
			"kind", kind_word(o->kind),
			"group", o->kind == CFT_LEARN_GROUP ? o->group : NULL, "calls", (int)o->calls,
			"failed", (int)o->failed, "status", o->status));
	}
	for (size_t i = 0; i < l->n_groups; i++)
		json_array_append_new(groups, json_string(l->groups[i]));
	for (size_t i = 0; l->zone_group && !l->zones_left_out && i < l->n_zones; i++)
		json_array_append_new(zones, json_string(l->zones[i]));
	json_t *o = json_pack(
		"{s:s, s:s, s:b, s:o, s:o, s:b, s:o, s:s, s:{s:o?, s:o?}, s:s?}", "profile",
		c->profile, "account", account, "complete", !l->incomplete, "permissions", groups,
		"zones", zones, "every_zone", l->zone_group && (!l->n_zones || l->zones_left_out),
		"operations", ops, "section", section, "program", "exit_status",
		WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : NULL, "signal",
		WIFSIGNALED(status) ? json_integer(WTERMSIG(status)) : NULL, "written", written);
	if (o) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(o);
}

/* The program's end, said on stderr when it failed. */
static bool program_failed(const cli *c, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return false;
	if (WIFSIGNALED(status))
		fprintf(stderr, "cftoken: learn: warning: %s was ended by signal %d; what it did "
			"before is learned, and it may need more\n", c->args[0], WTERMSIG(status));
	else
		fprintf(stderr, "cftoken: learn: warning: %s exited with status %d; what it did "
			"before it failed is learned, and it may need more\n", c->args[0],
			WEXITSTATUS(status));
	return true;
}

/* The section, learned from the run, into text (free()). */
static char *section_text(const cli *c, const cft_learned *l, const char *account)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	cft_learned_section(f, l, c->profile, account, (const char *const *)c->args,
			    (size_t)c->n_args);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Learned, printed, and written when asked: our exit status. */
static int report(const cli *c, recorder *rec, const learning_groups *lg, const char *account,
		  int status)
{
	cft_learned *l = malloc(sizeof(*l));
	cft_learn_holdable h = { .account = lg->account, .n_account = lg->n_account,
				 .zone = lg->zone, .n_zone = lg->n_zone };
	char *section = NULL;
	if (l) {
		cft_learn_least(rec->calls, rec->n, &h, l);
		l->incomplete = l->incomplete || rec->lost;
		section = section_text(c, l, account);
	}
	if (!section) {
		free(l);
		fprintf(stderr, "cftoken: learn: out of memory\n");
		return EXIT_API;
	}
	bool failed = program_failed(c, status);
	for (size_t i = 0; i < l->n_ops; i++)
		if (l->ops[i].kind == CFT_LEARN_GROUPS_UNKNOWN ||
		    l->ops[i].kind == CFT_LEARN_NOT_IN_TABLE)
			fprintf(stderr, "cftoken: learn: %s %s: %s; the learned profile is "
				"incomplete\n", l->ops[i].method, l->ops[i].shown,
				l->ops[i].kind == CFT_LEARN_NOT_IN_TABLE
					? "not in cftoken's operations table"
					: "cftoken's operations table does not know its groups");
	if (rec->lost)
		fprintf(stderr, "cftoken: learn: %zu requests were not recorded; the learned "
			"profile is incomplete\n", rec->lost);
	char path[4096];
	const char *written = NULL;
	int rc = failed || l->incomplete ? EXIT_LEARNED_PART : EXIT_OK;
	if (c->write && failed) {
		fprintf(stderr, "cftoken: learn: not written: %s failed\n", c->args[0]);
	} else if (c->write) {
		cft_error err;
		cft_error_clear(&err);
		if (cft_user_config_path(path, sizeof(path)) != 0)
			rc = cli_fail("learn --write", cft_fail(&err, CFT_E_INVALID_ARG, "no home "
								 "directory for the configuration file"),
				      &err);
		else if (cft_config_write_section(path, c->profile, section, &err) != CFT_OK)
			rc = cli_fail("learn --write", err.code, &err);
		else
			written = path;
		if (written && !c->json)
			fprintf(stderr, "cftoken: learn: [profile %s] written to %s\n", c->profile,
				path);
	}
	if (c->json) {
		print_json(c, l, account, section, status, written);
	} else {
		fputs(section, stdout);
		putchar('\n');
		print_table(l);
	}
	free(section);
	free(l);
	return rc;
}

int cmd_learn(const cli *c)
{
	cft_error err;
	cft_error_clear(&err);
	if (!c->profile) {
		fprintf(stderr, "cftoken: learn: name the profile to learn: cftoken learn --profile "
			"NAME -- PROGRAM\n");
		return EXIT_USAGE;
	}
	if (!c->n_args) {
		fprintf(stderr, "cftoken: learn: name the program to run: cftoken learn --profile "
			"%s -- PROGRAM\n", c->profile);
		return EXIT_USAGE;
	}
	if (strlen(c->profile) > CFT_PROFILE_NAME_MAX || strpbrk(c->profile, " \t[]#=\n")) {
		fprintf(stderr, "cftoken: learn: \"%.64s\" cannot be a profile's name\n",
			c->profile);
		return EXIT_USAGE;
	}
	/* The learning token: the profile's account (an existing profile's,
	 * else as every command finds one), every holdable group. */
	const cft_profile *existing = cft_config_find(c->cfg, CFT_SECTION_PROFILE, c->profile);
	cft_profile learning = { .kind = CFT_SECTION_PROFILE, .name = (char *)c->profile,
				 .account_id = existing ? existing->account_id : NULL,
				 .ttl_s = LEARN_TTL_S, .renew_margin_s = LEARN_RENEW_MARGIN_S };
	char account[CFT_ID_LEN + 1];
	learning_groups lg = { 0 };
	lazy_parent lp = { .c = c };
	cft_code rc = cli_find_account(c, &learning, &lp, account, &err);
	if (!rc)
		rc = holdable_groups(c, &lp, account, &lg, &err);
	cft_parent_clear(&lp.parent);
	if (rc)
		return cli_fail("learn", rc, &err);
	learning.account_id = account;
	learning.permissions = (char **)lg.names;
	learning.n_permissions = lg.n_names;

	cli lc = *c;
	lc.learning = true;
	cft_l1_record r = { 0 };
	after_handover after = { 0 };
	rc = cli_obtain(&lc, &learning, NULL, true, &r, &after, &err);
	if (rc)
		return cli_fail("learn", rc, &err);
	if (c->verbose)
		fprintf(stderr, "cftoken: learn: token %s holds %zu groups for the run\n", r.id,
			lg.n_names);
	recorder rec = { .lock = PTHREAD_MUTEX_INITIALIZER };
	proxied_hooks hooks = { .record = record_call, .record_ctx = &rec };
	int status = 0;
	/* The program writes to our standard error: our standard output is
	 * the section and the table, or the JSON, alone. */
	fflush(stdout);
	int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;  /* the program shares our standard output */
	}
	rc = cli_run_proxied(&lc, &r, &after, &hooks, &status, &err);
	if (saved >= 0) {
		if (dup2(saved, STDOUT_FILENO) < 0)
			fprintf(stderr, "cftoken: learn: standard output lost: %s\n",
				strerror(errno));
		close(saved);
	}
	if (rc) {
		recorder_clear(&rec);
		return cli_fail("learn", rc, &err);
	}
	int out = report(c, &rec, &lg, account, status);
	recorder_clear(&rec);
	return out;
}
