/* cft_config_write_section: a learned profile into the user's file, the
 * rest of the file kept line for line. */
#include "config/config_edit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/least_privilege.h"
#include "core/safe_file.h"
#include "core/trusted_file.h"

/* As config.c reads it. */
#define CONFIG_MAX_BYTES (1024 * 1024)

/* The keys the learned section sets, which an earlier value gives way to,
 * and the comments an earlier learn wrote. */
static const char *const learned_keys[] = { "account", "preset", "presets", "permissions",
					    "zones" };
static const char *const learned_comments[] = {
	CFT_LEARNED_MARK, "# incomplete: ", "# zones: the requests named no zone",
	"# no operation the program called needs",
};

static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Whether the line [s, end) is the header [profile NAME]. */
static bool is_header(const char *s, const char *end, const char *profile)
{
	char want[128];
	int n = snprintf(want, sizeof(want), "[profile %s]", profile);
	s = skip_blanks(s, end);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return n > 0 && (size_t)n < sizeof(want) && (size_t)(end - s) == (size_t)n &&
	       !memcmp(s, want, (size_t)n);
}

/* Whether the line [s, end), in the section being replaced, gives way. */
static bool replaced(const char *s, const char *end)
{
	s = skip_blanks(s, end);
	for (size_t i = 0; i < sizeof(learned_comments) / sizeof(learned_comments[0]); i++) {
		size_t n = strlen(learned_comments[i]);
		if ((size_t)(end - s) >= n && !memcmp(s, learned_comments[i], n))
			return true;
	}
	const char *eq = memchr(s, '=', (size_t)(end - s));
	if (!eq || *s == '#')
		return false;
	const char *k = eq;
	while (k > s && (k[-1] == ' ' || k[-1] == '\t'))
		k--;
	for (size_t i = 0; i < sizeof(learned_keys) / sizeof(learned_keys[0]); i++)
		if ((size_t)(k - s) == strlen(learned_keys[i]) &&
		    !memcmp(s, learned_keys[i], (size_t)(k - s)))
			return true;
	return false;
}

char *cft_config_with_section(const char *text, const char *profile, const char *section)
{
	char *out = NULL;
	size_t size = 0;
	if (!text || !profile || !section)
		return NULL;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	bool found = false, inside = false;
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		const char *end = nl ? nl : s + strlen(s);
		const char *next = nl ? nl + 1 : end;
		const char *first = skip_blanks(s, end);
		if (first < end && *first == '[')
			inside = false;
		if (!found && is_header(s, end, profile)) {
			found = inside = true;
			fputs(section, f);
		} else if (!inside || !replaced(s, end)) {
			fwrite(s, 1, (size_t)(next - s), f);
			if (!nl)
				fputc('\n', f);
		}
		s = next;
	}
	if (!found) {
		if (*text)
			fputc('\n', f);
		fputs(section, f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The directory of a new file: present, or made (one level, mode 0700),
 * and as reading checks it: the user's or root's, written by nobody else. */
static cft_code ensure_dir(const char *path, cft_error *err)
{
	char buf[4096];
	struct stat st;
	snprintf(buf, sizeof(buf), "%s", path);
	const char *dir = dirname(buf);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: cannot make the directory: %s", dir,
				strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: not a directory of yours that only "
				"you may write: the configuration is not written there", dir);
	return CFT_OK;
}

static cft_code write_all(int fd, const char *s, size_t n, const char *path, cft_error *err)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cft_fail(err, CFT_E_INTERNAL, "%s: cannot write: %s", path,
					strerror(errno));
		s += w;
		n -= (size_t)w;
	}
	return fsync(fd) == 0 ? CFT_OK
			      : cft_fail(err, CFT_E_INTERNAL, "%s: cannot write: %s", path,
					 strerror(errno));
}

/* The new text in a file beside path, which must read as a valid
 * configuration, then renamed over path. */
static cft_code replace_file(const char *path, const char *text, mode_t mode, cft_error *err)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: cannot write beside it: %s", path,
				strerror(errno));
	cft_code rc = fchmod(fd, mode) == 0
			      ? write_all(fd, text, strlen(text), path, err)
			      : cft_fail(err, CFT_E_INTERNAL, "%s: %s", tmp, strerror(errno));
	close(fd);
	if (!rc) {
		cft_config check;
		const char *paths[1] = { tmp };
		rc = cft_config_load_files(&check, paths, 1, err);
		if (!rc)
			cft_config_clear(&check);
	}
	if (!rc && rename(tmp, path) != 0)
		rc = cft_fail(err, CFT_E_INTERNAL, "%s: cannot replace it: %s", path,
			      strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

cft_code cft_config_write_section(const char *path, const char *profile, const char *section,
				  cft_error *err)
{
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0600;
	cft_code rc = cft_check_trusted_file(path, "user configuration file", err);
	if (rc == CFT_E_NOT_FOUND) {
		cft_error_clear(err);
		rc = ensure_dir(path, err);
		if (!rc)
			rc = cft_check_trusted_file(path, "user configuration file", err);
		if (rc == CFT_E_NOT_FOUND) {
			cft_error_clear(err);
			rc = CFT_OK;
			text = strdup("");
			if (!text)
				rc = cft_fail(err, CFT_E_NOMEM, NULL);
		}
	} else if (!rc) {
		struct stat st;
		rc = cft_file_read(AT_FDCWD, path, path, CONFIG_MAX_BYTES, 0, &text, &len, err);
		if (!rc && stat(path, &st) == 0)
			mode = st.st_mode & 07777;
		if (!rc && memchr(text, '\0', len))
			rc = cft_fail(err, CFT_E_INVALID_ARG, "%s: contains a NUL byte", path);
	}
	if (rc) {
		free(text);
		return rc;
	}
	char *updated = cft_config_with_section(text, profile, section);
	free(text);
	if (!updated)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	rc = replace_file(path, updated, mode, err);
	free(updated);
	return rc;
}
