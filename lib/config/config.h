/* Configuration: INI files read with GLib's GKeyFile.
 *
 *   system   /etc/cftoken/cftoken.conf
 *   user     $CFTOKEN_CONFIG, else $XDG_CONFIG_HOME/cftoken/config
 *            (~/.config/cftoken/config)
 *
 * The system file is read first, then the user file; a key the user file
 * sets wins over the same key in the same section of the system file.
 * Sections: [defaults], [profile NAME], [user NAME], [group NAME].  A '#'
 * at the start of a line, or after white space in a value, starts a
 * comment.  Every error names the file, the line and the key. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum cft_section_kind {
	CFT_SECTION_PROFILE,
	CFT_SECTION_USER,
	CFT_SECTION_GROUP,
} cft_section_kind;

/* The most items of one list a file may give (presets, permissions, zones,
 * request_ip_in, request_ip_not_in, hosts): cftoken.conf(5) says so. */
#define CFT_CONFIG_LIST_MAX 64

/* A profile, or a [user]/[group] policy: what one token is made of.  Fields
 * left unset (NULL / 0 / n == 0) fall back to [defaults]. */
typedef struct cft_profile {
	cft_section_kind kind;
	char *name;
	char *account_id;
	char **presets;              /* preset names, in order */
	size_t n_presets;
	char **permissions;          /* group names as written */
	size_t n_permissions;
	char **zones;                /* zone names or ids, or "*" */
	size_t n_zones;
	char **ip_in;
	size_t n_ip_in;
	char **ip_not_in;
	size_t n_ip_not_in;
	int64_t ttl_s;
	int64_t renew_margin_s;
	int64_t not_before_s;
	char *name_template;
	char **hosts;                /* git credential hosts (and host/path) it serves */
	char *owner;                 /* account, user, or NULL (decided by its permissions) */
	size_t n_hosts;
	bool proxy;                  /* exec runs as exec --proxy (not [defaults]' proxy URL) */
} cft_profile;

typedef struct cft_config {
	/* [defaults] */
	char *account_id;
	char *default_profile;
	char *api_url;
	char *ca_file;
	char *proxy;                 /* every API call goes through it; NULL: none */
	int64_t timeout_s;
	int64_t ttl_s;
	int64_t renew_margin_s;
	char **ip_in;
	size_t n_ip_in;
	char **ip_not_in;
	size_t n_ip_not_in;
	char *name_template;
	char *cache;                 /* auto, secret-service, kernel, none */
	char *parent_token_file;
	/* What parent_token_file is bound to: the file that names it, and the
	 * api_url and ca_file that same file sets (NULL: it sets none, so the
	 * default API and the system's CAs).  The parent goes nowhere else. */
	char *parent_config;
	char *parent_api_url;
	char *parent_ca_file;
	char *run_dir;               /* pam_cftoken's session records */
	bool revoke_on_erase;
	/* The ceiling on tokens minted from a parent (profile_spec.h): no
	 * group that creates tokens unless allowed, no life past max_ttl_s
	 * (0: CFT_DEFAULT_MAX_TTL_S).  Only the system file and the user's own
	 * file may lift it, never a file CFTOKEN_CONFIG names elsewhere. */
	bool allow_token_minting;
	int64_t max_ttl_s;
	/* How long the permission groups mints resolved are kept
	 * (group_cache.h); 0: not at all.  Unset: a day. */
	int64_t groups_ttl_s;
	bool groups_ttl_set;

	cft_profile *sections;
	size_t n_sections;

	char *files[2];              /* the files that were read, for messages */
	size_t n_files;
} cft_config;

#define CFT_DEFAULT_TTL_S (8 * 3600)
#define CFT_DEFAULT_RENEW_MARGIN_S (15 * 60)
#define CFT_DEFAULT_MAX_TTL_S (7 * 86400)
#define CFT_GROUPS_TTL_MAX_S (30 * 86400)
#define CFT_SYSTEM_CONFIG CFTOKEN_SYSCONFDIR "/cftoken/cftoken.conf"
#define CFT_DEFAULT_RUN_DIR "/run/cftoken"

/* Reads the system file and the user file (each may be absent).  A missing
 * file is fine; an unreadable or invalid one is an error naming it. */
cft_code cft_config_load(cft_config *cfg, cft_error *err);

/* Reads exactly the files given (NULL entries skipped), in order. */
cft_code cft_config_load_files(cft_config *cfg, const char *const *paths, size_t n,
			       cft_error *err);

void cft_config_clear(cft_config *cfg);

/* The section of this kind and name, or NULL. */
const cft_profile *cft_config_find(const cft_config *cfg, cft_section_kind kind,
				   const char *name);

