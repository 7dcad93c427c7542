/* What the library has to say beside an error it returns: a token it
 * deleted, a renewal that failed while the old token stays in use.  As
 * libfido2's fido_set_log_handler: one handler for the whole process, set
 * once by the program (before it calls the library); without one the
 * library says nothing.  The library never prints: the program decides
 * where a message goes (a terminal, a log record for syslog) and how it
 * looks.  Never give a token value to cft_log. */
#pragma once

/* syslog's numbers, so a program can hand them on as they are. */
typedef enum cft_log_level {
	CFT_LOG_WARNING = 4,  /* the user should act, or know what went wrong */
	CFT_LOG_NOTICE = 5,   /* worth knowing: what was done on the user's behalf */
	CFT_LOG_DEBUG = 7,
} cft_log_level;

/* text: one line, without a program name, a level word or a newline. */
typedef void cft_log_handler(void *ctx, cft_log_level level, const char *text);

/* fn NULL: silent again. */
void cft_set_log_handler(cft_log_handler *fn, void *ctx);

void cft_log(cft_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
