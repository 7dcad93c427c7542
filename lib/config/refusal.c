/* cft_refusal_line: a refused request explained by the operations table.
 * One of five lines: the profile lacks every accepted group (the fix:
 * one group to add); it holds one (the token's resources, not its
 * groups, are at fault: never a wrong fix); the operation needs no group;
 * its groups are unknown ("?" in the table); the table lacks it. */
#include "config/refusal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/operations.h"
#include "config/policy.h"

/* The longest path the line quotes (a path the table does not know). */
#define PATH_SHOWN 160

typedef struct line {
	char *buf;
	size_t size, len;
} line;

__attribute__((format(printf, 2, 3)))
static void add(line *l, const char *fmt, ...)
{
	if (l->len + 1 >= l->size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->size - l->len ? (size_t)n : l->size - l->len - 1;
}

static bool held(const char *group, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && cft_perm_name_is(group, names[i]))
			return true;
	return false;
}

/* A path the table does not know, printable, without its query, and
 * with the segment after /accounts/ and /zones/ (an id) left out. */
static void add_unknown_path(line *l, const char *path)
{
	char out[PATH_SHOWN + 1];
	size_t o = 0;
	const char *hide = NULL;
	for (const char *p = path; *p && *p != '?' && *p != '#' && o < PATH_SHOWN;) {
		if (*p == '/' && hide) {
			const char *seg = p + 1;
			size_t n = strcspn(seg, "/?#");
			int w = snprintf(out + o, sizeof(out) - o, "/%s", hide);
			o += w > 0 && (size_t)w < sizeof(out) - o ? (size_t)w : 0;
			p = seg + n;
			hide = NULL;
			continue;
		}
		if (*p == '/' && !strncmp(p, "/accounts", 9) && (p[9] == '/'))
			hide = "{account_id}";
		else if (*p == '/' && !strncmp(p, "/zones", 6) && (p[6] == '/'))
			hide = "{zone_id}";
		size_t n = *p == '/' ? 1 + strcspn(p + 1, "/?#") : strcspn(p, "/?#");
		for (size_t i = 0; i < n && o < PATH_SHOWN; i++)
			out[o++] = (char)(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?');
		p += n;
	}
	out[o] = '\0';
	add(l, "%s", out);
}

void cft_refusal_path_shown(char *buf, size_t size, const char *path)
{
	line l = { .buf = buf, .size = size };
	if (!size)
		return;
	buf[0] = '\0';
	add_unknown_path(&l, path);
}

/* Where the token's resources fall short, for a profile that holds an
 * accepted group. */
static const char *resource_hint(const char *template)
{
	if (!strncmp(template, "/zones/{zone_id}", 16))
		return ", but not for this zone: check its zones =";
	if (!strncmp(template, "/accounts/{account_id}", 22))
		return ", but not for this account: check its account =";
	return ", and the API refused it all the same: a missing group is not the cause";
}

void cft_refusal_line(char *buf, size_t size, const char *method, const char *path, int status,
		      const char *profile, const char *const *names, size_t n_names)
{
	line l = { .buf = buf, .size = size };
	if (!size)
		return;
	buf[0] = '\0';
	const struct cft_operation *op = cft_operation_match(method, path);
	if (!op || op->groups_unknown) {
		add(&l, "cftoken: %.10s ", method);
		if (op)
			add(&l, "%s", op->template);
		else
			add_unknown_path(&l, path);
		add(&l, " was refused (%d); cftoken's operations table %s", status,
		    op ? "does not know which permission groups allow it"
		       : "does not know this operation");
		return;
	}
	add(&l, "cftoken: %s %s", op->method, op->template);
	if (!op->groups[0]) {
		add(&l, " was refused (%d), though it needs no permission group: a missing group "
		    "is not the cause", status);
		return;
	}
	add(&l, " needs %s", op->groups[1] ? "one of " : "");
	for (size_t i = 0; op->groups[i]; i++)
		add(&l, "%s\"%s\"", i ? ", " : "", op->groups[i]);
	for (size_t i = 0; op->groups[i]; i++)
		if (held(op->groups[i], names, n_names)) {
			add(&l, "; profile %s has \"%s\"%s", profile, op->groups[i],
			    resource_hint(op->template));
			return;
		}
	if (op->groups[1])
		add(&l, "; profile %s lacks them all: add \"%s\" to permissions =", profile,
		    cft_operation_narrowest(method, op->groups));
	else
		add(&l, "; profile %s lacks it: add it to permissions =", profile);
}
