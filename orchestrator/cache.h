/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CACHE_H
#define KFARM_CACHE_H

#include <jansson.h>

#include "error.h"

/*
 * The kernel cache: content-addressed entries under a root folder
 * ($KFARM_CACHE, $XDG_CACHE_HOME/kfarm, ~/.cache/kfarm or the config's "cache").
 *
 *   <root>/<kind>/<id>/          one finished entry (kind: url, deb, build, pvh,
 *                                and tree: a build tree, made in place under its lock)
 *   <root>/<kind>/<id>/entry.json  what it is: kind, name, source, sha256, size, ...
 *   <root>/<kind>/<id>.lock      flock()ed while the entry is being made
 *   <root>/<kind>/<id>.tmp.<pid>  an entry being made; renamed into place whole
 *
 * An entry exists once its folder does: it is made under a temporary name and
 * renamed, so a reader never sees half of one. Two processes that want the same
 * entry take its lock; the second finds it made when the lock is granted.
 */

/** cache_root() - @configured (if not NULL) or util_cache_dir(); owned. */
char *cache_root(const char *configured);

/** cache_entry_dir() - "<root>/<kind>/<id>"; owned. */
char *cache_entry_dir(const char *root, const char *kind, const char *id);

/**
 * cache_lock() - create <root>/<kind>/ if needed and take the entry's lock,
 * waiting (and saying so) while another process holds it.
 * Returns the lock's descriptor, or -1 with @e.
 */
int cache_lock(const char *root, const char *kind, const char *id, struct kf_error *e);

/** cache_unlock() - release a lock from cache_lock() (-1 is ignored). */
void cache_unlock(int fd);

/**
 * cache_has() - whether the entry exists and holds @file; marks it used
 * (its folder's mtime is what prune looks at). Returns 1 or 0.
 */
int cache_has(const char *root, const char *kind, const char *id, const char *file);

/**
 * cache_meta() - the entry's entry.json (owned), or NULL when it has none.
 */
json_t *cache_meta(const char *root, const char *kind, const char *id);

/**
 * cache_verify() - cache_has(), and the entry's @file has the sha256 @want:
 * what its entry.json recorded, or a pinned digest (NULL: not checked, for
 * entries that recorded none). A file cut short or changed on disk is not
 * used as it is: a warning names the entry, its file, its size and both
 * digests, and the caller makes the entry again.
 * Returns 1 (@sha256, may be NULL, gets the digest), 0 when the entry has no
 * @file, -1 when @file is not what was recorded.
 */
int cache_verify(const char *root, const char *kind, const char *id, const char *file,
		 const char *want, char sha256[65]);

/** cache_tmp_dir() - a fresh temporary folder for @kind/@id (owned), or NULL with @e. */
char *cache_tmp_dir(const char *root, const char *kind, const char *id, struct kf_error *e);

/**
 * cache_commit() - write @meta (borrowed) as entry.json into @tmp, with "created"
 * and "size" added, and rename @tmp to the entry's folder (replacing an old one).
 */
int cache_commit(const char *root, const char *kind, const char *id, const char *tmp,
		 json_t *meta, struct kf_error *e);

/** cache_rm_rf() - remove a file or a folder tree; 0, or -1 with @e. */
int cache_rm_rf(const char *path, struct kf_error *e);

/**
 * cache_list() - every entry as a JSON array of objects: kind, id, name,
 * source, sha256, size, age_s, path (and whatever else its entry.json says).
 */
json_t *cache_list(const char *root, struct kf_error *e);

/**
 * cache_prune() - remove entries not used for @older_than_days days (0: all)
 * and temporaries left by dead processes; entries locked by another process are
 * kept. @removed, @freed (may be NULL) count what went.
 */
int cache_prune(const char *root, double older_than_days, int *removed,
		long long *freed, struct kf_error *e);

/** cache_copy_file() - copy @src to @dst (created 0644). */
int cache_copy_file(const char *src, const char *dst, struct kf_error *e);

#endif
