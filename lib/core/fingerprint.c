#include "core/fingerprint.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/safe_file.h"

#define FILE_MAX (1024 * 1024)

void cft_fp_init(cft_fp *fp)
{
	cft_sha256_init(&fp->sha);
}

void cft_fp_bytes(cft_fp *fp, const void *data, size_t len)
{
	cft_sha256_update(&fp->sha, data, len);
}

void cft_fp_str(cft_fp *fp, const char *s)
{
	uint64_t len = s ? (uint64_t)strlen(s) : UINT64_MAX;
	cft_fp_bytes(fp, &len, sizeof(len));
	if (s)
		cft_fp_bytes(fp, s, strlen(s));
}

void cft_fp_file(cft_fp *fp, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	cft_fp_str(fp, path);
	/* What cannot be read (absent, a FIFO, too large) hashes as absent:
	 * the configuration load then says what is wrong with it. */
	if (!path || cft_file_read(AT_FDCWD, path, path, FILE_MAX, 0, &text, &len, NULL)) {
		cft_fp_str(fp, NULL);
		return;
	}
	cft_fp_bytes(fp, text, len);
	cft_fp_bytes(fp, &len, sizeof(len));
	free(text);
}

void cft_fp_hex(const cft_fp *fp, char out[CFT_FP_HEX])
{
	cft_sha256 s = fp->sha;
	unsigned char digest[CFT_SHA256_SIZE];
	static const char hex[] = "0123456789abcdef";
	cft_sha256_final(&s, digest);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[32] = '\0';
}

int cft_api_url_normal(const char *api_url, char out[CFT_API_URL_MAX + 1])
{
	size_t n = api_url ? strlen(api_url) : 0;
	out[0] = '\0';
	if (n < 9 || n > CFT_API_URL_MAX || strncasecmp(api_url, "https://", 8) != 0)
		return -1;
	while (n > 8 && api_url[n - 1] == '/')
		n--;
	size_t host_end = 8 + strcspn(api_url + 8, "/?#");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)api_url[i];
		if (c <= ' ' || c == 0x7f)
			return -1;
		/* Scheme and host name have no case; the path has. */
		out[i] = (char)(i < host_end && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[n] = '\0';
	return n > 8 ? 0 : -1;
}

int cft_api_url_is(const char *recorded, const char *api_url)
{
	char url[CFT_API_URL_MAX + 1];
	return recorded && cft_api_url_normal(api_url, url) == 0 && strcmp(recorded, url) == 0;
}

void cft_api_hash(const char *api_url, char out[CFT_API_HASH_SIZE])
{
	cft_fp fp;
	char url[CFT_API_URL_MAX + 1];
	cft_fp_init(&fp);
	cft_fp_str(&fp, "cftoken-api 2");
	/* A URL that is none cannot be stored; its name finds nothing either. */
	cft_fp_str(&fp, cft_api_url_normal(api_url, url) == 0 ? url : api_url);
	cft_fp_hex(&fp, out);
}

int cft_user_config_home_path(char *buf, size_t size)
{
	const char *xdg = secure_getenv("XDG_CONFIG_HOME");
	int n;
	if (xdg && *xdg == '/') {
		n = snprintf(buf, size, "%s/cftoken/config", xdg);
	} else {
		const char *home = secure_getenv("HOME");
		if (!home || *home != '/') {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return -1;
		n = snprintf(buf, size, "%s/.config/cftoken/config", home);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int cft_user_config_path(char *buf, size_t size)
{
	const char *env = secure_getenv("CFTOKEN_CONFIG");
	if (!env || !*env)
		return cft_user_config_home_path(buf, size);
	int n = snprintf(buf, size, "%s", env);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
