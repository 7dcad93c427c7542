#include "cftoken-config.h"
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "config/config_lines.h"
#include "config/presets.h"
#include "core/analyzer.h"
#include "core/fingerprint.h"
#include "core/safe_file.h"
#include "core/timeutil.h"
#include "core/trusted_file.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

/* Where a value came from, for messages. */
typedef struct origin {
	const char *path;
	const cft_config_lines *lines;  /* where each key and section is */
	const char *group;
	const char *key;
	bool may_lift;               /* may set the ceiling's keys */
} origin;

static cft_code bad(const origin *o, cft_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static cft_code bad(const origin *o, cft_error *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	int line = cft_config_lines_find(o->lines, o->group, o->key);
	if (o->key)
		return cft_fail(err, CFT_E_INVALID_ARG, "%s:%d: [%s] %s: %s", o->path, line,
				o->group, o->key, what);
	return cft_fail(err, CFT_E_INVALID_ARG, "%s:%d: [%s]: %s", o->path, line, o->group, what);
}

/* parse_list stores strdup's copies at v[k], and GCC reports the leak it
 * imagines there in free_list (analyzer.h). */
CFT_ANALYZER_ARRAY_STORES_BEGIN
static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* "a, b ,c" -> {"a","b","c"}; empty items are an error. */
static cft_code parse_list(const origin *o, const char *value, char ***out, size_t *n,
			   cft_error *err)
{
	g_auto(GStrv) parts = g_strsplit(value, ",", -1);
	size_t count = g_strv_length(parts);
	if (count > CFT_CONFIG_LIST_MAX)
		return bad(o, err, "more than %d items", CFT_CONFIG_LIST_MAX);
	char **v = calloc(count ? count : 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; v && i < count; i++) {
		char *item = g_strstrip(parts[i]);
		if (!*item) {
			free_list(v, k);
			return bad(o, err, "an empty item in the list");
		}
		v[k] = strdup(item);
		if (!v[k]) {
			free_list(v, k);
			return cft_fail(err, CFT_E_NOMEM, NULL);
		}
		k++;
	}
	if (!v)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	free_list(*out, *n);
	*out = v;
	*n = k;
	return CFT_OK;
}
CFT_ANALYZER_ARRAY_STORES_END

static bool valid_cidr(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len > INET6_ADDRSTRLEN)
		return false;
	memcpy(addr, s, len);
	addr[len] = '\0';
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, buf) != 1)
		return false;
	if (!slash)
		return true;
	char *end;
	errno = 0;
	long bits = strtol(slash + 1, &end, 10);
	return slash[1] && !*end && !errno && bits >= 0 && bits <= (family == AF_INET ? 32 : 128);
}

static cft_code parse_cidrs(const origin *o, const char *value, char ***out, size_t *n,
			    cft_error *err)
{
	cft_code rc = parse_list(o, value, out, n, err);
	for (size_t i = 0; !rc && i < *n; i++)
		if (!valid_cidr((*out)[i]))
			rc = bad(o, err, "\"%.60s\" is not an IP address or CIDR range", (*out)[i]);
	return rc;
}

static cft_code parse_duration(const origin *o, const char *value, int64_t *out,
			       cft_error *err)
{
	if (cft_duration_parse(value, out) != 0)
		return bad(o, err, "\"%.40s\" is not a duration (30m, 8h, 7d ...)", value);
	return CFT_OK;
}

static cft_code set_string(char **field, const char *value, cft_error *err)
{
	char *v = strdup(value);
	if (!v)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	free(*field);
	*field = v;
	return CFT_OK;
}

static cft_code parse_account(const origin *o, const char *value, char **out, cft_error *err)
{
	if (!cft_is_id(value))
		return bad(o, err, "\"%.64s\" is not an account id (32 hexadecimal characters, "
			   "on the dashboard's account home)", value);
	return set_string(out, value, err);
}

static cft_code parse_bool(const origin *o, const char *value, bool *out, cft_error *err)
{
	if (!g_ascii_strcasecmp(value, "true") || !g_ascii_strcasecmp(value, "yes") ||
	    !strcmp(value, "1"))
		*out = true;
	else if (!g_ascii_strcasecmp(value, "false") || !g_ascii_strcasecmp(value, "no") ||
		 !strcmp(value, "0"))
		*out = false;
	else
		return bad(o, err, "\"%.20s\" is not true or false", value);
	return CFT_OK;
}

/* A proxy URL libcurl understands, with a host after the scheme. */
static bool valid_proxy(const char *v)
{
	static const char *const schemes[] = { "http://", "https://", "socks5h://", "socks5://",
					       "socks4a://", "socks4://" };
	if (strpbrk(v, " \t\r\n"))
		return false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(v, schemes[i], strlen(schemes[i])))
			return v[strlen(schemes[i])] != '\0' && v[strlen(schemes[i])] != '/';
	return false;
}

/* 0 turns the cache off; cft_duration_parse takes no zero. */
static cft_code parse_groups_ttl(cft_config *c, const origin *o, const char *v, cft_error *err)
{
	int64_t s = 0;
	if (strcmp(v, "0") != 0 && cft_duration_parse(v, &s) != 0)
		return bad(o, err, "\"%.40s\" is not a duration (0 for no cache, 3600, 12h, 1d ...)",
			   v);
	if (s > CFT_GROUPS_TTL_MAX_S)
		return bad(o, err, "at most 30 days: the API's permission groups change");
	c->groups_ttl_s = s;
	c->groups_ttl_set = true;
	return CFT_OK;
}

static cft_code defaults_key(cft_config *c, const origin *o, const char *v, cft_error *err)
{
	const char *k = o->key;
	if (!strcmp(k, "account"))
		return parse_account(o, v, &c->account_id, err);
	if (!strcmp(k, "profile"))
		return set_string(&c->default_profile, v, err);
	if (!strcmp(k, "api_url")) {
		if (strncmp(v, "https://", 8) != 0)
			return bad(o, err, "the API URL must start with https://");
		return set_string(&c->api_url, v, err);
	}
	if (!strcmp(k, "ca_file"))
		return set_string(&c->ca_file, v, err);
	if (!strcmp(k, "proxy")) {
		if (!valid_proxy(v))
			return bad(o, err, "\"%.100s\": a proxy URL, http://HOST:PORT (or "
				   "https://, socks5h://, socks5://, socks4a://, socks4://)", v);
		return set_string(&c->proxy, v, err);
	}
	if (!strcmp(k, "timeout")) {
		cft_code rc = parse_duration(o, v, &c->timeout_s, err);
		if (!rc && c->timeout_s > 600)
			return bad(o, err, "at most 10 minutes");
		return rc;
	}
	if (!strcmp(k, "ttl"))
		return parse_duration(o, v, &c->ttl_s, err);
	if (!strcmp(k, "renew_margin"))
		return parse_duration(o, v, &c->renew_margin_s, err);
	if (!strcmp(k, "request_ip_in"))
		return parse_cidrs(o, v, &c->ip_in, &c->n_ip_in, err);
	if (!strcmp(k, "request_ip_not_in"))
		return parse_cidrs(o, v, &c->ip_not_in, &c->n_ip_not_in, err);
	if (!strcmp(k, "name"))
		return set_string(&c->name_template, v, err);
	if (!strcmp(k, "cache")) {
		if (strcmp(v, "auto") && strcmp(v, "secret-service") && strcmp(v, "kernel") &&
		    strcmp(v, "none"))
			return bad(o, err, "\"%.30s\": use auto, secret-service, kernel or none", v);
		return set_string(&c->cache, v, err);
	}
	if (!strcmp(k, "parent_token_file"))
		return set_string(&c->parent_token_file, v, err);
	if (!strcmp(k, "revoke_on_erase"))
		return parse_bool(o, v, &c->revoke_on_erase, err);
	if ((!strcmp(k, "allow_token_minting") || !strcmp(k, "max_ttl")) && !o->may_lift)
		return bad(o, err, "only the system file and your own configuration file "
			   "($XDG_CONFIG_HOME/cftoken/config) may lift the ceiling on tokens, "
			   "not a file CFTOKEN_CONFIG names");
	if (!strcmp(k, "allow_token_minting"))
		return parse_bool(o, v, &c->allow_token_minting, err);
	if (!strcmp(k, "max_ttl"))
		return parse_duration(o, v, &c->max_ttl_s, err);
	if (!strcmp(k, "permission_groups_ttl"))
		return parse_groups_ttl(c, o, v, err);
	if (!strcmp(k, "run_dir")) {
		if (v[0] != '/')
			return bad(o, err, "an absolute path, please");
		return set_string(&c->run_dir, v, err);
	}
	return bad(o, err, "unknown key (known: account, profile, api_url, ca_file, proxy, timeout, "
		   "ttl, renew_margin, request_ip_in, request_ip_not_in, name, cache, "
		   "parent_token_file, revoke_on_erase, allow_token_minting, max_ttl, "
		   "permission_groups_ttl, run_dir)");
}

static cft_code section_key(cft_profile *p, const origin *o, const char *v, cft_error *err)
{
	const char *k = o->key;
	cft_code rc;
	if (!strcmp(k, "account"))
		return parse_account(o, v, &p->account_id, err);
	if (!strcmp(k, "preset") || !strcmp(k, "presets")) {
		rc = parse_list(o, v, &p->presets, &p->n_presets, err);
		for (size_t i = 0; !rc && i < p->n_presets; i++)
			if (!cft_preset_find(p->presets[i]))
				rc = bad(o, err, "unknown preset \"%.40s\" (known: %s)", p->presets[i],
					 cft_preset_names());
		return rc;
	}
	if (!strcmp(k, "permissions"))
		return parse_list(o, v, &p->permissions, &p->n_permissions, err);
	if (!strcmp(k, "zones")) {
		rc = parse_list(o, v, &p->zones, &p->n_zones, err);
		for (size_t i = 0; !rc && i < p->n_zones; i++)
			if (strcmp(p->zones[i], "*") && !cft_is_id(p->zones[i]) &&
			    !cft_is_zone_name(p->zones[i]))
				rc = bad(o, err, "\"%.64s\" is not a zone name (example.com), a zone id "
					 "(32 hexadecimal characters) or *", p->zones[i]);
		return rc;
	}
	if (!strcmp(k, "ttl"))
		return parse_duration(o, v, &p->ttl_s, err);
	if (!strcmp(k, "renew_margin"))
		return parse_duration(o, v, &p->renew_margin_s, err);
	if (!strcmp(k, "not_before"))
		return parse_duration(o, v, &p->not_before_s, err);
	if (!strcmp(k, "request_ip_in"))
		return parse_cidrs(o, v, &p->ip_in, &p->n_ip_in, err);
	if (!strcmp(k, "request_ip_not_in"))
		return parse_cidrs(o, v, &p->ip_not_in, &p->n_ip_not_in, err);
	if (!strcmp(k, "name"))
		return set_string(&p->name_template, v, err);
	if (!strcmp(k, "hosts"))
		return parse_list(o, v, &p->hosts, &p->n_hosts, err);
	if (!strcmp(k, "owner")) {
		if (strcmp(v, "account") && strcmp(v, "user"))
			return bad(o, err, "\"%.30s\": use account or user", v);
		return set_string(&p->owner, v, err);
	}
	if (!strcmp(k, "proxy"))
		return parse_bool(o, v, &p->proxy, err);
	return bad(o, err, "unknown key (known: account, preset, presets, permissions, zones, ttl, "
		   "renew_margin, not_before, request_ip_in, request_ip_not_in, name, hosts, owner, "
		   "proxy)");
}

/* Appends to c->sections (analyzer.h). */
CFT_ANALYZER_ARRAY_STORES_BEGIN
static cft_profile *section_for(cft_config *c, cft_section_kind kind, const char *name)
{
	cft_profile *found = (cft_profile *)cft_config_find(c, kind, name);
	if (found)
		return found;
	cft_profile *v = realloc(c->sections, (c->n_sections + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->sections = v;
	cft_profile *p = &c->sections[c->n_sections];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->name = strdup(name);
	if (!p->name)
		return NULL;
	c->n_sections++;
	return p;
}
CFT_ANALYZER_ARRAY_STORES_END

/* "[profile deploy]" -> kind and name. */
static bool split_group(const char *group, cft_section_kind *kind, const char **name)
{
	static const struct {
		const char *word;
		cft_section_kind kind;
	} kinds[] = {
		{ "profile ", CFT_SECTION_PROFILE },
		{ "user ", CFT_SECTION_USER },
		{ "group ", CFT_SECTION_GROUP },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].word);
		if (strncmp(group, kinds[i].word, n) == 0) {
			const char *rest = group + n;
			while (*rest == ' ')
				rest++;
			if (!*rest || strchr(rest, ' '))
				return false;
			*kind = kinds[i].kind;
			*name = rest;
			return true;
		}
	}
	return false;
}

static cft_code set_or_clear(char **field, const char *value, cft_error *err)
{
	if (value)
		return set_string(field, value, err);
	free(*field);
	*field = NULL;
	return CFT_OK;
}

/* parent_token_file goes to the API and CA of the file that names it. */
static cft_code bind_parent_file(cft_config *c, const char *path, bool names_api,
				 bool names_ca, cft_error *err)
{
	cft_code rc = set_string(&c->parent_config, path, err);
	if (!rc)
		rc = set_or_clear(&c->parent_api_url, names_api ? c->api_url : NULL, err);
	if (!rc)
		rc = set_or_clear(&c->parent_ca_file, names_ca ? c->ca_file : NULL, err);
	return rc;
}

static cft_code load_text(cft_config *c, const char *path, const char *text, bool may_lift,
			  cft_error *err)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;

	if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &gerr))
		/* GKeyFile's message carries the line. */
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: %s", path, gerr->message);
	cft_config_lines *lines = NULL;
	cft_code rc = cft_config_lines_scan(path, text, &lines, err);
	if (rc)
		return rc;
	gsize n_groups = 0;
	g_auto(GStrv) groups = g_key_file_get_groups(kf, &n_groups);
	/* The [defaults] keys this file sets, for parent_token_file's binding. */
	bool names_parent = false, names_api = false, names_ca = false;
	for (gsize g = 0; !rc && g < n_groups; g++) {
		origin o = { .path = path, .lines = lines, .group = groups[g], .may_lift = may_lift };
		cft_section_kind kind = CFT_SECTION_PROFILE;
		const char *name = NULL;
		bool is_defaults = strcmp(groups[g], "defaults") == 0;
		if (!is_defaults && !split_group(groups[g], &kind, &name)) {
			rc = bad(&o, err, "unknown section (use [defaults], [profile NAME], "
				 "[user NAME] or [group NAME])");
			break;
		}
		cft_profile *p = is_defaults ? NULL : section_for(c, kind, name);
		if (!is_defaults && !p) {
			rc = cft_fail(err, CFT_E_NOMEM, NULL);
			break;
		}
		gsize n_keys = 0;
		g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[g], &n_keys, NULL);
		for (gsize k = 0; !rc && k < n_keys; k++) {
			o.key = keys[k];
			g_autofree gchar *raw = g_key_file_get_value(kf, groups[g], keys[k], NULL);
			g_autofree char *value = cft_config_value_uncommented(raw ? raw : "");
			if (!*value)
				rc = bad(&o, err, "empty value");
			else if (is_defaults)
				rc = defaults_key(c, &o, value, err);
			else
				rc = section_key(p, &o, value, err);
			if (!rc && is_defaults) {
				names_parent |= !strcmp(keys[k], "parent_token_file");
				names_api |= !strcmp(keys[k], "api_url");
				names_ca |= !strcmp(keys[k], "ca_file");
			}
		}
	}
	cft_config_lines_free(lines);
	if (!rc && names_parent)
		rc = bind_parent_file(c, path, names_api, names_ca, err);
	return rc;
}

static cft_code load_file(cft_config *c, const char *path, bool may_lift, cft_error *err)
{
	char *text = NULL;
	size_t len = 0;

	/* Bounded and non-blocking: a FIFO, /dev/zero or a huge file is
	 * refused before anything is read. */
	cft_code rc = cft_file_read(AT_FDCWD, path, path, CONFIG_MAX_BYTES, 0, &text, &len, err);
	if (rc)
		return cft_absent_ok(rc, err);
	if (memchr(text, '\0', len))
		rc = cft_fail(err, CFT_E_INVALID_ARG, "%s: contains a NUL byte", path);
	else
		rc = load_text(c, path, text, may_lift, err);
	free(text);
	if (!rc && c->n_files < sizeof(c->files) / sizeof(c->files[0]))
		c->files[c->n_files++] = strdup(path);
	return rc;
}

/* Reads paths in order; no_lift (one of them, or NULL) may not set the
 * ceiling's keys. */
static cft_code load_paths(cft_config *cfg, const char *const *paths, size_t n,
			   const char *no_lift, cft_error *err)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < n; i++) {
		if (!paths[i])
			continue;
		cft_code rc = load_file(cfg, paths[i], paths[i] != no_lift, err);
		if (rc) {
			cft_config_clear(cfg);
			return rc;
		}
	}
	return CFT_OK;
}

cft_code cft_config_load_files(cft_config *cfg, const char *const *paths, size_t n,
			       cft_error *err)
{
	return load_paths(cfg, paths, n, NULL, err);
}

/* Whether the user file is one CFTOKEN_CONFIG names, not the user's own. */
static bool named_elsewhere(const char *user)
{
	char own[4096], a[PATH_MAX], b[PATH_MAX];
	const char *env = secure_getenv("CFTOKEN_CONFIG");
	if (!env || !*env || cft_user_config_home_path(own, sizeof(own)) != 0)
		return env && *env;
	if (realpath(user, a) && realpath(own, b))
		return strcmp(a, b) != 0;
	return strcmp(user, own) != 0;
}

cft_code cft_config_load(cft_config *cfg, cft_error *err)
{
	char user[4096];
	const char *paths[2] = { CFT_SYSTEM_CONFIG,
				 cft_user_config_path(user, sizeof(user)) == 0 ? user : NULL };
	static const char *const what[2] = { "system configuration file",
					     "user configuration file" };
	memset(cfg, 0, sizeof(*cfg));
	/* Both belong to root or to the user, and nobody else may write
	 * them or their directories: a file another user (or a shared
	 * directory) could change would choose hosts, permissions and the
	 * parent token.  CFTOKEN_CONFIG names the user file; it is checked
	 * the same.  An absent file is fine. */
	for (size_t i = 0; i < 2; i++) {
		cft_error why;
		cft_error_clear(&why);
		cft_code rc = paths[i] ? cft_check_trusted_file(paths[i], what[i], &why) : CFT_OK;
		if (rc == CFT_E_NOT_FOUND) {
			paths[i] = NULL;
		} else if (rc) {
			if (err)
				*err = why;
			return rc;
		}
	}
	return load_paths(cfg, paths, 2, paths[1] && named_elsewhere(paths[1]) ? paths[1] : NULL,
			  err);
}

const cft_profile *cft_config_find(const cft_config *cfg, cft_section_kind kind,
				   const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->n_sections; i++)
		if (cfg->sections[i].kind == kind && strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];
	return NULL;
}

static void profile_clear(cft_profile *p)
{
	free(p->owner);
	free(p->name);
	free(p->account_id);
	free_list(p->presets, p->n_presets);
	free_list(p->permissions, p->n_permissions);
	free_list(p->zones, p->n_zones);
	free_list(p->ip_in, p->n_ip_in);
	free_list(p->ip_not_in, p->n_ip_not_in);
	free(p->name_template);
	free_list(p->hosts, p->n_hosts);
}

void cft_config_clear(cft_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->account_id);
	free(cfg->default_profile);
	free(cfg->api_url);
	free(cfg->ca_file);
	free(cfg->proxy);
	free_list(cfg->ip_in, cfg->n_ip_in);
	free_list(cfg->ip_not_in, cfg->n_ip_not_in);
	free(cfg->name_template);
	free(cfg->cache);
	free(cfg->parent_token_file);
	free(cfg->parent_config);
	free(cfg->parent_api_url);
	free(cfg->parent_ca_file);
	free(cfg->run_dir);
	for (size_t i = 0; i < cfg->n_sections; i++)
		profile_clear(&cfg->sections[i]);
	free(cfg->sections);
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	memset(cfg, 0, sizeof(*cfg));
}
