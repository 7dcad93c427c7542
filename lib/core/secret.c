#include "core/secret.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct cft_secret {
	size_t len;
	size_t map_size;      /* the whole mapping, header included */
	char value[];
};

void cft_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

cft_secret *cft_secret_alloc(size_t n)
{
	if (n > CFT_SECRET_MAX)
		return NULL;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t want = sizeof(cft_secret) + n + 1;
	size_t map_size = (want + page - 1) / page * page;
	void *p = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Best effort, as libsecret's egg-secure-memory: RLIMIT_MEMLOCK may be
	 * small, and a secret in swap is still better than no secret. */
	(void)mlock(p, map_size);
	(void)madvise(p, map_size, MADV_DONTDUMP);
	(void)madvise(p, map_size, MADV_DONTFORK);
	cft_secret *s = p;
	s->len = 0;
	s->map_size = map_size;
	s->value[0] = '\0';
	return s;
}

char *cft_secret_buffer(cft_secret *s)
{
	return s ? s->value : NULL;
}

size_t cft_secret_capacity(const cft_secret *s)
{
	return s ? s->map_size - sizeof(cft_secret) - 1 : 0;
}

void cft_secret_set_len(cft_secret *s, size_t n)
{
	if (!s)
		return;
	if (n > cft_secret_capacity(s))
		n = cft_secret_capacity(s);
	s->len = n;
	s->value[n] = '\0';
}

cft_secret *cft_secret_new(const char *src, size_t n)
{
	cft_secret *s = cft_secret_alloc(n);
	if (!s)
		return NULL;
	if (n)
		memcpy(s->value, src, n);
	cft_secret_set_len(s, n);
	return s;
}

const char *cft_secret_str(const cft_secret *s)
{
	return s ? s->value : "";
}

size_t cft_secret_len(const cft_secret *s)
{
	return s ? s->len : 0;
}

int cft_secret_equal(const cft_secret *a, const cft_secret *b)
{
	if (!a || !b || a->len != b->len)
		return 0;
	unsigned char diff = 0;
	for (size_t i = 0; i < a->len; i++)
		diff |= (unsigned char)(a->value[i] ^ b->value[i]);
	return diff == 0;
}

cft_secret *cft_secret_free(cft_secret *s)
{
	if (!s)
		return NULL;
	size_t map_size = s->map_size;
	explicit_bzero(s, map_size);
	(void)munlock(s, map_size);
	munmap(s, map_size);
	return NULL;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

cft_code cft_token_parse(const char *s, size_t n, cft_secret **out, cft_error *err)
{
	if (!s || !out)
		return cft_fail(err, CFT_E_INVALID_ARG, "no token given");
	while (n > 0 && is_space(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n == 0)
		return cft_fail(err, CFT_E_TOKEN_FORMAT, "the token is empty");

	int all_hex = 1, all_token = 1;
	for (size_t i = 0; i < n; i++) {
		all_hex &= is_lower_hex(s[i]);
		all_token &= is_token_char(s[i]);
	}
	if (n == CFT_GLOBAL_KEY_LEN && all_hex)
		return cft_fail(err, CFT_E_GLOBAL_API_KEY, "37 hexadecimal characters");
	if (!all_token)
		return cft_fail(err, CFT_E_TOKEN_FORMAT,
				"it contains a character other than letters, digits, '-' and '_'");
	if (n < CFT_TOKEN_MIN_LEN || n > CFT_TOKEN_MAX_LEN)
		return cft_fail(err, CFT_E_TOKEN_FORMAT,
				"it is %zu character%s long, not %d to %d", n, n == 1 ? "" : "s",
				CFT_TOKEN_MIN_LEN, CFT_TOKEN_MAX_LEN);
	cft_secret *sec = cft_secret_new(s, n);
	if (!sec)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	*out = sec;
	return CFT_OK;
}

#define CFT_TOKEN_PREFIX_LEN 5  /* "cfat_", "cfut_" */

bool cft_token_is_cloudflare_shaped(const char *s, size_t n)
{
	if (!s || n < CFT_TOKEN_MIN_LEN || n > CFT_TOKEN_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_token_char(s[i]))
			return false;
	if (strncmp(s, "cfat_", CFT_TOKEN_PREFIX_LEN) == 0 ||
	    strncmp(s, "cfut_", CFT_TOKEN_PREFIX_LEN) == 0)
		return n >= CFT_TOKEN_PREFIX_LEN + CFT_TOKEN_MIN_LEN;
	bool github = s[0] == 'g' && s[1] == 'h' && s[2] && strchr("pousr", s[2]) && s[3] == '_';
	return n == CFT_TOKEN_MIN_LEN && !github;
}

cft_code cft_token_read_fd(int fd, cft_secret **out, cft_error *err)
{
	char buf[CFT_TOKEN_MAX_LEN + 1];
	size_t len = 0;
	*out = NULL;
	for (ssize_t n; len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	cft_code rc = len ? cft_token_parse(buf, len, out, err) : CFT_OK;
	cft_wipe(buf, sizeof(buf));
	return rc;
}
