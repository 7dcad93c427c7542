/* Every error code has a phrase, and formatting never overflows. */
#include <string.h>

#include "tap.h"
#include "core/error.h"

int main(void)
{
	int all = 1;
	for (int c = 0; c < CFT__CODE_MAX; c++)
		all &= strcmp(cft_strerror((cft_code)c), "unknown error") != 0;
	tap_ok(all, "every code has a phrase");
	tap_is_str(cft_strerror((cft_code)9999), "unknown error", "an out-of-range code is handled");
	tap_contains(cft_error_hint(CFT_E_CANNOT_CREATE), "Account API Tokens Write",
		     "403 on create names the permission to add");

	cft_error err;
	cft_error_clear(&err);
	err.code = CFT_E_RATE_LIMITED;
	err.http_status = 429;
	err.retry_after_s = 30;
	err.cf_codes[0] = 971;
	err.n_cf_codes = 1;
	char small[16], big[1024];
	cft_error_format(&err, small, sizeof(small));
	tap_is_int(strlen(small), sizeof(small) - 1, "a small buffer is filled, not overrun");
	cft_error_format(&err, big, sizeof(big));
	tap_contains(big, "retry after 30 s", "the wait is shown");
	tap_ok(cft_error_is_transient(&err), "rate limiting is transient");
	err.code = CFT_E_AUTH_INVALID;
	tap_ok(!cft_error_is_transient(&err), "an invalid token is not");
	return tap_done();
}
