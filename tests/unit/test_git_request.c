/* What the git helper refuses before any cache or API: a request that is
 * not HTTPS, and a path a server would resolve elsewhere. */
#include <string.h>

#include "tap.h"
#include "core/gitcred.h"

static const char *refusal(const char *protocol, const char *path)
{
	cft_gitcred c = { .protocol = (char *)protocol, .host = (char *)"git.example.com",
			  .path = (char *)path };
	return cft_gitcred_refusal(&c);
}

int main(void)
{
	tap_ok(refusal("https", NULL) == NULL, "https without a path is answered");
	tap_ok(refusal("https", "team/repo.git") == NULL, "https with a plain path is answered");
	tap_ok(refusal("http", NULL) != NULL, "http is refused");
	tap_ok(refusal("smtp", NULL) != NULL, "smtp is refused");
	tap_ok(refusal(NULL, NULL) != NULL, "no protocol is refused");
	tap_ok(refusal("HTTPS", NULL) != NULL, "only the exact https");

	static const char *const bad[] = {
		"..", ".", "team/..", "team/../x", "team/./x", "./team", "team/%2e%2e/x",
		"team/%2E%2E/x", "team/%2e./x", "team/.%2E/x", "team/%2e/x", "team/%252e%252e/x",
		"team/%25252e%25252e/x", "team%2fevil/x", "team%2Fevil", "team%5c..%5cx",
		"team\\..\\x", "team/..\\x", "team%00/x", "team/%2525252525x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(refusal("https", bad[i]) != NULL, "path %s is refused", bad[i]);
	static const char *const good[] = {
		"team", "team/", "team//repo.git", "team/.hidden/x", "team/...", "team/..x/y",
		"team/x..", "team/100%25", "team/%41b", "team/%zz", "team/%", "team.git",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(refusal("https", good[i]) == NULL, "path %s is answered", good[i]);

	return tap_done();
}
