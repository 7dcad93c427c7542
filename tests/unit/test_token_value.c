/* Token values as pasted: trimming, Global API Keys, both real formats;
 * the shape store asks of a password before the API sees it. */
#include <string.h>

#include "tap.h"
#include "core/secret.h"

static int shaped(const char *s)
{
	return cft_token_is_cloudflare_shaped(s, strlen(s));
}

static cft_code parse(const char *s, cft_secret **out, cft_error *err)
{
	cft_error_clear(err);
	return cft_token_parse(s, strlen(s), out, err);
}

int main(void)
{
	cft_secret *s = NULL;
	cft_error err;
	const char *old40 = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-Ab";

	tap_is_int(strlen(old40), 40, "fixture is 40 characters");
	tap_is_int(parse(old40, &s, &err), CFT_OK, "a 40-character token is accepted");
	tap_is_str(cft_secret_str(s), old40, "its value is kept");
	s = cft_secret_free(s);

	tap_is_int(parse("  \tAbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-Ab\r\n", &s, &err), CFT_OK,
		   "white space and a newline around a pasted token are trimmed");
	tap_is_int(cft_secret_len(s), 40, "trimmed to 40 characters");
	s = cft_secret_free(s);

	const char *prefixed = "cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234";
	tap_is_int(parse(prefixed, &s, &err), CFT_OK, "a cfat_ account token is accepted");
	s = cft_secret_free(s);
	tap_is_int(parse("cfut_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234", &s, &err),
		   CFT_OK, "a cfut_ user token is accepted");
	s = cft_secret_free(s);

	char eighty[81], eighty_one[82];
	memset(eighty, 'a', 80);
	eighty[80] = '\0';
	memset(eighty_one, 'a', 81);
	eighty_one[81] = '\0';
	tap_is_int(parse(eighty, &s, &err), CFT_OK, "80 characters is the longest accepted");
	s = cft_secret_free(s);
	tap_is_int(parse(eighty_one, &s, &err), CFT_E_TOKEN_FORMAT, "81 characters is refused");

	tap_is_int(parse("0123456789abcdef0123456789abcdef01234", &s, &err),
		   CFT_E_GLOBAL_API_KEY, "a 37-hex-character Global API Key is refused");
	char msg[1024];
	cft_error_format(&err, msg, sizeof(msg));
	tap_contains(msg, "Global API Key", "the message names the Global API Key");
	tap_contains(msg, "API token", "and says an API token is needed");
	tap_ok(strstr(msg, "0123456789abcdef") == NULL, "and does not echo the key");

	tap_is_int(parse("AbCdEfGhIjKlMnOp QrStUvWxYz0123456789_-Ab", &s, &err),
		   CFT_E_TOKEN_FORMAT, "a space inside the token is refused");
	tap_ok(strstr(err.detail, "AbCd") == NULL, "the detail does not echo the value");
	tap_is_int(parse("short", &s, &err), CFT_E_TOKEN_FORMAT, "a short value is refused");
	tap_is_int(parse("   \n", &s, &err), CFT_E_TOKEN_FORMAT, "only white space is refused");
	tap_contains(err.detail, "empty", "and called empty");
	tap_ok(s == NULL, "nothing is returned on failure");

	/* What store shows the API: a Cloudflare token's shape, nothing else. */
	tap_ok(shaped("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-Ab"), "an older 40-character token");
	tap_ok(shaped("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234"), "a cfat_ token");
	tap_ok(shaped("cfut_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234"), "a cfut_ token");
	tap_ok(!shaped("ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"), "not a GitHub ghp_ token");
	tap_ok(!shaped("gho_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"), "nor gho_");
	tap_ok(!shaped("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"),
	       "nor a fine-grained github_pat_");
	tap_ok(!shaped("glpat-AbCdEfGhIjKlMnOpQrSt"), "nor a GitLab glpat-");
	tap_ok(!shaped("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbC"), "nor 41 unprefixed characters");
	tap_ok(!shaped("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz012345678"), "nor cfat_ and too few");
	tap_ok(!shaped(" AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-A"), "nor one with a space");
	tap_ok(!shaped("0123456789abcdef0123456789abcdef01234"), "nor a Global API Key");

	/* The secret type itself. */
	cft_secret *a = cft_secret_new("same-value", 10), *b = cft_secret_new("same-value", 10);
	cft_secret *c = cft_secret_new("other-valu", 10);
	tap_ok(cft_secret_equal(a, b), "equal secrets compare equal");
	tap_ok(!cft_secret_equal(a, c), "different secrets differ");
	tap_ok(cft_secret_new("x", CFT_SECRET_MAX + 1) == NULL, "over-long secrets are refused");
	tap_ok(cft_secret_free(a) == NULL, "free returns NULL");
	cft_secret_free(b);
	cft_secret_free(c);
	tap_ok(cft_secret_free(NULL) == NULL, "free is NULL-safe");
	return tap_done();
}
