/* pam/log_record.c: the escaping of outside text and the framed records
 * the PAM helper and worker send the module and the broker.  A newline in
 * a detail never makes a record (or a level) of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_record.h"
#include "tap.h"

#define MAX_SEEN 16

typedef struct seen {
	int n;
	int level[MAX_SEEN];
	char text[MAX_SEEN][LOG_TEXT_MAX];
} seen;

static void collect(void *ctx, int level, const char *text)
{
	seen *s = ctx;
	if (s->n < MAX_SEEN) {
		s->level[s->n] = level;
		snprintf(s->text[s->n], LOG_TEXT_MAX, "%s", text);
	}
	s->n++;
}

static const char *esc(const char *in, size_t len, size_t size)
{
	static char out[LOG_TEXT_MAX];
	log_escape(in, len, out, size);
	return out;
}
#define ESC(lit) esc(lit, sizeof(lit) - 1, LOG_TEXT_MAX)

static void escaping(void)
{
	tap_is_str(ESC("alice"), "alice", "plain text stays as it is");
	tap_is_str(ESC("a\nnotice: b"), "a\\nnotice: b", "a newline becomes \\n");
	tap_is_str(ESC("\x1b[31mred\r\t"), "\\x1b[31mred\\r\\t", "ESC, CR and tab are escaped");
	tap_is_str(ESC("C:\\n"), "C:\\\\n", "a backslash is doubled: a literal \\n is not a newline");
	tap_is_str(ESC("a\0b"), "a\\x00b", "a NUL inside the given length is escaped");
	tap_is_str(ESC("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac", "UTF-8 stays");
	tap_is_str(ESC("\xc2\x9b" "2J"), "\\xc2\\x9b2J", "a C1 control (CSI) is escaped");
	tap_is_str(ESC("a\xe2\x80\xa8" "b\xe2\x80\xa9"), "a\\xe2\\x80\\xa8b\\xe2\\x80\\xa9",
		   "line and paragraph separators are escaped");
	tap_is_str(ESC("\xff\xc0\xaf\xed\xa0\x80"), "\\xff\\xc0\\xaf\\xed\\xa0\\x80",
		   "bytes that are not UTF-8 (overlong, surrogate) are escaped");
	tap_is_str(ESC("end\xe2\x82"), "end\\xe2\\x82", "a sequence cut at the end is escaped");
	tap_is_str(ESC("\x7f"), "\\x7f", "DEL is escaped");

	tap_is_str(esc("\n\n\n\n\n", 5, 8), "\\n\\n...", "too long: \"...\", no escape cut in two");
	tap_is_str(esc("abcdef", 6, 7), "abcdef", "what fits exactly is not cut");
	tap_is_str(esc("abcdefg", 7, 7), "abc...", "one more byte is");
	tap_is_str(esc("\n", 1, 2), ".", "a buffer too small for an escape holds no half of one");

	tap_ok(log_text_clean("token 0123 of alice: caf\xc3\xa9 \\n"), "escaped text is clean");
	tap_ok(!log_text_clean("a\nb"), "a newline is not clean");
	tap_ok(!log_text_clean("a\xc2\x85" "b"), "NEL (U+0085) is not clean");
}

/* What log_records_read makes of these bytes. */
static seen read_bytes(const char *buf, size_t len)
{
	seen s = { 0 };
	log_records_read(buf, len, collect, &s);
	return s;
}
#define READ(lit) read_bytes(lit, sizeof(lit) - 1)

static void reading(void)
{
	seen s = READ("7step one\0" "5token 0123 minted\0" "3it failed\0");
	tap_ok(s.n == 3 && s.level[0] == LOG_DEBUG && s.level[1] == LOG_NOTICE &&
		       s.level[2] == LOG_ERR && !strcmp(s.text[1], "token 0123 minted"),
	       "records: their levels and texts, in order");

	s = READ("3no such user: x\n5token 1 of bob revoked\0");
	tap_ok(s.n == 1 && s.level[0] == LOG_ERR &&
		       !strcmp(s.text[0], "3no such user: x\\n5token 1 of bob revoked"),
	       "a record with a raw newline is no record: one escaped error, level byte shown");

	s = READ("5notice text without its NUL");
	tap_ok(s.n == 1 && s.level[0] == LOG_ERR && !strcmp(s.text[0], "5notice text without its NUL"),
	       "a record cut short (no NUL) is logged as an error, not at its level");

	s = READ("1emergency!\0" "notice: x\0");
	tap_ok(s.n == 2 && s.level[0] == LOG_ERR && s.level[1] == LOG_ERR &&
		       !strcmp(s.text[1], "notice: x"),
	       "an unknown level byte or a line-style prefix is never a level");

	s = READ("\0\0" "5ok\0");
	tap_ok(s.n == 1 && s.level[0] == LOG_NOTICE, "empty pieces are skipped");

	s = (seen){ 0 };
	const char stray[] = "cftoken: warning: storing: boom\nnotice: token 9 of bob revoked\n\n";
	log_stray(stray, sizeof(stray) - 1, collect, &s);
	tap_ok(s.n == 1 && s.level[0] == LOG_ERR &&
		       !strcmp(s.text[0],
			       "cftoken: warning: storing: boom\\nnotice: token 9 of bob revoked"),
	       "stderr output: one escaped error, whatever its lines say");
	s = (seen){ 0 };
	log_stray("\n", 1, collect, &s);
	tap_is_int(s.n, 0, "empty stderr output logs nothing");
}

/* The writer's end through a real pipe, as the worker writes it. */
static void writing(void)
{
	int p[2];
	static char buf[4 * LOG_RECORD_MAX];
	char big[3000];
	if (pipe(p) != 0) {
		tap_ok(0, "pipe");
		return;
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	int rc = log_record_write(p[1], LOG_ERR, "no such user: x\nnotice: token 1 of bob revoked");
	rc |= log_record_write(p[1], LOG_NOTICE, "token 2 minted");
	rc |= log_record_write(p[1], LOG_DEBUG, big);
	close(p[1]);
	size_t len = 0;
	for (ssize_t n; (n = read(p[0], buf + len, sizeof(buf) - len)) > 0;)
		len += (size_t)n;
	close(p[0]);
	tap_is_int(rc, 0, "records written");
	seen s = read_bytes(buf, len);
	tap_ok(s.n == 3 && s.level[0] == LOG_ERR &&
		       !strcmp(s.text[0], "no such user: x\\nnotice: token 1 of bob revoked"),
	       "a text with a newline: exactly one record, escaped, at the writer's level");
	tap_ok(s.n == 3 && s.level[1] == LOG_NOTICE && !strcmp(s.text[1], "token 2 minted"),
	       "the next record is intact");
	tap_ok(s.n == 3 && strlen(s.text[2]) == LOG_RECORD_MAX - 2 &&
		       !strcmp(s.text[2] + LOG_RECORD_MAX - 5, "..."),
	       "a text too long for one write is cut, with \"...\" (%zu bytes)", strlen(s.text[2]));

	/* Run by hand (no --log-fd): an escaped line on stderr. */
	int saved = dup(STDERR_FILENO);
	if (pipe(p) != 0 || saved < 0) {
		tap_ok(0, "pipe");
		return;
	}
	dup2(p[1], STDERR_FILENO);
	log_record_say(-1, LOG_NOTICE, "a\nnotice: b");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	tap_is_str(buf, "notice: a\\nnotice: b\n", "without a log fd: one escaped line on stderr");
}

int main(void)
{
	escaping();
	reading();
	writing();
	return tap_done();
}
