#include "root_orphans.h"

#include <stdio.h>
#include <string.h>

#include "session_records.h"

cft_code root_orphans_load(root_orphans *r, const char *run_dir, uid_t uid, const char *api_url,
			   cft_error *err)
{
	memset(r, 0, sizeof(*r));
	r->api_url = api_url;
	cft_code rc = root_record_path(run_dir, "orphans", uid, r->path, sizeof(r->path), err);
	if (!rc)
		rc = cft_orphans_read(r->path, r->api_url, r->notes, &r->n, err);
	r->loaded = rc == CFT_OK;
	return rc;
}

cft_code root_orphans_sweep(root_orphans *r, cft_client *c, const char *account,
			    const char *const *keep, unsigned *deleted, cft_error *err)
{
	size_t kept = 0;
	cft_code first = CFT_OK;
	*deleted = 0;
	for (size_t i = 0; i < r->n; i++) {
		const cft_orphan_note *note = &r->notes[i];
		cft_owner owner = note->user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(account);
		unsigned n = 0;
		cft_code rc = cft_orphans_sweep(c, owner, note->name, note->since, keep, &n, err);
		*deleted += n;
		if (rc) {
			/* Kept for the next job; the first reason is the one told. */
			if (!first)
				first = rc;
			r->notes[kept++] = *note;
		}
	}
	r->n = kept;
	r->in_flight = false;  /* kept or not, no longer this job's own */
	cft_code rc = cft_orphans_write(r->path, r->api_url, r->notes, r->n, first ? NULL : err);
	return first ? first : rc;
}

cft_code root_orphans_begin(root_orphans *r, const cft_orphan_note *note, cft_error *err)
{
	if (!r->loaded)
		return cft_fail(err, CFT_E_INTERNAL, "root's notes were not read");
	if (r->n == CFT_ORPHAN_NOTES_MAX) {
		/* The oldest goes: sixteen creates in a row that never
		 * answered say the API, not a note, needs attention. */
		memmove(r->notes, r->notes + 1, (r->n - 1) * sizeof(r->notes[0]));
		r->n--;
	}
	r->notes[r->n++] = *note;
	r->in_flight = true;
	/* Written (and synced) before the user's part may send the create. */
	return cft_orphans_write(r->path, r->api_url, r->notes, r->n, err);
}

cft_code root_orphans_settle(root_orphans *r, cft_error *err)
{
	if (!r->in_flight)
		return CFT_OK;
	r->in_flight = false;
	r->n--;
	return cft_orphans_write(r->path, r->api_url, r->notes, r->n, err);
}
