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
/* A line's key: the words, an id, a profile name and an API URL. */
#define KEY_MAX (CFT_API_URL_MAX + 256)

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

/* The API's full URL, normalised: a line is of exactly that API.  (A URL
 * that is none matches no line.) */
static void api_field(const char *api_url, char out[CFT_API_URL_MAX + 1])
{
	if (cft_api_url_normal(api_url, out) != 0)
		snprintf(out, CFT_API_URL_MAX + 1, "-");
}

/* The line's key: everything up to " id=". */
static void entry_key(const char *account, const char *profile, const char *api_url,
		      char *buf, size_t size)
{
	char api[CFT_API_URL_MAX + 1];
	api_field(api_url, api);
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
	char path[4096], key[KEY_MAX];
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

/* Rewrites the file: every line starting with key is dropped, then line
 * (if any) is added. */
static cft_code replace_line(const char *key, const char *line, cft_error *err)
{
	char path[4096], tmp[4200], lock_path[4200];
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
		for (char *l = all; *l;) {
			char *end = strchr(l, '\n');
			if (end)
				*end = '\0';
			if (*l && strncmp(l, key, strlen(key)) != 0)
				fprintf(f, "%s\n", l);
			if (!end)
				break;
			l = end + 1;
		}
		if (line)
			fprintf(f, "%s\n", line);
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

cft_code cft_declared_set(const char *account, const char *profile, const char *api_url,
			  const char *id, cft_error *err)
{
	char key[KEY_MAX], line[KEY_MAX + 40];
	entry_key(account, profile, api_url, key, sizeof(key));
	snprintf(line, sizeof(line), "%s%s", key, id ? id : "");
	return replace_line(key, id ? line : NULL, err);
}

/* "binding profile=P account=A api=H worker=W name=N " */
static void binding_key(const char *account, const char *profile, const char *api_url,
			const char *worker, const char *name, char *buf, size_t size)
{
	char api[CFT_API_URL_MAX + 1];
	api_field(api_url, api);
	snprintf(buf, size, "binding profile=%s account=%s api=%s worker=%s name=%s ", profile,
		 account, api, worker, name);
}

cft_code cft_binding_set(const char *account, const char *profile, const char *api_url,
			 const char *worker, const char *name, int state, cft_error *err)
{
	char key[KEY_MAX + 160], line[KEY_MAX + 200];
	binding_key(account, profile, api_url, worker, name, key, sizeof(key));
	snprintf(line, sizeof(line), "%sstate=%s", key, state == CFT_BINDING_PENDING ? "pending" : "ok");
	return replace_line(key, state == CFT_BINDING_GONE ? NULL : line, err);
}

cft_code cft_bindings_list(const char *account, const char *profile, const char *api_url,
			   cft_binding **out, size_t *n, cft_error *err)
{
	char path[4096], prefix[KEY_MAX], api[CFT_API_URL_MAX + 1];
	char *all = NULL;
	*out = NULL;
	*n = 0;
	if (cft_declared_path(path, sizeof(path)) != 0)
		return CFT_OK;
	cft_code rc = read_all(path, &all, err);
	if (rc)
		return rc;
	api_field(api_url, api);
	snprintf(prefix, sizeof(prefix), "binding profile=%s account=%s api=%s worker=", profile,
		 account, api);
	for (char *l = all; l && *l;) {
		char *end = strchr(l, '\n');
		if (end)
			*end = '\0';
		cft_binding b = { 0 };
		char state[16] = "";
		if (!strncmp(l, prefix, strlen(prefix)) &&
		    sscanf(l + strlen(prefix), "%63s name=%64s state=%15s", b.worker, b.name, state) ==
			    3) {
			cft_binding *v = realloc(*out, (*n + 1) * sizeof(*v));
			if (!v) {
				free(all);
				return cft_fail(err, CFT_E_NOMEM, NULL);
			}
			b.pending = !strcmp(state, "pending");
			v[(*n)++] = b;
			*out = v;
		}
		l = end ? end + 1 : NULL;
	}
	free(all);
	return CFT_OK;
}
