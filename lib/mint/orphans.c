#include "mint/orphans.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/tokenspec.h"
#include "core/cleanup.h"
#include "core/fingerprint.h"
#include "core/lock.h"
#include "core/safe_file.h"

/* The API's clock and ours may disagree by this much. */
#define SKEW_S 60
#define NOTES_SUFFIX ".orphans"
#define NOTES_FILE_MAX (1024 * 1024)
#define NOTE_LINE_MAX (CFT_API_URL_MAX + 300)

bool cft_create_may_have_happened(cft_code rc)
{
	switch (rc) {
	case CFT_E_SERVER:     /* a 5xx: the API may have acted before failing */
	case CFT_E_NETWORK:    /* lost after the request went out */
	case CFT_E_TIMEOUT:
	case CFT_E_MALFORMED:  /* it answered, but not so that we could read it */
	case CFT_E_TOO_LARGE:
		return true;
	default:
		return false;
	}
}

cft_code cft_token_delete_if_ours(cft_client *c, cft_owner owner, const char *id,
				  const char *template, const char *profile, cft_error *err)
{
	cft_token t = { 0 };
	cft_code rc = cft_token_get(c, owner, id, &t, err);
	if (!rc && !(t.name && cft_token_name_matches(template, profile, t.name)))
		rc = cft_fail(err, CFT_E_INVALID_ARG,
			      "token %.40s is named \"%.200s\", not as cftoken names the tokens of "
			      "profile %.64s: it was not deleted", id, t.name ? t.name : "",
			      profile);
	cft_token_clear(&t);
	return rc ? rc : cft_token_delete(c, owner, id, err);
}

static bool kept(const char *const *keep, const char *id)
{
	for (; keep && *keep; keep++)
		if (strcmp(*keep, id) == 0)
			return true;
	return false;
}

cft_code cft_orphans_sweep(cft_client *c, cft_owner owner, const char *name, time_t since,
			   const char *const *keep, unsigned *deleted, cft_error *err)
{
	cft_token_list l = { 0 };
	unsigned n = 0;
	cft_code rc = cft_token_list_all(c, owner, &l, err);
	for (size_t i = 0; !rc && i < l.n; i++) {
		const cft_token *t = &l.items[i];
		if (!t->id || !t->name || strcmp(t->name, name) != 0 ||
		    t->issued_on < since - SKEW_S || kept(keep, t->id))
			continue;
		rc = cft_token_delete(c, owner, t->id, err);
		if (rc == CFT_E_NOT_FOUND)
			rc = CFT_OK;
		else if (!rc)
			n++;
	}
	cft_token_list_clear(&l);
	if (deleted)
		*deleted = n;
	return rc;
}

/* "SINCE K API NAME\n", K 'a' (account-owned) or 'u' (user-owned), API
 * the normalised URL the note's sweep must go to. */
static cft_code note_line(const char *api_url, const cft_orphan_note *note, char *line,
			  size_t size, int *len, cft_error *err)
{
	char api[CFT_API_URL_MAX + 1];
	if (cft_api_url_normal(api_url, api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "not an https:// API URL");
	*len = snprintf(line, size, "%lld %c %s %s\n", (long long)note->since,
			note->user_owned ? 'u' : 'a', api, note->name);
	if (*len < 0 || (size_t)*len >= size || strchr(note->name, '\n'))
		return cft_fail(err, CFT_E_INVALID_ARG, "token name too long for a note");
	return CFT_OK;
}

cft_code cft_orphans_append(const char *path, const char *api_url, const cft_orphan_note *note,
			    cft_error *err)
{
	/* One short line, appended: a crash leaves the earlier lines whole. */
	char line[NOTE_LINE_MAX];
	int len;
	cft_code rc = note_line(api_url, note, line, sizeof(line), &len, err);
	if (rc)
		return rc;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		      0600);
	if (fd < 0)
		return cft_fail(err, CFT_E_INTERNAL, "%s: %s", path, strerror(errno));
	ssize_t w = write(fd, line, (size_t)len);
	int e = errno;
	close(fd);
	if (w != len)
		return cft_fail(err, CFT_E_INTERNAL, "%s: %s", path,
				w < 0 ? strerror(e) : "short write");
	return CFT_OK;
}

cft_code cft_orphans_write(const char *path, const char *api_url, const cft_orphan_note *notes,
			   size_t n, cft_error *err)
{
	char tmp[4200], line[NOTE_LINE_MAX];
	if (n == 0) {
		if (unlink(path) != 0 && errno != ENOENT)
			return cft_fail(err, CFT_E_INTERNAL, "%s: %s", path, strerror(errno));
		return CFT_OK;
	}
	int k = snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (k < 0 || (size_t)k >= sizeof(tmp))
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: path too long", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return cft_fail(err, CFT_E_INTERNAL, "%s: %s", tmp, strerror(errno));
	cft_code rc = CFT_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		int len;
		rc = note_line(api_url, &notes[i], line, sizeof(line), &len, err);
		if (!rc && write(fd, line, (size_t)len) != len)
			rc = cft_fail(err, CFT_E_INTERNAL, "%s: %s", tmp, strerror(errno));
	}
	if (!rc && (fsync(fd) != 0 || rename(tmp, path) != 0))
		rc = cft_fail(err, CFT_E_INTERNAL, "%s: %s", path, strerror(errno));
	close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

cft_code cft_orphans_remember(const char *account, const char *profile, const char *api_url,
			      const cft_orphan_note *note, cft_error *err)
{
	char path[700];
	cft_code rc = cft_lock_path(account, profile, NOTES_SUFFIX, path, sizeof(path), err);
	return rc ? rc : cft_orphans_append(path, api_url, note, err);
}

cft_code cft_orphans_read(const char *path, const char *api_url,
			  cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX], size_t *n, cft_error *err)
{
	*n = 0;
	/* Only the first notes are read, line by line: the bound is a
	 * generous one on a file that is appended to. */
	int fd;
	cft_code rc = cft_file_open(AT_FDCWD, path, path, NOTES_FILE_MAX, CFT_FILE_NOFOLLOW, &fd,
				    err);
	if (rc)
		return cft_absent_ok(rc, err);
	_cleanup_fclose_ FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return cft_fail(err, CFT_E_NOMEM, NULL);
	}
	char line[NOTE_LINE_MAX];
	while (*n < CFT_ORPHAN_NOTES_MAX && fgets(line, sizeof(line), f)) {
		char *end = NULL, kind;
		long long since = strtoll(line, &end, 10);
		size_t nl = strcspn(line, "\n");
		line[nl] = '\0';
		/* "SINCE K API NAME": anything else is a torn line (or one of an
		 * older version), and a note of another API is not this one's. */
		if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ' || !end[3])
			continue;
		kind = end[1];
		char *api = end + 3, *name = strchr(api, ' ');
		if ((kind != 'a' && kind != 'u') || !name || !name[1])
			continue;
		*name++ = '\0';
		if (!cft_api_url_is(api, api_url))
			continue;
		cft_orphan_note *o = &notes[(*n)++];
		o->since = (time_t)since;
		o->user_owned = kind == 'u';
		snprintf(o->name, sizeof(o->name), "%s", name);
	}
	return CFT_OK;
}

cft_code cft_orphans_recall(const char *account, const char *profile, const char *api_url,
			    cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX], size_t *n, cft_error *err)
{
	char path[700];
	*n = 0;
	cft_code rc = cft_lock_path(account, profile, NOTES_SUFFIX, path, sizeof(path), err);
	return rc ? rc : cft_orphans_read(path, api_url, notes, n, err);
}

void cft_orphans_forget(const char *account, const char *profile)
{
	char path[700];
	if (cft_lock_path(account, profile, NOTES_SUFFIX, path, sizeof(path), NULL) == CFT_OK)
		unlink(path);
}
