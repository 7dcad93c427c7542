#include "cache/keyring.h"

#include <errno.h>
#include <keyutils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_TYPE "user"
#define CFT_KEY_READ_MAX 4000
/* view + read + search for the user, so a lookup needs no possession.
 * The possessor may also set attributes (timeout, permissions) and write:
 * an expired key stays linked until the kernel's garbage collector runs
 * (minutes later), keyctl_search no longer finds it to remove it, and
 * add_key then updates it in place, which takes write permission. */
#define KEY_PERM (KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH | KEY_POS_VIEW | \
		  KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH | KEY_POS_SETATTR)

cft_code cft_keyring_errno(cft_error *err, const char *what, int e)
{
	if (e == ENOKEY || e == EKEYEXPIRED || e == EKEYREVOKED)
		return cft_fail(err, CFT_E_NOT_FOUND, "%s: no such key", what);
	if (e == EDQUOT)
		return cft_fail(err, CFT_E_INTERNAL,
				"%s: the kernel keyring quota is exhausted "
				"(/proc/sys/kernel/keys/maxkeys, maxbytes)", what);
	if (e == ENOSYS || e == EOPNOTSUPP)
		return cft_fail(err, CFT_E_INTERNAL, "%s: this kernel has no key management", what);
	return cft_fail(err, CFT_E_INTERNAL, "%s: %s", what, strerror(e));
}

cft_code cft_keyring_prepare(cft_error *err)
{
	key_serial_t user = keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 1);
	if (user < 0)
		return cft_keyring_errno(err, "the user keyring", errno);
	/* Idempotent: linking @u into @s is what pam_keyinit does, and makes
	 * the keys we add to @u possessed. */
	if (keyctl_link(user, KEY_SPEC_SESSION_KEYRING) < 0 && errno != EEXIST)
		return cft_keyring_errno(err, "linking the user keyring into the session keyring",
					 errno);
	return CFT_OK;
}

cft_code cft_keyring_new_session(cft_error *err)
{
	if (keyctl_join_session_keyring(NULL) < 0)
		return cft_keyring_errno(err, "a new session keyring", errno);
	return cft_keyring_prepare(err);
}

cft_code cft_keyring_read(const char *desc, cft_secret **out, cft_error *err)
{
	long key = keyctl_search(KEY_SPEC_USER_KEYRING, KEY_TYPE, desc, 0);
	if (key < 0)
		return cft_keyring_errno(err, "kernel keyring lookup", errno);
	/* Our keys are small (an L1 record is at most 1 KiB). */
	cft_secret *s = cft_secret_alloc(CFT_KEY_READ_MAX);
	if (!s)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	long n = keyctl_read((key_serial_t)key, cft_secret_buffer(s), cft_secret_capacity(s));
	if (n < 0) {
		int e = errno;
		cft_secret_free(s);
		return cft_keyring_errno(err, "kernel keyring read", e);
	}
	if ((size_t)n > cft_secret_capacity(s)) {
		cft_secret_free(s);
		return cft_fail(err, CFT_E_MALFORMED, "kernel keyring: a key of %ld bytes", n);
	}
	cft_secret_set_len(s, (size_t)n);
	*out = s;
	return CFT_OK;
}

cft_code cft_keyring_drop(const char *desc, cft_error *err)
{
	long key = keyctl_search(KEY_SPEC_USER_KEYRING, KEY_TYPE, desc, 0);
	if (key < 0) {
		if (errno == ENOKEY || errno == EKEYEXPIRED || errno == EKEYREVOKED)
			return CFT_OK;
		return cft_keyring_errno(err, "kernel keyring lookup", errno);
	}
	if (keyctl_invalidate((key_serial_t)key) < 0 &&
	    keyctl_unlink((key_serial_t)key, KEY_SPEC_USER_KEYRING) < 0)
		return cft_keyring_errno(err, "removing a kernel key", errno);
	return CFT_OK;
}

cft_code cft_keyring_store(const char *desc, const void *payload, size_t len, time_t expires,
			   cft_error *err)
{
	cft_code rc = cft_keyring_prepare(err);
	if (rc)
		return rc;
	/* Remove a live key first rather than update it: a reader in between
	 * sees a miss, never a mix.  (An expired one add_key updates.) */
	rc = cft_keyring_drop(desc, err);
	if (rc)
		return rc;
	key_serial_t key = add_key(KEY_TYPE, desc, payload, len, KEY_SPEC_USER_KEYRING);
	if (key < 0)
		return cft_keyring_errno(err, "adding a kernel key", errno);
	time_t now = time(NULL);
	unsigned timeout = expires > now ? (unsigned)(expires - now) : 1;
	/* Timeout first: it needs setattr, which setperm keeps for the
	 * possessor only. */
	if (keyctl_set_timeout(key, timeout) < 0 || keyctl_setperm(key, KEY_PERM) < 0) {
		int e = errno;
		keyctl_invalidate(key);
		return cft_keyring_errno(err, "setting a kernel key's timeout and permissions", e);
	}
	return CFT_OK;
}

cft_code cft_keyring_each(const char *prefix, cft_keyring_fn fn, void *ctx, cft_error *err)
{
	void *list = NULL;
	long n = keyctl_read_alloc(KEY_SPEC_USER_KEYRING, &list);
	if (n < 0)
		return cft_keyring_errno(err, "listing the user keyring", errno);
	key_serial_t *keys = list;
	size_t count = (size_t)n / sizeof(key_serial_t), plen = strlen(prefix);
	int stop = 0;
	for (size_t i = 0; i < count && !stop; i++) {
		char *d = NULL;
		if (keyctl_describe_alloc(keys[i], &d) < 0)
			continue;  /* expired or not ours to see */
		/* "type;uid;gid;perm;description" */
		char *desc = d;
		for (int semis = 0; desc && semis < 4; semis++) {
			desc = strchr(desc, ';');
			if (desc)
				desc++;
		}
		if (desc && strncmp(d, KEY_TYPE ";", strlen(KEY_TYPE) + 1) == 0 &&
		    strncmp(desc, prefix, plen) == 0)
			stop = fn(desc, ctx);
		free(d);
	}
	free(list);
	return CFT_OK;
}
