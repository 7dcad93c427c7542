#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

/* Set once, before the program does anything else with the library (a
 * process-wide setting, as jansson's allocator): no lock. */
static cft_log_handler *handler;
static void *handler_ctx;

void cft_set_log_handler(cft_log_handler *fn, void *ctx)
{
	handler = fn;
	handler_ctx = ctx;
}

void cft_log(cft_log_level level, const char *fmt, ...)
{
	/* Room for a formatted cft_error (1024) and the names around it. */
	char text[2048];
	va_list ap;

	if (!handler)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	handler(handler_ctx, level, text);
}
