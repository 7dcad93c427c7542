/* cft_learn_least: recorded requests to the least privilege, and the
 * profile section that says it. */
#include "config/least_privilege.h"

#include <stdlib.h>
#include <string.h>

#include "config/refusal.h"

static bool listed(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static bool holdable(const cft_learn_holdable *h, const char *group)
{
	return listed(h->account, h->n_account, group) || listed(h->zone, h->n_zone, group);
}

/* op's accepted groups that are also in pool (n of them), NULL-terminated,
 * into out (room for CFT_SPEC_MAX_GROUPS + 1). */
static void accepted_among(const struct cft_operation *op, const char *const *pool, size_t n,
			   const cft_learn_holdable *h, const char **out)
{
	size_t k = 0;
	for (size_t i = 0; op->groups[i] && k < CFT_SPEC_MAX_GROUPS; i++)
		if (pool ? listed(pool, n, op->groups[i]) : holdable(h, op->groups[i]))
			out[k++] = op->groups[i];
	out[k] = NULL;
}

static bool is_hex_id(const char *s, size_t n)
{
	if (n != CFT_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static void note_zone(cft_learned *l, const struct cft_operation *op, const char *path)
{
	struct cft_operation_param p[CFT_OPERATION_MAX_PARAMS];
	int n = cft_operation_params(op, path, p, CFT_OPERATION_MAX_PARAMS);
	for (int i = 0; i < n; i++) {
		if (p[i].name_len != 7 || strncmp(p[i].name, "zone_id", 7) ||
		    !is_hex_id(p[i].value, p[i].value_len))
			continue;
		bool seen = false;
		for (size_t z = 0; z < l->n_zones && !seen; z++)
			seen = !strncmp(l->zones[z], p[i].value, CFT_ID_LEN);
		if (seen)
			continue;
		if (l->n_zones == CFT_SPEC_MAX_ZONES) {
			l->zones_left_out = true;
			continue;
		}
		memcpy(l->zones[l->n_zones], p[i].value, CFT_ID_LEN);
		l->zones[l->n_zones++][CFT_ID_LEN] = '\0';
	}
}

/* The operation a call is, found or added. */
static cft_learn_op *op_for(cft_learned *l, const cft_learn_call *c)
{
	char method[16], shown[CFT_LEARN_SHOWN];
	const struct cft_operation *op = cft_operation_match(c->method, c->path);
	snprintf(method, sizeof(method), "%s", op ? op->method : c->method);
	if (op)
		snprintf(shown, sizeof(shown), "%s", op->template);
	else
		cft_refusal_path_shown(shown, sizeof(shown), c->path);
	for (size_t i = 0; i < l->n_ops; i++)
		if (!strcmp(l->ops[i].method, method) && !strcmp(l->ops[i].shown, shown))
			return &l->ops[i];
	if (l->n_ops == CFT_LEARN_MAX_OPS) {
		l->ops_left_out++;
		return NULL;
	}
	cft_learn_op *o = &l->ops[l->n_ops++];
	memset(o, 0, sizeof(*o));
	o->op = op;
	memcpy(o->method, method, sizeof(method));
	memcpy(o->shown, shown, sizeof(shown));
	return o;
}

static int by_shown(const void *a, const void *b)
{
	const cft_learn_op *x = a, *y = b;
	int d = strcmp(x->shown, y->shown);
	return d ? d : strcmp(x->method, y->method);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether every operation chosen for group g is accepted by another group
 * still chosen. */
static bool covered_without(const cft_learned *l, const char *g)
{
	for (size_t i = 0; i < l->n_ops; i++) {
		const cft_learn_op *o = &l->ops[i];
		if (o->kind != CFT_LEARN_GROUP || strcmp(o->group, g))
			continue;
		bool other = false;
		for (size_t k = 0; o->op->groups[k] && !other; k++)
			other = strcmp(o->op->groups[k], g) &&
				listed(l->groups, l->n_groups, o->op->groups[k]);
		if (!other)
			return false;
	}
	return true;
}

/* Each operation's group: the narrowest of its own among those chosen. */
static void assign(cft_learned *l)
{
	const char *among[CFT_SPEC_MAX_GROUPS + 1];
	for (size_t i = 0; i < l->n_ops; i++) {
		cft_learn_op *o = &l->ops[i];
		if (o->kind != CFT_LEARN_GROUP)
			continue;
		accepted_among(o->op, l->groups, l->n_groups, NULL, among);
		o->group = cft_operation_narrowest(o->method, among);
	}
}

void cft_learn_least(const cft_learn_call *calls, size_t n, const cft_learn_holdable *h,
		     cft_learned *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		cft_learn_op *o = op_for(l, &calls[i]);
		if (!o)
			continue;
		o->calls++;
		o->status = calls[i].status;
		if (calls[i].status < 200 || calls[i].status >= 400)
			o->failed++;
		if (o->op)
			note_zone(l, o->op, calls[i].path);
	}
	qsort(l->ops, l->n_ops, sizeof(l->ops[0]), by_shown);

	/* Per operation, the narrowest group the token could hold. */
	const char *among[CFT_SPEC_MAX_GROUPS + 1];
	for (size_t i = 0; i < l->n_ops; i++) {
		cft_learn_op *o = &l->ops[i];
		if (!o->op) {
			o->kind = CFT_LEARN_NOT_IN_TABLE;
		} else if (o->op->groups_unknown) {
			o->kind = CFT_LEARN_GROUPS_UNKNOWN;
		} else if (!o->op->groups[0]) {
			o->kind = CFT_LEARN_NO_GROUP;
		} else {
			accepted_among(o->op, NULL, 0, h, among);
			o->group = cft_operation_narrowest(o->method, among);
			o->kind = o->group ? CFT_LEARN_GROUP : CFT_LEARN_USER_SCOPE;
		}
		if (o->kind == CFT_LEARN_GROUPS_UNKNOWN || o->kind == CFT_LEARN_NOT_IN_TABLE)
			l->n_unknown++;
		if (o->kind == CFT_LEARN_GROUP && !listed(l->groups, l->n_groups, o->group) &&
		    l->n_groups < CFT_SPEC_MAX_GROUPS)
			l->groups[l->n_groups++] = o->group;
	}
	qsort(l->groups, l->n_groups, sizeof(l->groups[0]), by_name);

	/* A group whose every operation another chosen group covers goes. */
	for (bool dropped = true; dropped;) {
		dropped = false;
		for (size_t g = 0; g < l->n_groups; g++) {
			if (!covered_without(l, l->groups[g]))
				continue;
			memmove(&l->groups[g], &l->groups[g + 1],
				(l->n_groups - g - 1) * sizeof(l->groups[0]));
			l->n_groups--;
			assign(l);
			dropped = true;
			break;
		}
	}
	for (size_t g = 0; g < l->n_groups; g++)
		l->zone_group = l->zone_group || listed(h->zone, h->n_zone, l->groups[g]);
	l->incomplete = l->n_unknown || l->ops_left_out;
}

/* The program's arguments, printable, on one comment line. */
static void write_command(FILE *f, const char *const *argv, size_t argc)
{
	size_t shown = 0;
	for (size_t i = 0; i < argc && shown < 160; i++) {
		fputc(' ', f);
		for (const char *p = argv[i]; *p && shown < 160; p++, shown++)
			fputc(*p >= 0x20 && *p < 0x7f && *p != '#' ? *p : '?', f);
	}
	if (shown >= 160)
		fputs(" ...", f);
}

void cft_learned_section(FILE *f, const cft_learned *l, const char *profile,
			 const char *account, const char *const *argv, size_t argc)
{
	fprintf(f, "[profile %s]\n" CFT_LEARNED_MARK " learned from", profile);
	write_command(f, argv, argc);
	fputc('\n', f);
	if (l->n_unknown)
		fprintf(f, "# incomplete: cftoken's operations table does not know the groups of "
			"%zu operation%s the program called; they may need more\n", l->n_unknown,
			l->n_unknown == 1 ? "" : "s");
	if (l->ops_left_out)
		fprintf(f, "# incomplete: %zu operations past the first %d were not looked at\n",
			l->ops_left_out, CFT_LEARN_MAX_OPS);
	if (account && *account)
		fprintf(f, "account = %s\n", account);
	if (!l->n_groups) {
		fputs("# no operation the program called needs a permission group\n", f);
		return;
	}
	fputs("permissions = ", f);
	for (size_t i = 0; i < l->n_groups; i++)
		fprintf(f, "%s%s", i ? ", " : "", l->groups[i]);
	fputc('\n', f);
	if (!l->zone_group)
		return;
	if (!l->n_zones || l->zones_left_out) {
		fputs("# zones: the requests named no zone (or too many), so the zone groups "
		      "cover every zone of the account\n", f);
		return;
	}
	fputs("zones = ", f);
	for (size_t i = 0; i < l->n_zones; i++)
		fprintf(f, "%s%s", i ? ", " : "", l->zones[i]);
	fputc('\n', f);
}
