#include "log_record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The length of the character at s that may stand as it is: printable
 * ASCII, or a UTF-8 sequence that is neither a C1 control (U+0080 to
 * U+009F, a terminal's CSI among them) nor a line or paragraph separator
 * (U+2028, U+2029); 0 when its first byte must be escaped. */
static size_t plain_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	if (c >= 0x20 && c < 0x7f)
		return 1;
	size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
						: c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!n || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	if ((c == 0xc2 && s[1] < 0xa0) || (c == 0xe2 && s[1] == 0x80 && (s[2] | 1) == 0xa9))
		return 0;
	return n;
}

/* The escape of the byte c, which may not stand as it is, in esc[5]. */
static size_t escape_byte(unsigned char c, char esc[5])
{
	static const char hex[] = "0123456789abcdef";
	int named = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : c == '\\' ? '\\' : 0;
	esc[0] = '\\';
	if (named) {
		esc[1] = (char)named;
		return 2;
	}
	esc[1] = 'x';
	esc[2] = hex[c >> 4];
	esc[3] = hex[c & 15];
	return 4;
}

/* The output for the input at in[i]: the character as it is, or the
 * escape of its first byte (in esc).  Returns how much input it takes. */
static size_t piece_at(const char *in, size_t i, size_t len, char esc[5], const char **piece,
		       size_t *n)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t take = s[i] == '\\' ? 0 : plain_len(s + i, len - i);
	if (take) {
		*piece = in + i;
		*n = take;
		return take;
	}
	*piece = esc;
	*n = escape_byte(s[i], esc);
	return 1;
}

size_t log_escape(const char *in, size_t len, char *out, size_t size)
{
	char esc[5];
	const char *piece;
	size_t o = 0, n, need = 0;
	if (!size)
		return 0;
	for (size_t i = 0; i < len; need += n)
		i += piece_at(in, i, len, esc, &piece, &n);
	/* What does not fit ends with "...", after whole escapes only. */
	size_t room = need < size ? need : size > 4 ? size - 4 : 0;
	for (size_t i = 0; i < len;) {
		i += piece_at(in, i, len, esc, &piece, &n);
		if (o + n > room)
			break;
		memcpy(out + o, piece, n);
		o += n;
	}
	for (int d = 0; need >= size && d < 3 && o + 1 < size; d++)
		out[o++] = '.';
	out[o] = '\0';
	return o;
}

bool log_text_clean(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text);
	for (size_t i = 0, n; i < len; i += n)
		if (!(n = s[i] == '\\' ? 1 : plain_len(s + i, len - i)))
			return false;
	return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;
	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)len ? 0 : -1;
}

int log_record_write(int fd, int level, const char *text)
{
	char rec[LOG_RECORD_MAX];
	if (level < LOG_ERR || level > LOG_DEBUG)
		level = LOG_ERR;
	rec[0] = (char)('0' + level);
	size_t n = log_escape(text, strlen(text), rec + 1, sizeof(rec) - 1);
	/* The level, the text and its NUL in one write: atomic on a pipe. */
	return write_all(fd, rec, n + 2);
}

void log_record_say(int fd, int level, const char *text)
{
	if (fd >= 0) {
		(void)log_record_write(fd, level, text);
		return;
	}
	char line[LOG_RECORD_MAX + 16];
	const char *prefix = level == LOG_DEBUG ? "debug: " : level == LOG_NOTICE ? "notice: " : "";
	size_t p = (size_t)snprintf(line, sizeof(line), "%s", prefix);
	size_t n = log_escape(text, strlen(text), line + p, sizeof(line) - p - 1);
	line[p + n] = '\n';
	(void)write_all(STDERR_FILENO, line, p + n + 1);
}

void log_records_read(const char *buf, size_t len, log_record_fn emit, void *ctx)
{
	char text[LOG_TEXT_MAX];
	for (size_t i = 0; i < len;) {
		const char *p = buf + i, *nul = memchr(p, '\0', len - i);
		size_t n = nul ? (size_t)(nul - p) : len - i;
		int level = n ? p[0] - '0' : -1;
		i += n + (nul ? 1 : 0);
		if (!n)
			continue;
		if (nul && level >= LOG_ERR && level <= LOG_DEBUG && n <= LOG_RECORD_MAX &&
		    log_text_clean(p + 1)) {
			emit(ctx, level, p + 1);
		} else {
			/* Not a record: shown whole, level byte and all, as an error. */
			log_escape(p, n, text, sizeof(text));
			emit(ctx, LOG_ERR, text);
		}
	}
}

void log_stray(const char *buf, size_t len, log_record_fn emit, void *ctx)
{
	char text[LOG_TEXT_MAX];
	while (len && buf[len - 1] == '\n')
		len--;
	if (!len)
		return;
	log_escape(buf, len, text, sizeof(text));
	emit(ctx, LOG_ERR, text);
}
