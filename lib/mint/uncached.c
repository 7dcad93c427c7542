#include "mint/uncached.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/lock.h"
#include "core/safe_file.h"
#include "core/timeutil.h"

#define LEDGER_SUFFIX ".uncached"
#define LEDGER_MAX (256 * 1024)
/* Holders only read and write a small file. */
#define LOCK_WAIT_MS 5000

/* The ledger's path, with its lock held (a file of its own: the ledger
 * is replaced by rename, which a lock on it would not survive). */
typedef struct ledger {
	char path[700];
	int lock;
} ledger;

static cft_code ledger_open_at(const char *path, ledger *l, cft_error *err)
{
	char lock_path[720];
	l->lock = -1;
	int n = snprintf(l->path, sizeof(l->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(l->path))
		return cft_fail(err, CFT_E_INVALID_ARG, "the ledger's path is too long: %.300s", path);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", l->path);
	return cft_lock_file(lock_path, cft_now_ms() + LOCK_WAIT_MS, NULL, &l->lock, err);
}

static cft_code ledger_open(const char *account, const char *profile, ledger *l, cft_error *err)
{
	char path[700];
	l->lock = -1;
	cft_code rc = cft_lock_path(account, profile, LEDGER_SUFFIX, path, sizeof(path), err);
	return rc ? rc : ledger_open_at(path, l, err);
}

/* For _cleanup_: the lock goes on every return (ledger_open sets it to
 * -1 before it can fail). */
static void ledger_closep(ledger *l)
{
	cft_lock_release(l->lock);
}

static int format_line(const cft_uncached *t, char *buf, size_t size)
{
	return snprintf(buf, size, "%lld %c %s\n", (long long)t->expires, t->user_owned ? 'u' : 'a',
			t->id);
}

/* "EXPIRES a|u ID"; anything else (a line a crash cut short) is false. */
static bool parse_line(const char *line, size_t len, cft_uncached *t)
{
	char buf[128], *end = NULL;
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	errno = 0;
	long long expires = strtoll(buf, &end, 10);
	if (errno || end == buf || end[0] != ' ' || (end[1] != 'a' && end[1] != 'u') ||
	    end[2] != ' ')
		return false;
	const char *id = end + 3;
	if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
		return false;
	t->expires = (time_t)expires;
	t->user_owned = end[1] == 'u';
	memcpy(t->id, id, sizeof(t->id));
	return true;
}

typedef bool (*keep_fn)(const cft_uncached *t, void *ctx);

/* Rewrites the ledger with the lines keep() keeps: a new file renamed
 * over the old, so a crash leaves one or the other whole. */
static cft_code rewrite(const ledger *l, keep_fn keep, void *ctx, cft_error *err)
{
	char *all = NULL, tmp[720];
	size_t len = 0;
	cft_code rc = cft_file_read(AT_FDCWD, l->path, l->path, LEDGER_MAX, CFT_FILE_NOFOLLOW,
				    &all, &len, err);
	if (rc)
		return cft_absent_ok(rc, err);
	snprintf(tmp, sizeof(tmp), "%s.new", l->path);
	unlink(tmp);  /* a crashed writer's; we hold the lock */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		rc = cft_fail(err, CFT_E_INTERNAL, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(all);
		return rc;
	}
	for (const char *p = all; *p;) {
		size_t n = strcspn(p, "\n");
		cft_uncached t;
		char line[128];
		bool kept = parse_line(p, n, &t) && keep(&t, ctx);
		if (kept && format_line(&t, line, sizeof(line)) > 0)
			fputs(line, f);
		p += n + (p[n] == '\n');
	}
	free(all);
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "writing %s: %s", tmp, strerror(errno));
	if (fclose(f) != 0 && !rc)
		rc = cft_fail(err, CFT_E_INTERNAL, "writing %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, l->path) != 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "%s: %s", l->path, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

/* Appends t to the ledger l holds open. */
static cft_code append(const ledger *l, const cft_uncached *t, cft_error *err)
{
	char line[128];
	int len = format_line(t, line, sizeof(line));
	cft_code rc = CFT_OK;
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		      0600);
	ssize_t w = fd >= 0 ? write(fd, line, (size_t)len) : -1;
	if (w != len)
		rc = cft_fail(err, CFT_E_INTERNAL, "%s: %s", l->path,
			      w < 0 ? strerror(errno) : "short write");
	if (fd >= 0)
		close(fd);
	return rc;
}

cft_code cft_uncached_note(const char *account, const char *profile, const cft_uncached *t,
			   cft_error *err)
{
	_cleanup_(ledger_closep) ledger l = { .lock = -1 };
	cft_code rc = ledger_open(account, profile, &l, err);
	return rc ? rc : append(&l, t, err);
}

cft_code cft_uncached_note_at(const char *path, const cft_uncached *t, cft_error *err)
{
	_cleanup_(ledger_closep) ledger l = { .lock = -1 };
	cft_code rc = ledger_open_at(path, &l, err);
	return rc ? rc : append(&l, t, err);
}

typedef struct take_ctx {
	time_t now;
	cft_uncached *out;
	size_t max, n;
} take_ctx;

static bool keep_unless_due(const cft_uncached *t, void *ctx)
{
	take_ctx *c = ctx;
	if (t->expires > c->now || c->n == c->max)
		return true;
	c->out[c->n++] = *t;
	return false;
}

/* Takes the due tokens off the ledger l holds open. */
static cft_code take_due(const ledger *l, time_t now, cft_uncached *out, size_t max, size_t *n,
			 cft_error *err)
{
	take_ctx c = { .now = now, .out = out, .max = max };
	cft_code rc = rewrite(l, keep_unless_due, &c, err);
	/* Taken only once the ledger no longer holds them. */
	*n = rc ? 0 : c.n;
	return rc;
}

cft_code cft_uncached_take_due(const char *account, const char *profile, time_t now,
			       cft_uncached *out, size_t max, size_t *n, cft_error *err)
{
	_cleanup_(ledger_closep) ledger l = { .lock = -1 };
	*n = 0;
	cft_code rc = ledger_open(account, profile, &l, err);
	return rc ? rc : take_due(&l, now, out, max, n, err);
}

cft_code cft_uncached_take_due_at(const char *path, time_t now, cft_uncached *out, size_t max,
				  size_t *n, cft_error *err)
{
	_cleanup_(ledger_closep) ledger l = { .lock = -1 };
	*n = 0;
	cft_code rc = ledger_open_at(path, &l, err);
	return rc ? rc : take_due(&l, now, out, max, n, err);
}

bool cft_uncached_any_due(const char *account, const char *profile, time_t now)
{
	char path[700];
	return cft_lock_path(account, profile, LEDGER_SUFFIX, path, sizeof(path), NULL) == CFT_OK &&
	       cft_uncached_any_due_at(path, now);
}

bool cft_uncached_any_due_at(const char *path, time_t now)
{
	char *all = NULL;
	size_t len = 0;
	bool due = false;
	if (cft_file_read(AT_FDCWD, path, path, LEDGER_MAX, CFT_FILE_NOFOLLOW, &all, &len, NULL) !=
	    CFT_OK)
		return false;
	for (const char *p = all; *p && !due;) {
		size_t n = strcspn(p, "\n");
		cft_uncached t;
		due = parse_line(p, n, &t) && t.expires <= now;
		p += n + (p[n] == '\n');
	}
	free(all);
	return due;
}

void cft_uncached_list_at(const char *path, cft_uncached *out, size_t max, size_t *n)
{
	char *all = NULL;
	size_t len = 0;
	size_t total = 0;
	*n = 0;
	if (!max || cft_file_read(AT_FDCWD, path, path, LEDGER_MAX, CFT_FILE_NOFOLLOW, &all, &len,
				  NULL) != CFT_OK)
		return;
	for (const char *p = all; *p;) {
		size_t k = strcspn(p, "\n");
		cft_uncached t;
		if (parse_line(p, k, &t))
			out[total++ % max] = t;
		p += k + (p[k] == '\n');
	}
	free(all);
	*n = total < max ? total : max;
}

static bool keep_other(const cft_uncached *t, void *ctx)
{
	return strcmp(t->id, ctx) != 0;
}

cft_code cft_uncached_forget(const char *account, const char *profile, const char *id,
			     cft_error *err)
{
	_cleanup_(ledger_closep) ledger l = { .lock = -1 };
	cft_code rc = ledger_open(account, profile, &l, err);
	if (rc)
		return rc;
	rc = rewrite(&l, keep_other, (void *)id, err);
	return rc;
}
