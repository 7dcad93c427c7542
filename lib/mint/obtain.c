#include "mint/obtain.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "cache/cache.h"
#include "cache/l1.h"
#include "cache/secret_service.h"
#include "config/owner.h"
#include "config/profile.h"
#include "config/profile_spec.h"
#include "config/tokenspec.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "mint/orphans.h"
#include "mint/uncached.h"

/* Deletes what the failed create a note describes may have made, and
 * says so: "deleted N tokens " + which. */
static cft_code sweep_note(const cft_obtain *o, cft_client *client, const cft_orphan_note *note,
			   const char *which, cft_error *err)
{
	unsigned deleted = 0;
	cft_owner owner = note->user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(o->account_id);
	cft_code rc = cft_orphans_sweep(client, owner, note->name, note->since, NULL, &deleted,
					err);
	if (deleted)
		cft_log(CFT_LOG_NOTICE, "deleted %u token%s %s", deleted, deleted == 1 ? "" : "s",
			which);
	return rc;
}

/* After a create that may have made a token we never saw: delete it now,
 * or leave a note so that the next mint of the profile does.  True when
 * nothing can be left behind. */
static bool sweep_after_failed_create(const cft_obtain *o, cft_client *client,
				      const cft_orphan_note *note)
{
	cft_error err;
	cft_error_clear(&err);
	if (sweep_note(o, client, note, "the failed create made after all", &err) == CFT_OK)
		return true;
	if (o->note_orphan) {
		o->note_orphan(o->note_orphan_ctx, note);
		return false;
	}
	if (cft_orphans_remember(o->account_id, o->profile->name, o->api_url, note, &err) !=
	    CFT_OK) {
		char msg[1024];
		cft_error_format(&err, msg, sizeof(msg));
		cft_log(CFT_LOG_WARNING, "a token named \"%s\" may be left on the API: %s",
			note->name, msg);
	}
	return false;
}

static cft_code mint(const cft_obtain *o, cft_l1_record *out, cft_error *err)
{
	const cft_profile *p = o->profile;
	const cft_config *cfg = o->cfg;
	cft_profile_spec ps;
	cft_token info = { 0 };
	_cleanup_client_ cft_client *client = NULL;
	const cft_secret *parent = NULL;
	const char *names[1];
	size_t n_names;

	/* A profile without permissions fails before the parent is asked. */
	cft_code rc = cft_profile_permissions(p, names, 1, &n_names, err);
	if (!rc)
		rc = o->parent(o->parent_ctx, &parent, err);
	if (rc)
		return rc;
	cft_client_options copts = { .api_url = o->api_url, .ca_file = o->ca_file,
				     .proxy = o->cfg ? o->cfg->proxy : NULL,
				     .timeout_ms = o->timeout_ms };
	rc = cft_client_new(&copts, parent, &client, err);
	time_t now = time(NULL);
	int64_t ttl = cft_profile_ttl(cfg, p), margin = cft_profile_renew_margin(cfg, p);
	if (o->max_ttl > 0 && ttl > o->max_ttl)
		ttl = o->max_ttl;
	if (o->min_ttl > 0 && ttl < o->min_ttl + margin && !o->ttl_is_ceiling)
		ttl = o->min_ttl + margin;
	if (!rc)
		rc = cft_profile_spec_build(client, cfg, p, o->account_id, now, ttl, o->groups,
					    &ps, err);
	if (rc)
		return rc;
	if (o->token_name)
		snprintf(ps.name, sizeof(ps.name), "%s", o->token_name);  /* built.spec points here */
	cft_owner owner = cft_profile_spec_owner(&ps, o->account_id);
	if (ps.user_owned)
		cft_log(CFT_LOG_NOTICE, "profile %s gets a user-owned token: %s", p->name,
			ps.owner_why);
	cft_orphan_note note = { .since = time(NULL), .user_owned = ps.user_owned };
	snprintf(note.name, sizeof(note.name), "%s", ps.built.spec.name);
	rc = cft_token_create(client, owner, &ps.built.spec, &info, &out->token, err);
	if (rc && cft_create_may_have_happened(rc)) {
		/* Once more after a 5xx, when the sweep shows nothing is left
		 * behind: the API may have acted, and a blip should not cost
		 * a login its token. */
		if (sweep_after_failed_create(o, client, &note) && rc == CFT_E_SERVER) {
			cft_error again;
			cft_error_clear(&again);
			rc = cft_token_create(client, owner, &ps.built.spec, &info, &out->token,
					      &again);
			if (rc && cft_create_may_have_happened(rc))
				sweep_after_failed_create(o, client, &note);
			if (err)
				*err = again;
		}
	}
	time_t wished_expiry = ps.built.spec.expires_on;
	cft_profile_spec_clear(&ps);
	if (rc)
		return rc;
	snprintf(out->id, sizeof(out->id), "%s", info.id);
	snprintf(out->account, sizeof(out->account), "%s", o->account_id);
	snprintf(out->profile, sizeof(out->profile), "%s", p->name);
	out->expires = info.expires_on ? info.expires_on : wished_expiry;
	out->renew_at = out->expires - margin > now ? out->expires - margin : now;
	cft_token_clear(&info);
	return CFT_OK;
}

/* Deletes a token on the API: the one a renewal replaced, or a new one
 * that could not be cached.  Failing is worth a word, not a failed
 * request. */
static cft_code parent_client(const cft_obtain *o, cft_client **c, cft_error *err)
{
	cft_client_options copts = { .api_url = o->api_url, .ca_file = o->ca_file,
				     .proxy = o->cfg ? o->cfg->proxy : NULL,
				     .timeout_ms = o->timeout_ms };
	const cft_secret *parent = NULL;
	cft_code rc = o->parent(o->parent_ctx, &parent, err);
	return rc ? rc : cft_client_new(&copts, parent, c, err);
}

static const char *name_template(const cft_obtain *o)
{
	return o->profile->name_template ? o->profile->name_template : o->cfg->name_template;
}

/* from_cache: the id came from a cache (the token a renewal replaces),
 * which the user's own code can write: deleted only if it is ours.
 * True when the token is gone from the API (deleted now, or before). */
static bool delete_on_api(const cft_obtain *o, const char *id, bool from_cache)
{
	cft_client *c = NULL;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = parent_client(o, &c, &err);
	if (!rc) {
		cft_owner owner = cft_profile_token_owner(o->profile, o->account_id);
		rc = from_cache ? cft_token_delete_if_ours(c, owner, id, name_template(o),
							   o->profile->name, &err)
				: cft_token_delete(c, owner, id, &err);
	}
	cft_client_free(c);
	if (rc && rc != CFT_E_NOT_FOUND) {
		char msg[1024];
		cft_error_format(&err, msg, sizeof(msg));
		cft_log(CFT_LOG_WARNING, "token %s was not deleted on the API: %s", id, msg);
		return false;
	}
	return true;
}

/* The owner of the profile's tokens, as the ledger of uncached ones
 * records it. */
static bool user_owned(const cft_obtain *o)
{
	cft_owner owner = cft_profile_token_owner(o->profile, o->account_id);
	return owner.account_id == NULL;
}

/* One token the ledger says has expired.  The ledger is a file the
 * user's programs can write, so the API's own word decides: a token it
 * holds as expired is deleted, one it does not is put back with the
 * API's expiry (or, without any, forgotten: not one of ours).  A failure
 * puts it back as it was, for the next time. */
static void delete_if_expired(const cft_obtain *o, cft_client *c, const cft_uncached *due,
			      time_t now)
{
	cft_owner owner = due->user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(o->account_id);
	cft_uncached later = *due;
	cft_token t = { 0 };
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = c ? cft_token_get(c, owner, due->id, &t, &err) : CFT_E_NO_PARENT;
	bool put_back = rc && rc != CFT_E_NOT_FOUND;
	if (!rc && t.expires_on > now) {
		later.expires = t.expires_on;  /* not yet, by the API's clock */
		put_back = true;
	} else if (!rc && t.expires_on) {
		rc = cft_token_delete(c, owner, due->id, &err);
		put_back = rc && rc != CFT_E_NOT_FOUND;
	}
	cft_token_clear(&t);
	if (put_back)
		cft_uncached_note(o->account_id, o->profile->name, &later, NULL);
}

/* Uncached tokens of this profile whose expiry has passed: deleted before
 * the next mint, so that they never fill the account's cap. */
static void sweep_expired_uncached(const cft_obtain *o)
{
	cft_uncached due[CFT_UNCACHED_TAKE_MAX];
	size_t n = 0;
	cft_client *c = NULL;
	cft_error err;
	cft_error_clear(&err);
	time_t now = time(NULL);
	if (cft_uncached_take_due(o->account_id, o->profile->name, now, due,
				  CFT_UNCACHED_TAKE_MAX, &n, &err) != CFT_OK || n == 0)
		return;
	if (parent_client(o, &c, &err) != CFT_OK)
		c = cft_client_free(c);
	for (size_t i = 0; i < n; i++)
		delete_if_expired(o, c, &due[i], now);
	cft_client_free(c);
}

/* cache = none: the ledger keeps the token's id and expiry instead of a
 * cache keeping the token.  A token the ledger cannot record would never
 * be deleted: it is taken back. */
static cft_code mint_uncached(const cft_obtain *o, cft_l1_record *out, cft_error *err)
{
	sweep_expired_uncached(o);
	cft_code rc = mint(o, out, err);
	if (rc)
		return rc;
	cft_uncached t = { .expires = out->expires, .user_owned = user_owned(o) };
	snprintf(t.id, sizeof(t.id), "%s", out->id);
	rc = cft_uncached_note(o->account_id, o->profile->name, &t, err);
	if (rc) {
		char msg[1024];
		cft_error_format(err, msg, sizeof(msg));
		delete_on_api(o, out->id, false);
		cft_l1_record_clear(out);
		cft_error_clear(err);
		return cft_fail(err, CFT_E_INTERNAL, "the new token could not be recorded for its "
				"deletion (%.400s), so it was deleted again", msg);
	}
	return CFT_OK;
}

cft_code cft_obtain_delete_uncached(const cft_obtain *o, const char *id, cft_error *err)
{
	cft_client *c = NULL;
	cft_owner owner = cft_profile_token_owner(o->profile, o->account_id);
	cft_code rc = parent_client(o, &c, err);
	if (!rc)
		rc = cft_token_delete(c, owner, id, err);
	cft_client_free(c);
	if (rc == CFT_E_NOT_FOUND) {
		cft_error_clear(err);
		rc = CFT_OK;
	}
	/* Deleted: the ledger need not remember it (if striking it off
	 * fails, a later sweep finds the API no longer knows it). */
	if (!rc)
		cft_uncached_forget(o->account_id, o->profile->name, id, NULL);
	return rc;
}

/* What earlier failed creates of this profile may have left: swept before
 * the next mint, under the same lock.  Only the user's own notes for the
 * user's own parent: under an admin's parent, root sweeps its own. */
static void sweep_noted_orphans(const cft_obtain *o)
{
	if (o->note_orphan)
		return;
	cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX];
	size_t n = 0;
	cft_client *c = NULL;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = cft_orphans_recall(o->account_id, o->profile->name, o->api_url, notes, &n,
					 &err);
	if (rc != CFT_OK || n == 0 || parent_client(o, &c, &err) != CFT_OK) {
		cft_client_free(c);
		return;
	}
	bool all = true;
	for (size_t i = 0; i < n && all; i++) {
		/* A note names what to delete: only names of cftoken's form
		 * for this profile, whatever else the file says. */
		if (!cft_token_name_matches(name_template(o), o->profile->name, notes[i].name))
			continue;
		all = sweep_note(o, c, &notes[i], "an earlier failed create left behind", &err) ==
		      CFT_OK;
	}
	if (all)
		cft_orphans_forget(o->account_id, o->profile->name);
	cft_client_free(c);
}

static bool usable(const cft_obtain *o, const cft_l1_record *r, time_t now)
{
	return cft_l1_fresh(r, now, o->min_ttl) &&
	       !(o->refused_id && strcmp(o->refused_id, r->id) == 0);
}

/* L2 when L1 missed: a hit refills L1.  A locked collection is an error of
 * its own, never a miss: minting because a keyring is locked would pile up
 * tokens on every call. */
static cft_code look_in_l2(const cft_obtain *o, cft_l1_record *out, char old_id[33],
			   cft_error *err)
{
	cft_l1_record found = { 0 };
	cft_code rc = cft_cache_lookup(cft_l2_cache(o->l2), CFT_CACHE_L2, o->account_id,
				       o->profile->name, o->api_url, &found, err);
	if (rc == CFT_E_L2_LOCKED)
		return rc;
	if (rc != CFT_OK)
		return CFT_E_NOT_FOUND;
	if (!usable(o, &found, time(NULL))) {
		/* cftoken deletes only what it minted, never an adopted token. */
		if (!old_id[0] && !found.adopted)
			snprintf(old_id, 33, "%s", found.id);
		cft_l1_record_clear(&found);
		return CFT_E_NOT_FOUND;
	}
	cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->route_fp, &found, o->api_url, NULL);
	*out = found;
	return CFT_OK;
}

/* A renewal that failed for a reason of the moment (rc) leaves the due
 * token, still valid, in use (lib/mint/due.c). */
static bool serve_due(const cft_obtain *o, cft_code rc, const cft_error *err, cft_l1_record *out,
		      cft_obtain_source *source)
{
	if (!cft_renewal_may_wait(rc) || cft_obtain_due_token(o, err, out) != CFT_OK)
		return false;
	*source = CFT_FROM_KERNEL_KEYRING;
	return true;
}

cft_code cft_obtain_token(const cft_obtain *o, cft_l1_record *out, cft_obtain_source *source,
			  char old_id[33], cft_error *err)
{
	cft_l1_record cached = { 0 };
	int lock = -1;
	bool mint_failed = false;

	old_id[0] = '\0';
	*source = CFT_MINTED;
	if (!cft_profile_name_valid(o->profile->name))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"profile name \"%.64s\": use letters, digits, '.', '_' and '-'",
				o->profile->name);
	if (o->no_cache)
		return o->track_uncached ? mint_uncached(o, out, err) : mint(o, out, err);
	/* The lock waits at most as long as one mint may take. */
	int64_t deadline = cft_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 8000) * 2;
	cft_code rc = cft_lock_acquire(o->account_id, o->profile->name, deadline, &lock, err);
	if (rc)
		return serve_due(o, rc, err, out, source) ? CFT_OK : rc;
	/* Look again under the lock: another process may have minted. */
	if (cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->account_id, o->profile->name,
			     o->api_url, &cached, NULL) == CFT_OK) {
		if (usable(o, &cached, time(NULL))) {
			if (o->route_fp)
				cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->route_fp,
						&cached, o->api_url, NULL);
			*out = cached;
			*source = CFT_FROM_KERNEL_KEYRING;
			goto unlock;
		}
		if (!cached.adopted)
			snprintf(old_id, 33, "%s", cached.id);
		cft_l1_record_clear(&cached);
	}
	if (o->l2) {
		rc = look_in_l2(o, out, old_id, err);
		if (rc != CFT_E_NOT_FOUND) {
			if (rc == CFT_OK)
				*source = CFT_FROM_SECRET_SERVICE;
			old_id[0] = '\0';  /* no mint: nothing replaced, nothing deleted */
			goto unlock;
		}
	}
	/* The token key may have timed out with its token before anyone
	 * renewed it: the last id tells which token this mint replaces. */
	if (!old_id[0])
		cft_l1_last_id(o->account_id, o->profile->name, o->api_url, old_id, NULL);
	sweep_noted_orphans(o);
	rc = mint(o, out, err);
	if (rc) {
		mint_failed = true;
		goto unlock;
	}
	cft_l1_store_last_id(out, o->api_url, NULL);
	rc = cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->route_fp, out, o->api_url, err);
	if (rc) {
		/* A token we cannot cache would be minted again on every call
		 * and fill the account: take it back. */
		char msg[1024];
		cft_error_format(err, msg, sizeof(msg));
		delete_on_api(o, out->id, false);
		cft_l1_record_clear(out);
		cft_error_clear(err);
		rc = cft_fail(err, CFT_E_INTERNAL, "the new token could not be cached (%.400s), "
			      "so it was deleted again", msg);
		goto unlock;
	}
	if (o->l2) {
		/* L1 holds it; a Secret Service that fails now costs durability,
		 * not this request. */
		cft_error l2err;
		cft_error_clear(&l2err);
		if (cft_cache_store(cft_l2_cache(o->l2), CFT_CACHE_L2, NULL, out, o->api_url,
				    &l2err) != CFT_OK)
			cft_log(CFT_LOG_WARNING, "the token is cached in the kernel keyring only: %s",
				l2err.detail);
	}
unlock:
	/* The one release of the lock, before a due token is served or the
	 * replaced token is deleted on the API: neither needs it held. */
	cft_lock_release(lock);
	if (mint_failed) {
		if (!serve_due(o, rc, err, out, source))
			return rc;
		old_id[0] = '\0';  /* still in use: delete nothing */
		return CFT_OK;
	}
	/* A token found in a cache replaced nothing. */
	if (rc || *source != CFT_MINTED)
		return rc;
	/* old_id stays set only when what the caller is told holds: it was
	 * deleted, or (keep_replaced) it is the caller's to delete. */
	bool replaced = old_id[0] && strcmp(old_id, out->id) != 0;
	if (replaced && !o->keep_replaced)
		replaced = delete_on_api(o, old_id, true);
	if (!replaced)
		old_id[0] = '\0';
	return CFT_OK;
}
