/* Built-in presets a profile can name: least-privilege permission sets for
 * common jobs, by the names the API uses. */
#pragma once

#include <stddef.h>

typedef struct cft_preset {
	const char *name;
	const char *summary;
	const char *const *permissions;   /* NULL-terminated */
} cft_preset;

const cft_preset *cft_preset_find(const char *name);

/* "workers-deploy, r2-write, zone-read, tunnel", for messages. */
const char *cft_preset_names(void);
