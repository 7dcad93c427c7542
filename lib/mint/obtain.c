#include "mint/obtain.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The client every request of this obtain goes over (o->client, the
 * process's, or the caller's slot): one TLS handshake serves the sweep,
 * the create and the deletions.  Made on first need, with the parent. */
static cft_code connect_api(const cft_obtain *o, cft_client **slot, cft_error *err)
{
	if (*slot)
		return CFT_OK;
	cft_client_options copts = { .api_url = o->api_url, .ca_file = o->ca_file,
				     .proxy = o->cfg ? o->cfg->proxy : NULL,
				     .timeout_ms = o->timeout_ms };
	const cft_secret *parent = NULL;
	cft_code rc = o->parent(o->parent_ctx, &parent, err);
	return rc ? rc : cft_client_new(&copts, parent, slot, err);
}

/* The slot a public call uses: the process's client when the caller
 * keeps one, else one of the call's own (freed at its end). */
static cft_client **slot_of(const cft_obtain *o, cft_client **own)
{
	return o->client ? o->client : own;
}

static const char *name_template(const cft_obtain *o)
{
	return o->profile->name_template ? o->profile->name_template : o->cfg->name_template;
}

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

/* The owner of the profile's tokens, as the ledger records it. */
static bool user_owned(const cft_obtain *o)
{
	cft_owner owner = cft_profile_token_owner(o->profile, o->account_id);
	return owner.account_id == NULL;
}

/* Whether the tokens the ledger lists are this caller's to delete: the
 * ledger is the user's to edit, so never with the admin's parent (whose
 * caller, keep_replaced, deletes by root's own records). */
static bool ledger_is_ours(const cft_obtain *o)
{
	return !o->keep_replaced && !o->note_orphan;
}

/* A token back into the ledger it was taken from. */
static void return_to_ledger(const cft_obtain *o, const cft_uncached *t)
{
	if (o->ledger)
		cft_uncached_note_at(o->ledger, t, NULL);
	else
		cft_uncached_note(o->account_id, o->profile->name, t, NULL);
}

/* One token off the ledger.  The ledger is a file the user's programs can
 * write, so the API's own word decides: a token of cftoken's form for
 * this profile is deleted once the API holds it expired (or at once with
 * early, when the account's cap is reached); one that is not expired yet
 * is put back with the API's expiry; one that is not ours, or that the
 * API does not know, is forgotten.  A failure puts it back as it was, for
 * the next time.  True when it was deleted now. */
static bool settle_ledger_entry(const cft_obtain *o, cft_client *c, const cft_uncached *due,
				time_t now, bool early)
{
	cft_owner owner = due->user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(o->account_id);
	cft_uncached later = *due;
	cft_token t = { 0 };
	cft_error err;
	bool deleted = false;
	cft_error_clear(&err);
	cft_code rc = c ? cft_token_get(c, owner, due->id, &t, &err) : CFT_E_NO_PARENT;
	bool put_back = rc && rc != CFT_E_NOT_FOUND;
	bool ours = !rc && t.name && cft_token_name_matches_for(name_template(o), o->profile->name,
								 o->ledger_user, t.name);
	if (!rc && !ours)
		cft_log(CFT_LOG_WARNING, "token %.40s is named \"%.200s\", not as cftoken names the "
			"tokens of profile %.64s: it was not deleted", due->id, t.name ? t.name : "",
			o->profile->name);
	if (ours && t.expires_on > now && !early) {
		later.expires = t.expires_on;  /* not yet, by the API's clock */
		put_back = true;
	} else if (ours && t.expires_on) {
		rc = cft_token_delete(c, owner, due->id, &err);
		deleted = !rc;
		put_back = rc && rc != CFT_E_NOT_FOUND;
	}
	cft_token_clear(&t);
	if (put_back)
		return_to_ledger(o, &later);
	return deleted;
}

/* Settles up to CFT_UNCACHED_TAKE_MAX ledger entries whose expiry is at
 * or before until; returns how many tokens were deleted.  deadline_ms: for
 * all of it (0: the caller's deadline holds). */
static unsigned settle_ledger(const cft_obtain *o, cft_client **slot, time_t until, bool early,
			      int64_t deadline_ms)
{
	cft_uncached due[CFT_UNCACHED_TAKE_MAX];
	size_t n = 0;
	unsigned deleted = 0;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = !ledger_is_ours(o) ? CFT_E_INVALID_ARG
		      : o->ledger ? cft_uncached_take_due_at(o->ledger, until, due,
							     CFT_UNCACHED_TAKE_MAX, &n, &err)
				  : cft_uncached_take_due(o->account_id, o->profile->name, until, due,
							  CFT_UNCACHED_TAKE_MAX, &n, &err);
	if (rc != CFT_OK || n == 0)
		return 0;
	cft_client *c = connect_api(o, slot, &err) == CFT_OK ? *slot : NULL;
	if (deadline_ms)
		cft_client_set_deadline(c, deadline_ms);
	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++)
		deleted += settle_ledger_entry(o, c, &due[i], now, early);
	if (deadline_ms)
		cft_client_set_deadline(c, 0);
	return deleted;
}

/* The profile's expired tokens, found by listing the owner's tokens:
 * the ones a ledger no longer names (the runtime directory that holds it
 * is emptied at reboot), which the cap counts until they are deleted.
 * Only those the API calls expired, so a mistaken name costs nobody a
 * working token, and only those named as cftoken names this profile's
 * tokens for this user.  Returns how many were deleted. */
static unsigned delete_expired_leftovers(const cft_obtain *o, cft_client *c, cft_owner owner)
{
	cft_token_list list;
	cft_error err;
	cft_error_clear(&err);
	if (cft_token_list_all(c, owner, &list, &err) != CFT_OK)
		return 0;
	unsigned deleted = 0;
	for (size_t i = 0; i < list.n; i++) {
		const cft_token *t = &list.items[i];
		if (!t->status || strcmp(t->status, "expired") != 0 || !t->name ||
		    !cft_token_name_matches_for(name_template(o), o->profile->name, o->ledger_user,
						t->name))
			continue;
		cft_code rc = cft_token_delete(c, owner, t->id, &err);
		if (rc == CFT_OK)
			deleted++;
		else if (rc == CFT_E_TIMEOUT)
			break;  /* the mint's deadline: the rest waits for the next cap */
	}
	cft_token_list_clear(&list);
	return deleted;
}

/* The account holds as many tokens as Cloudflare allows: the tokens this
 * profile replaced that still live out their expiry are all deleted early,
 * so that cftoken's own leftovers never cost a mint.  When its ledger
 * names none, its expired tokens are looked for in the owner's list.  True
 * when room was made. */
static bool make_room(const cft_obtain *o, cft_client **slot, cft_owner owner)
{
	/* All of them, a few at a time, while the deadline lets each round
	 * delete something (a round that deletes nothing ends it). */
	unsigned deleted = 0;
	for (unsigned round; (round = settle_ledger(o, slot, (time_t)LLONG_MAX, true, 0)) > 0;)
		deleted += round;
	if (deleted) {
		cft_log(CFT_LOG_NOTICE, "the account's token cap is reached: deleted %u token%s "
			"that profile %s replaced before %s expired", deleted,
			deleted == 1 ? "" : "s", o->profile->name, deleted == 1 ? "it" : "they");
		return true;
	}
	deleted = delete_expired_leftovers(o, *slot, owner);
	if (deleted)
		cft_log(CFT_LOG_NOTICE, "the account's token cap is reached: deleted %u expired "
			"token%s of profile %s that no ledger named", deleted,
			deleted == 1 ? "" : "s", o->profile->name);
	return deleted > 0;
}

/* The create, retried after a 5xx as often as the deadline allows: each
 * retry only once the sweep shows the failed attempt left nothing behind,
 * and after a pause with jitter (a blip of two 503s must not cost a login
 * its token).  At the cap, room is made once. */
static cft_code create_with_retries(const cft_obtain *o, cft_client **slot, cft_owner owner,
				    const cft_token_spec *spec, const cft_orphan_note *note,
				    cft_token *info, cft_secret **value, cft_error *err)
{
	long budget = o->timeout_ms > 0 ? o->timeout_ms : CFT_DEFAULT_TIMEOUT_MS;
	int64_t deadline = cft_now_ms() + budget;
	unsigned seed = (unsigned)cft_now_ms() ^ (unsigned)getpid();
	bool made_room = false;
	cft_code rc;
	cft_client_set_deadline(*slot, deadline);
	for (unsigned attempt = 1;; attempt++) {
		int64_t started = cft_now_ms();
		rc = cft_token_create(*slot, owner, spec, info, value, err);
		if (rc == CFT_E_QUOTA && !made_room) {
			made_room = true;
			if (make_room(o, slot, owner)) {
				cft_error_clear(err);
				continue;
			}
		}
		if (!rc || !cft_create_may_have_happened(rc))
			break;
		if (!sweep_after_failed_create(o, *slot, note) || rc != CFT_E_SERVER)
			break;
		/* Another attempt only when one as long as this one (the create
		 * and the sweep after it) fits before the deadline: an attempt
		 * the deadline cuts short leaves its token to a note instead of
		 * this sweep, on a slow machine more than on a fast one. */
		int64_t pause = cft_backoff_ms(attempt, &seed);
		int64_t now = cft_now_ms();
		if (now + pause + (now - started) >= deadline)
			break;
		cft_log(CFT_LOG_DEBUG, "the create failed (%s): trying again in %lld ms",
			err ? err->detail : "a 5xx", (long long)pause);
		cft_sleep_ms(pause);
		if (err)
			cft_error_clear(err);
	}
	cft_client_set_deadline(*slot, 0);
	return rc;
}

static cft_code mint(const cft_obtain *o, cft_client **slot, cft_l1_record *out, cft_error *err)
{
	const cft_profile *p = o->profile;
	const cft_config *cfg = o->cfg;
	cft_profile_spec ps;
	cft_token info = { 0 };
	const char *names[1];
	size_t n_names;

	/* A profile without permissions fails before the parent is asked. */
	cft_code rc = cft_profile_permissions(p, names, 1, &n_names, err);
	if (!rc)
		rc = connect_api(o, slot, err);
	time_t now = time(NULL);
	int64_t ttl = cft_profile_ttl(cfg, p), margin = cft_profile_renew_margin(cfg, p);
	if (o->max_ttl > 0 && ttl > o->max_ttl)
		ttl = o->max_ttl;
	if (o->min_ttl > 0 && ttl < o->min_ttl + margin && !o->ttl_is_ceiling)
		ttl = o->min_ttl + margin;
	if (!rc)
		rc = cft_profile_spec_build(*slot, cfg, p, o->account_id, now, ttl, o->groups,
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
	rc = create_with_retries(o, slot, owner, &ps.built.spec, &note, &info, &out->token, err);
	time_t wished_expiry = ps.built.spec.expires_on;
	cft_profile_spec_clear(&ps);
	if (rc)
		return rc;
	snprintf(out->id, sizeof(out->id), "%s", info.id);
	snprintf(out->account, sizeof(out->account), "%s", o->account_id);
	snprintf(out->profile, sizeof(out->profile), "%s", p->name);
	out->expires = info.expires_on ? info.expires_on : wished_expiry;
	out->renew_at = out->expires - margin > now ? out->expires - margin : now;
	cft_profile_grant(cfg, p, out->grant);
	cft_token_clear(&info);
	return CFT_OK;
}

/* Deletes a token on the API at once: a new one that could not be cached
 * or recorded, or a replaced one the ledger could not take.  from_cache:
 * the id came from a cache, which the user's own code can write: deleted
 * only if it is ours.  Failing is worth a word, not a failed request.
 * True when the token is gone from the API (deleted now, or before). */
static bool delete_on_api(const cft_obtain *o, cft_client **slot, const char *id,
			  bool from_cache)
{
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = connect_api(o, slot, &err);
	if (!rc) {
		cft_owner owner = cft_profile_token_owner(o->profile, o->account_id);
		rc = from_cache ? cft_token_delete_if_ours(*slot, owner, id, name_template(o),
							   o->profile->name, &err)
				: cft_token_delete(*slot, owner, id, &err);
	}
	if (rc && rc != CFT_E_NOT_FOUND) {
		char msg[1024];
		cft_error_format(&err, msg, sizeof(msg));
		cft_log(CFT_LOG_WARNING, "token %s was not deleted on the API: %s", id, msg);
		return false;
	}
	return true;
}

/* A new token that could not be kept (err says why: it could not be
 * `what`) is deleted again, and the mint fails with both reasons. */
static cft_code take_back(const cft_obtain *o, cft_client **slot, cft_l1_record *out,
			  const char *what, cft_error *err)
{
	char msg[1024];
	cft_error_format(err, msg, sizeof(msg));
	delete_on_api(o, slot, out->id, false);
	cft_l1_record_clear(out);
	cft_error_clear(err);
	return cft_fail(err, CFT_E_INTERNAL, "the new token could not be %s (%.400s), so it was "
			"deleted again", what, msg);
}

/* A token the new one replaces lives out the minutes it has left: a job
 * that started with it a moment ago finishes with it.  The ledger keeps
 * it (expires: when the cache said it would, 0 when unknown) until the
 * work after a later hand-over deletes it.  A ledger that cannot take it
 * means it is deleted now, as before.  True when the caller may name it
 * as replaced (kept for its expiry, or gone). */
static bool let_live_out(const cft_obtain *o, cft_client **slot, const char *id, time_t expires)
{
	cft_uncached t = { .expires = expires, .user_owned = user_owned(o) };
	snprintf(t.id, sizeof(t.id), "%s", id);
	if (cft_uncached_note(o->account_id, o->profile->name, &t, NULL) == CFT_OK)
		return true;
	return delete_on_api(o, slot, id, true);
}

/* cache = none: the ledger keeps the token's id and expiry instead of a
 * cache keeping the token.  A token the ledger cannot record would never
 * be deleted: it is taken back. */
static cft_code mint_uncached(const cft_obtain *o, cft_client **slot, cft_l1_record *out,
			      cft_error *err)
{
	cft_code rc = mint(o, slot, out, err);
	if (rc)
		return rc;
	cft_uncached t = { .expires = out->expires, .user_owned = user_owned(o) };
	snprintf(t.id, sizeof(t.id), "%s", out->id);
	rc = cft_uncached_note(o->account_id, o->profile->name, &t, err);
	return rc ? take_back(o, slot, out, "recorded for its deletion", err) : CFT_OK;
}

cft_code cft_obtain_delete_uncached(const cft_obtain *o, const char *id, cft_error *err)
{
	_cleanup_client_ cft_client *own = NULL;
	cft_client **slot = slot_of(o, &own);
	cft_owner owner = cft_profile_token_owner(o->profile, o->account_id);
	cft_code rc = connect_api(o, slot, err);
	if (!rc)
		rc = cft_token_delete(*slot, owner, id, err);
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

bool cft_obtain_tidy_due(const cft_obtain *o)
{
	if (!ledger_is_ours(o))
		return false;
	return o->ledger ? cft_uncached_any_due_at(o->ledger, time(NULL))
			 : cft_uncached_any_due(o->account_id, o->profile->name, time(NULL));
}

/* The ledger's tokens due by until (all of them, early, a few at a time
 * while each round deletes some), within as long as a mint may take, the
 * create's retries included. */
static unsigned settle_within_budget(const cft_obtain *o, time_t until, bool early)
{
	_cleanup_client_ cft_client *own = NULL;
	long budget = o->timeout_ms > 0 ? o->timeout_ms : CFT_DEFAULT_TIMEOUT_MS;
	int64_t deadline = cft_now_ms() + 2 * budget;
	unsigned deleted = 0, round;
	do {
		round = settle_ledger(o, slot_of(o, &own), until, early, deadline);
		deleted += round;
	} while (early && round > 0 && cft_now_ms() < deadline);
	return deleted;
}

void cft_obtain_tidy(const cft_obtain *o)
{
	unsigned deleted = settle_within_budget(o, time(NULL), false);
	if (deleted)
		cft_log(CFT_LOG_DEBUG, "deleted %u expired token%s of profile %s", deleted,
			deleted == 1 ? "" : "s", o->profile->name);
}

unsigned cft_obtain_settle_early(const cft_obtain *o)
{
	return settle_within_budget(o, (time_t)LLONG_MAX, true);
}

/* What earlier failed creates of this profile may have left: swept before
 * the next mint, under the same lock.  Only the user's own notes for the
 * user's own parent: under an admin's parent, root sweeps its own. */
static void sweep_noted_orphans(const cft_obtain *o, cft_client **slot)
{
	if (o->note_orphan)
		return;
	cft_orphan_note notes[CFT_ORPHAN_NOTES_MAX];
	size_t n = 0;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = cft_orphans_recall(o->account_id, o->profile->name, o->api_url, notes, &n,
					 &err);
	if (rc != CFT_OK || n == 0 || connect_api(o, slot, &err) != CFT_OK)
		return;
	bool all = true;
	for (size_t i = 0; i < n && all; i++) {
		/* A note names what to delete: only names of cftoken's form
		 * for this profile, whatever else the file says. */
		if (!cft_token_name_matches(name_template(o), o->profile->name, notes[i].name))
			continue;
		all = sweep_note(o, *slot, &notes[i], "an earlier failed create left behind",
				 &err) == CFT_OK;
	}
	if (all)
		cft_orphans_forget(o->account_id, o->profile->name);
}

bool cft_obtain_granted(const cft_obtain *o, const cft_l1_record *r)
{
	char now[CFT_FP_HEX];
	if (!r->grant[0])
		return true;
	cft_profile_grant(o->cfg, o->profile, now);
	return strcmp(now, r->grant) == 0;
}

static bool usable(const cft_obtain *o, const cft_l1_record *r, time_t now)
{
	return cft_l1_fresh(r, now, o->min_ttl) &&
	       !(o->refused_id && strcmp(o->refused_id, r->id) == 0) && cft_obtain_granted(o, r);
}

/* The token a mint would replace: its id and when it expires. */
typedef struct replaced_token {
	char id[33];
	time_t expires;               /* 0: not known (the last-id key) */
} replaced_token;

/* L2 when L1 missed: a hit refills L1.  A locked collection is an error of
 * its own, never a miss: minting because a keyring is locked would pile up
 * tokens on every call. */
static cft_code look_in_l2(const cft_obtain *o, cft_l1_record *out, replaced_token *old,
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
		if (!old->id[0] && !found.adopted) {
			snprintf(old->id, sizeof(old->id), "%s", found.id);
			old->expires = found.expires;
		}
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

/* Under the profile's lock, after the caches missed: the mint, cached in
 * every level in force.  *old: the token it replaces, as the caches knew. */
static cft_code mint_and_cache(const cft_obtain *o, cft_client **slot, cft_l1_record *out,
			       replaced_token *old, cft_error *err)
{
	/* The token key may have timed out with its token before anyone
	 * renewed it: the last id tells which token this mint replaces. */
	if (!old->id[0])
		cft_l1_last_id(o->account_id, o->profile->name, o->api_url, old->id, NULL);
	sweep_noted_orphans(o, slot);
	cft_code rc = mint(o, slot, out, err);
	if (rc)
		return rc;
	cft_l1_store_last_id(out, o->api_url, NULL);
	rc = cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->route_fp, out, o->api_url, err);
	/* A token we cannot cache would be minted again on every call and
	 * fill the account. */
	if (rc)
		return take_back(o, slot, out, "cached", err);
	if (o->l2 && !o->l2_store_by_caller)
		cft_obtain_keep_in_l2(o, o->l2, out);
	return CFT_OK;
}

void cft_obtain_keep_in_l2(const cft_obtain *o, cft_l2 *l2, const cft_l1_record *r)
{
	/* L1 holds it; a Secret Service that fails now costs durability, not
	 * this request. */
	cft_error l2err;
	cft_error_clear(&l2err);
	if (l2 && cft_cache_store(cft_l2_cache(l2), CFT_CACHE_L2, NULL, r, o->api_url, &l2err) !=
			  CFT_OK)
		cft_log(CFT_LOG_WARNING, "the token is cached in the kernel keyring only: %s",
			l2err.detail);
}

cft_code cft_obtain_token(const cft_obtain *o, cft_l1_record *out, cft_obtain_source *source,
			  char old_id[33], cft_error *err)
{
	_cleanup_client_ cft_client *own = NULL;
	cft_client **slot = slot_of(o, &own);
	cft_l1_record cached = { 0 };
	replaced_token old = { 0 };
	int lock = -1;
	bool mint_failed = false;

	old_id[0] = '\0';
	*source = CFT_MINTED;
	if (!cft_profile_name_valid(o->profile->name))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"profile name \"%.64s\": use letters, digits, '.', '_' and '-'",
				o->profile->name);
	if (o->no_cache)
		return o->track_uncached ? mint_uncached(o, slot, out, err)
					 : mint(o, slot, out, err);
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
		/* (asked again only on the way to a mint, never for a token served) */
		if (!cft_obtain_granted(o, &cached))
			cft_log(CFT_LOG_NOTICE, "profile %s was edited since its token %s was minted: "
				"a token of what it grants now replaces it", o->profile->name,
				cached.id);
		if (!cached.adopted) {
			snprintf(old.id, sizeof(old.id), "%s", cached.id);
			old.expires = cached.expires;
		}
		cft_l1_record_clear(&cached);
	}
	if (o->l2) {
		rc = look_in_l2(o, out, &old, err);
		if (rc != CFT_E_NOT_FOUND) {
			if (rc == CFT_OK)
				*source = CFT_FROM_SECRET_SERVICE;
			goto unlock;  /* no mint: nothing replaced */
		}
	}
	rc = mint_and_cache(o, slot, out, &old, err);
	mint_failed = rc != CFT_OK;
unlock:
	/* The one release of the lock, before a due token is served or the
	 * replaced token is put in the ledger: neither needs it held. */
	cft_lock_release(lock);
	if (mint_failed)
		return serve_due(o, rc, err, out, source) ? CFT_OK : rc;
	/* A token found in a cache replaced nothing. */
	if (rc || *source != CFT_MINTED)
		return rc;
	/* old_id is set only when what the caller is told holds: the token
	 * lives out its expiry in the ledger (or is gone), or, with
	 * keep_replaced, it is the caller's to settle. */
	bool replaced = old.id[0] && strcmp(old.id, out->id) != 0;
	if (replaced && !o->keep_replaced)
		replaced = let_live_out(o, slot, old.id, old.expires);
	if (replaced)
		snprintf(old_id, 33, "%s", old.id);
	return CFT_OK;
}
