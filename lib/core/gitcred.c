#include "core/gitcred.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static cft_code set(char **field, const char *v, size_t n, cft_error *err)
{
	char *d = dup_n(v, n);
	if (!d)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	free(*field);
	*field = d;
	return CFT_OK;
}

/* url=scheme://host/path, which git itself splits for helpers but a
 * script may send as one. */
static cft_code set_url(cft_gitcred *c, const char *v, size_t n, cft_error *err)
{
	const char *sep = n >= 3 ? memmem(v, n, "://", 3) : NULL;
	if (!sep)
		return cft_fail(err, CFT_E_INVALID_ARG, "git credential input: url without ://");
	cft_code rc = set(&c->protocol, v, (size_t)(sep - v), err);
	const char *host = sep + 3, *end = v + n;
	const char *slash = memchr(host, '/', (size_t)(end - host));
	if (!rc)
		rc = set(&c->host, host, (size_t)((slash ? slash : end) - host), err);
	if (!rc && slash && slash + 1 < end)
		rc = set(&c->path, slash + 1, (size_t)(end - slash - 1), err);
	return rc;
}

cft_code cft_gitcred_parse(const char *buf, size_t len, cft_gitcred *out, cft_error *err)
{
	cft_gitcred c = { 0 };
	cft_code rc = CFT_OK;
	size_t lines = 0;
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	if (memchr(buf, '\0', len))
		return cft_fail(err, CFT_E_INVALID_ARG, "git credential input contains a NUL byte");
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *next = nl ? nl + 1 : end;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;  /* a blank line ends the input */
		if (++lines > CFT_GITCRED_LINES) {
			rc = cft_fail(err, CFT_E_INVALID_ARG,
				      "git credential input: more than %d lines", CFT_GITCRED_LINES);
			break;
		}
		if (n > CFT_GITCRED_LINE_MAX) {
			rc = cft_fail(err, CFT_E_INVALID_ARG,
				      "git credential input: line %zu is longer than %d bytes", lines,
				      CFT_GITCRED_LINE_MAX);
			break;
		}
		const char *eq = memchr(p, '=', n);
		if (!eq || eq == p) {
			rc = cft_fail(err, CFT_E_INVALID_ARG,
				      "git credential input: line %zu is not key=value", lines);
			break;
		}
		size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
		const char *v = eq + 1;
#define KEY(name) (klen == sizeof(name) - 1 && memcmp(p, name, klen) == 0)
		if (KEY("protocol"))
			rc = set(&c.protocol, v, vlen, err);
		else if (KEY("host"))
			rc = set(&c.host, v, vlen, err);
		else if (KEY("path"))
			rc = set(&c.path, v, vlen, err);
		else if (KEY("username"))
			rc = set(&c.username, v, vlen, err);
		else if (KEY("password_expiry_utc"))
			rc = set(&c.password_expiry_utc, v, vlen, err);
		else if (KEY("url"))
			rc = set_url(&c, v, vlen, err);
		else if (KEY("password")) {
			cft_secret_free(c.password);
			c.password = cft_secret_new(v, vlen);
			if (!c.password)
				rc = cft_fail(err, CFT_E_NOMEM, NULL);
		} else if (KEY("capability[]")) {
			if (vlen == 8 && memcmp(v, "authtype", 8) == 0)
				c.wants_authtype = true;
		}
		/* anything else: ignored, for forward compatibility */
#undef KEY
		p = next;
	}
	if (rc) {
		cft_gitcred_clear(&c);
		return rc;
	}
	*out = c;
	return CFT_OK;
}

cft_code cft_gitcred_read_input(int fd, cft_secret **raw, cft_error *err)
{
	cft_secret *s = cft_secret_alloc(CFT_GITCRED_INPUT_MAX);
	if (!s)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	char *b = cft_secret_buffer(s);
	size_t len = 0, cap = CFT_GITCRED_INPUT_MAX;
	for (;;) {
		ssize_t n = read(fd, b + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			cft_secret_free(s);
			return cft_fail(err, CFT_E_INVALID_ARG, "reading git credential input: %s",
					strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* git ends its request with a blank line and may keep the pipe
		 * open: stop there rather than wait for end of input. */
		if ((len >= 2 && b[len - 1] == '\n' && b[len - 2] == '\n') ||
		    (len == 1 && b[0] == '\n'))
			break;
		if (len == cap) {
			cft_secret_free(s);
			return cft_fail(err, CFT_E_INVALID_ARG,
					"git credential input larger than %d bytes",
					CFT_GITCRED_INPUT_MAX);
		}
	}
	cft_secret_set_len(s, len);
	*raw = s;
	return CFT_OK;
}

void cft_gitcred_clear(cft_gitcred *c)
{
	if (!c)
		return;
	free(c->protocol);
	free(c->host);
	free(c->path);
	free(c->username);
	free(c->password_expiry_utc);
	cft_secret_free(c->password);
	memset(c, 0, sizeof(*c));
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte %XY at s stands for, or -1 when s holds no escape. */
static int escaped_byte(const char *s)
{
	if (s[0] != '%')
		return -1;
	int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);
	return lo < 0 ? -1 : hi * 16 + lo;
}

static bool is_dot_segment(const char *seg, size_t n)
{
	return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

/* One level of a path: no dot segment, no escape of a separator or NUL. */
static bool path_level_safe(const char *s)
{
	const char *seg = s;
	for (const char *p = s;; p++) {
		int b = escaped_byte(p);
		if (b == '/' || b == '\\' || b == 0)
			return false;
		if (*p == '/' || *p == '\\' || *p == '\0') {
			if (is_dot_segment(seg, (size_t)(p - seg)))
				return false;
			if (*p == '\0')
				return true;
			seg = p + 1;
		}
	}
}

/* Decodes one level of %XY escapes in place; true when there was one. */
static bool percent_decode(char *s)
{
	bool any = false;
	char *out = s;
	for (const char *p = s; *p;) {
		int b = escaped_byte(p);
		if (b > 0) {
			*out++ = (char)b;
			p += 3;
			any = true;
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
	return any;
}

/* A server may decode a path more than once: every level is checked, and
 * a path still encoded after a few is refused rather than guessed at. */
#define PATH_DECODE_LEVELS 4

static bool path_safe(const char *path)
{
	char level[CFT_GITCRED_LINE_MAX + 1];
	size_t n = strlen(path);
	if (n >= sizeof(level))
		return false;
	memcpy(level, path, n + 1);
	for (int i = 0; i < PATH_DECODE_LEVELS; i++) {
		if (!path_level_safe(level))
			return false;
		if (!percent_decode(level))
			return true;
	}
	return false;
}

const char *cft_gitcred_refusal(const cft_gitcred *c)
{
	if (!c->protocol || strcmp(c->protocol, "https") != 0)
		return "cftoken answers protocol=https only, and this request is not HTTPS";
	if (c->path && !path_safe(c->path))
		return "the path holds a \".\" or \"..\" segment or an encoded separator, which "
		       "a server may resolve to another repository";
	return NULL;
}
