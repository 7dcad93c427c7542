#include "declared.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fingerprint.h"

#define STATE_MAX (256 * 1024)

int cft_declared_path(char *buf, size_t size)
{
	const char *state = secure_getenv("XDG_STATE_HOME"), *home = secure_getenv("HOME");
	int n;
	if (state && state[0] == '/')
		n = snprintf(buf, size, "%s/cftoken/declared", state);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.local/state/cftoken/declared", home);
	else
		return -1;
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The line's key: everything up to " id=". */
static void entry_key(const char *account, const char *profile, const char *api_url,
		      char *buf, size_t size)
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	snprintf(buf, size, "token profile=%s account=%s api=%s id=", profile, account, api);
}

/* The whole file (absent: empty), NUL-terminated. */
static cft_code read_all(const char *path, char **out, cft_error *err)
{
	*out = NULL;
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			return cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", path, strerror(errno));
		*out = calloc(1, 1);
		return *out ? CFT_OK : cft_fail(err, CFT_E_NOMEM, NULL);
	}
	char *buf = malloc(STATE_MAX + 1);
	size_t n = buf ? fread(buf, 1, STATE_MAX + 1, f) : 0;
	fclose(f);
	if (!buf)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	if (n > STATE_MAX) {
		free(buf);
		return cft_fail(err, CFT_E_INTERNAL, "%.300s is larger than %d bytes", path,
				STATE_MAX);
	}
	buf[n] = '\0';
	*out = buf;
	return CFT_OK;
}

cft_code cft_declared_get(const char *account, const char *profile, const char *api_url,
			  char id[33], cft_error *err)
{
	char path[4096], key[256];
	char *all = NULL;
	if (cft_declared_path(path, sizeof(path)) != 0)
		return cft_fail(err, CFT_E_NOT_FOUND, "no home directory for the state file");
	cft_code rc = read_all(path, &all, err);
	if (rc)
		return rc;
	entry_key(account, profile, api_url, key, sizeof(key));
	rc = cft_fail(err, CFT_E_NOT_FOUND, "no token is declared for profile %.64s", profile);
	for (char *line = all; line && *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		size_t kl = strlen(key);
		if (!strncmp(line, key, kl) && strlen(line + kl) == 32) {
			snprintf(id, 33, "%s", line + kl);
			if (err)
				cft_error_clear(err);
			rc = CFT_OK;
			break;
		}
		line = end ? end + 1 : NULL;
	}
	free(all);
	return rc;
}

static cft_code make_dirs(const char *path, cft_error *err)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return cft_fail(err, CFT_E_INTERNAL, "creating %.300s: %s", dir,
					strerror(errno));
		*p = '/';
	}
	return CFT_OK;
}

cft_code cft_declared_set(const char *account, const char *profile, const char *api_url,
			  const char *id, cft_error *err)
{
	char path[4096], tmp[4200], lock_path[4200], key[256];
	char *all = NULL;
	if (cft_declared_path(path, sizeof(path)) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "no home directory for the state file");
	cft_code rc = make_dirs(path, err);
	if (rc)
		return rc;
	/* One writer at a time: read, change and rename under a lock. */
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		if (lock >= 0)
			close(lock);
		return cft_fail(err, CFT_E_INTERNAL, "locking %.300s: %s", lock_path,
				strerror(errno));
	}
	rc = read_all(path, &all, err);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *f = rc ? NULL : fopen(tmp, "we");
	if (!rc && !f)
		rc = cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", tmp, strerror(errno));
	if (!rc) {
		fchmod(fileno(f), 0600);
		entry_key(account, profile, api_url, key, sizeof(key));
		for (char *line = all; *line;) {
			char *end = strchr(line, '\n');
			if (end)
				*end = '\0';
			if (*line && strncmp(line, key, strlen(key)) != 0)
				fprintf(f, "%s\n", line);
			if (!end)
				break;
			line = end + 1;
		}
		if (id)
			fprintf(f, "%s%s\n", key, id);
		if (fflush(f) != 0 || fsync(fileno(f)) != 0)
			rc = cft_fail(err, CFT_E_INTERNAL, "writing %.300s: %s", tmp, strerror(errno));
		fclose(f);
		if (!rc && rename(tmp, path) != 0)
			rc = cft_fail(err, CFT_E_INTERNAL, "%.300s: %s", path, strerror(errno));
		if (rc)
			unlink(tmp);
	}
	free(all);
	close(lock);
	return rc;
}
