/* Log records: how cftoken-pam-helper and cftoken-pam-worker tell
 * pam_cftoken.so and the broker what syslog should hear.  libc only.
 *
 * Not lines on stderr: text from outside (a PAM user name, an error of the
 * Secret Service on the user's own bus, an API message, a path) may hold a
 * newline, and a reader of lines takes what follows it for a line of its
 * own, at a level of the user's choosing ("notice: token ... revoked").
 * So:
 *
 * - Records travel on a pipe of their own, which the module hands the
 *   helper as fd LOG_RECORD_FD and names by --log-fd=; stderr is left to
 *   whatever libraries print (GLib, libsecret, libcftoken's warnings).
 * - A record is one byte of level, the syslog priority as a digit ('3'
 *   LOG_ERR to '7' LOG_DEBUG), then the text, then a NUL.  It is written
 *   with one write() of at most LOG_RECORD_MAX bytes (less than PIPE_BUF),
 *   so the records of the worker and of its child never interleave.
 * - The writer escapes the whole text (log_escape): control characters,
 *   backslash, C1 controls, line separators and bytes that are not UTF-8
 *   become \n, \t, \\, \xNN, as systemd's cescape does.  A record holds no
 *   byte below 0x20.
 * - The reader never splits on a newline.  It checks each record (a known
 *   level, its NUL, a clean text: log_text_clean) before it believes the
 *   level; anything else, a cut or forged record as much as everything
 *   that arrived on stderr, is logged as one escaped LOG_ERR record, never
 *   parsed for a level. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#define LOG_RECORD_FD 3
#define LOG_RECORD_FD_ARG "--log-fd=3"
/* One record: level, text, NUL. */
#define LOG_RECORD_MAX 2048
/* The longest text the reader hands on (escaped stray output included). */
#define LOG_TEXT_MAX 4096

/* in[0..len) escaped into out (size bytes, NUL-terminated), never cutting
 * an escape in two; a text that does not fit ends with "...".  Returns
 * the length written. */
size_t log_escape(const char *in, size_t len, char *out, size_t size);

/* True when log_escape would leave text as it is, backslashes apart: no
 * control character, valid UTF-8.  What the reader asks of a record. */
bool log_text_clean(const char *text);

/* One record of text (escaped here) at level on fd; 0, or -1. */
int log_record_write(int fd, int level, const char *text);

/* The writer's side, for a program that may also run by hand: a record
 * on fd when fd >= 0, else an escaped line ("notice: TEXT") on stderr. */
void log_record_say(int fd, int level, const char *text);

typedef void (*log_record_fn)(void *ctx, int level, const char *text);

/* The reader: emit(ctx, level, text) for each record in buf[0..len), in
 * order; a piece that is not a record as one escaped LOG_ERR text. */
void log_records_read(const char *buf, size_t len, log_record_fn emit, void *ctx);

/* Output that is no record at all (a helper's stderr): one escaped LOG_ERR
 * text, trailing newlines dropped; nothing when it is empty. */
void log_stray(const char *buf, size_t len, log_record_fn emit, void *ctx);
