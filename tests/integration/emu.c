#include "emu.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		printf("Bail out! %s is not set: run under with-emulator.sh\n", name);
		exit(1);
	}
	return v;
}

cft_client_options emu_client_options(void)
{
	return (cft_client_options){
		.api_url = env("CFTEST_API_URL"),
		.ca_file = env("CFTEST_CA"),
		.timeout_ms = 5000,
	};
}

cft_secret *emu_seed_token(const char *name)
{
	json_error_t e;
	json_t *seed = json_load_file(env("CFTEST_SEED"), 0, &e), *t;
	size_t i;
	cft_secret *s = NULL;
	json_array_foreach(json_object_get(seed, "tokens"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0) {
			json_t *v = json_object_get(t, "value");
			s = cft_secret_new(json_string_value(v), json_string_length(v));
		}
	}
	json_decref(seed);
	if (!s) {
		printf("Bail out! no seed token \"%s\"\n", name);
		exit(1);
	}
	return s;
}

cft_client *emu_client(const char *token_name)
{
	cft_client_options o = emu_client_options();
	cft_secret *tok = emu_seed_token(token_name);
	cft_client *c = NULL;
	cft_error err;
	if (cft_client_new(&o, tok, &c, &err) != CFT_OK) {
		printf("Bail out! client: %s\n", err.detail);
		exit(1);
	}
	cft_secret_free(tok);
	return c;
}

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
	char **buf = userp;
	size_t old = *buf ? strlen(*buf) : 0;
	char *nb = realloc(*buf, old + size * n + 1);
	if (!nb)
		return 0;
	memcpy(nb + old, data, size * n);
	nb[old + size * n] = '\0';
	*buf = nb;
	return size * n;
}

json_t *emu_control(const char *method, const char *path, const char *body)
{
	char url[512];
	char *answer = NULL;
	long status = 0;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	snprintf(url, sizeof(url), "%s/__emu/%s", env("CFTEST_EMU_URL"), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, env("CFTEST_CA"));
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status >= 300) {
		printf("Bail out! %s /__emu/%s: %s, HTTP %ld: %s\n", method, path,
		       curl_easy_strerror(rc), status, answer ? answer : "");
		exit(1);
	}
	json_t *j = json_loads(answer ? answer : "null", JSON_DECODE_ANY, NULL);
	free(answer);
	return j;
}

int emu_count(const char *method, const char *path_part)
{
	json_t *log = emu_control("GET", "log", NULL), *e;
	size_t i;
	int n = 0;
	json_array_foreach(log, i, e) {
		const char *m = json_string_value(json_object_get(e, "method"));
		const char *p = json_string_value(json_object_get(e, "path"));
		if (m && p && strcmp(m, method) == 0 && strstr(p, path_part))
			n++;
	}
	json_decref(log);
	return n;
}

static int schema_errors_cleared;

static int schema_errors_in_log(void)
{
	json_t *log = emu_control("GET", "log", NULL), *e;
	size_t i;
	int n = 0;
	json_array_foreach(log, i, e) {
		json_t *errs = json_object_get(e, "schema_errors");
		if (json_array_size(errs) > 0) {
			char *s = json_dumps(e, JSON_COMPACT);
			printf("# schema: %s\n", s);
			free(s);
			n++;
		}
	}
	json_decref(log);
	return n;
}

int emu_schema_errors(void)
{
	return schema_errors_cleared + schema_errors_in_log();
}

void emu_clear_log(void)
{
	schema_errors_cleared += schema_errors_in_log();
	json_decref(emu_control("DELETE", "log", NULL));
}
