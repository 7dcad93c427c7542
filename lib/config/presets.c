#include "config/presets.h"

#include <string.h>

/* The minimum to deploy Workers with KV and routes (wrangler deploy reads
 * the account, uploads the script, binds KV, and sets routes on zones). */
static const char *const workers_deploy[] = {
	"Workers Scripts Write", "Workers KV Storage Write", "Account Settings Read",
	"Workers Routes Write", "Zone Read", NULL,
};
static const char *const r2_write[] = {
	"Workers R2 Storage Write", "Account Settings Read", NULL,
};
static const char *const zone_read[] = {
	"Zone Read", "DNS Read", NULL,
};
/* cloudflared: create and run tunnels, and route DNS names to them. */
static const char *const tunnel[] = {
	"Cloudflare Tunnel Write", "DNS Write", "Zone Read", "Account Settings Read", NULL,
};

static const cft_preset presets[] = {
	{ "workers-deploy", "deploy Workers with KV and routes (wrangler deploy)", workers_deploy },
	{ "r2-write", "read and write R2 buckets", r2_write },
	{ "zone-read", "read zones and their DNS records", zone_read },
	{ "tunnel", "create and run Cloudflare Tunnels and route DNS to them", tunnel },
};

const cft_preset *cft_preset_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const char *cft_preset_names(void)
{
	return "workers-deploy, r2-write, zone-read, tunnel";
}
