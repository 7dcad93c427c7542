/* The library's log: silent without a handler; with one, each message
 * reaches it once, with its level and its text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "core/log.h"

typedef struct heard {
	int calls;
	cft_log_level level;
	char text[4096];
} heard;

static void hear(void *ctx, cft_log_level level, const char *text)
{
	heard *h = ctx;
	h->calls++;
	h->level = level;
	snprintf(h->text, sizeof(h->text), "%s", text);
}

/* What cft_log writes to stdout and stderr while no handler is set. */
static size_t printed_without_handler(void)
{
	char path[] = "/tmp/cftoken-test-log-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return (size_t)-1;
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	cft_log(CFT_LOG_WARNING, "profile %s: nobody hears this", "p");
	cft_log(CFT_LOG_DEBUG, "nor this");
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	return (size_t)size;
}

int main(void)
{
	heard h = { 0 };

	tap_is_int(printed_without_handler(), 0, "without a handler the library prints nothing");

	cft_set_log_handler(hear, &h);
	cft_log(CFT_LOG_WARNING, "profile %s: token %s is due", "ci", "abc");
	tap_is_int(h.calls, 1, "with a handler, a message reaches it once");
	tap_is_int(h.level, CFT_LOG_WARNING, "with its level");
	tap_is_str(h.text, "profile ci: token abc is due", "and its text, formatted, no newline");
	cft_log(CFT_LOG_NOTICE, "deleted %u token%s", 2u, "s");
	tap_is_int(h.level, CFT_LOG_NOTICE, "a notice keeps its own level");
	tap_is_str(h.text, "deleted 2 tokens", "and its own text");

	char long_text[3000];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	cft_log(CFT_LOG_DEBUG, "%s", long_text);
	tap_ok(h.calls == 3 && strlen(h.text) > 1024 && strlen(h.text) < sizeof(long_text),
	       "a long message is cut, not overrun");

	cft_set_log_handler(NULL, NULL);
	cft_log(CFT_LOG_WARNING, "after the handler is gone");
	tap_is_int(h.calls, 3, "a handler set back to NULL hears nothing more");
	return tap_done();
}
