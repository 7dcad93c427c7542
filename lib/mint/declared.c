#include "mint/declared.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fingerprint.h"
#include "core/safe_file.h"

#define STATE_MAX (256 * 1024)
#define STATE_NAME "declared"
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

/* The directories above the state directory, made as mkdir -p would. */
static cft_code make_parents(const char *path, cft_error *err)
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

/* The state directory: $XDG_STATE_HOME/cftoken, ours alone (a symlink, a
 * directory of another user or one others may write is refused: another
 * user could plant the state, or a link that makes us overwrite a file).
 * *fd: its O_PATH descriptor, which every later step goes through. */
static cft_code state_dir(cft_dir_mode mode, int *fd, cft_error *err)
{
	char path[4096];
	if (cft_declared_path(path, sizeof(path)) != 0)
		return cft_fail(err, mode == CFT_DIR_CREATE ? CFT_E_INVALID_ARG : CFT_E_NOT_FOUND,
				"no home directory for the state file");
	*strrchr(path, '/') = '\0';
	if (mode == CFT_DIR_CREATE) {
		cft_code rc = make_parents(path, err);
		if (rc)
			return rc;
	}
	return cft_private_dir("state directory", path, mode, fd, err);
}

/* The whole file (absent: empty), NUL-terminated. */
static cft_code read_all(int dir, char **out, cft_error *err)
{
	size_t len;
	cft_code rc = cft_file_read(dir, STATE_NAME, "the state file " STATE_NAME, STATE_MAX,
				    CFT_FILE_NOFOLLOW, out, &len, err);
	if (rc != CFT_E_NOT_FOUND)
		return rc;
	if (err)
		cft_error_clear(err);
	*out = calloc(1, 1);
	return *out ? CFT_OK : cft_fail(err, CFT_E_NOMEM, NULL);
}

/* The state, or CFT_E_NOT_FOUND when there is none (no directory yet). */
static cft_code read_state(char **out, cft_error *err)
{
	int dir;
	*out = NULL;
	cft_code rc = state_dir(CFT_DIR_MAY_BE_ABSENT, &dir, err);
	if (rc)
		return rc;
	rc = read_all(dir, out, err);
	close(dir);
	return rc;
}

cft_code cft_declared_get(const char *account, const char *profile, const char *api_url,
			  char id[33], cft_error *err)
{
	char key[KEY_MAX];
	char *all = NULL;
	cft_code rc = read_state(&all, err);
	if (rc && rc != CFT_E_NOT_FOUND)
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

/* all, less every line starting with key, plus line (if any), written to
 * a new file in dir created with O_EXCL (never through a link), then
 * renamed over the state file. */
static cft_code write_state(int dir, const char *all, const char *key, const char *line,
			    cft_error *err)
{
	static const char tmp[] = STATE_NAME ".new";
	/* A leftover of a crashed writer; we hold the lock, so no live one. */
	unlinkat(dir, tmp, 0);
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cft_fail(err, CFT_E_INTERNAL, "the state file %s: %s", tmp, strerror(e));
	}
	size_t kl = strlen(key);
	for (const char *l = all; *l;) {
		size_t n = strcspn(l, "\n");
		if (n && strncmp(l, key, kl) != 0)
			fprintf(f, "%.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
	if (line)
		fprintf(f, "%s\n", line);
	cft_code rc = CFT_OK;
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "writing the state file %s: %s", tmp,
			      strerror(errno));
	if (fclose(f) != 0 && !rc)
		rc = cft_fail(err, CFT_E_INTERNAL, "writing the state file %s: %s", tmp,
			      strerror(errno));
	if (!rc && renameat(dir, tmp, dir, STATE_NAME) != 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "the state file %s: %s", STATE_NAME,
			      strerror(errno));
	if (rc)
		unlinkat(dir, tmp, 0);
	return rc;
}

/* Rewrites the file: every line starting with key is dropped, then line
 * (if any) is added. */
static cft_code replace_line(const char *key, const char *line, cft_error *err)
{
	_cleanup_close_ int dir = -1;
	char *all = NULL;
	cft_code rc = state_dir(CFT_DIR_CREATE, &dir, err);
	if (rc)
		return rc;
	/* One writer at a time: read, change and rename under a lock. */
	_cleanup_close_ int lock = openat(dir, STATE_NAME ".lock",
					  O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) != 0)
		return cft_fail(err, CFT_E_INTERNAL, "locking the state file: %s", strerror(errno));
	rc = read_all(dir, &all, err);
	if (!rc)
		rc = write_state(dir, all, key, line, err);
	free(all);
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
	char prefix[KEY_MAX], api[CFT_API_URL_MAX + 1];
	char *all = NULL;
	*out = NULL;
	*n = 0;
	cft_code rc = read_state(&all, err);
	if (rc)
		return cft_absent_ok(rc, err);
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
