/* SPDX-License-Identifier: MIT */
#ifndef KFARM_BUILD_H
#define KFARM_BUILD_H

#include <jansson.h>

#include "config.h"
#include "error.h"
#include "fetch.h"

/* The fragment every build gets, merged last. */
#define BUILD_FRAGMENT KFARM_TOP "/configs/kfarm.config"

/*
 * struct build_result - a built kernel in the cache.
 * @image: the bzImage
 * @dir: its cache entry (bzImage, config, build.log, entry.json)
 * @key: the sha256 over every input
 * @release: `make kernelrelease`
 * @commit: a git source's commit (NULL for a tarball or directory)
 * @cached: 1 if nothing was built now
 */
struct build_result {
	char *image;
	char *dir;
	char key[65];
	char *release;
	char *commit;
	int cached;
};

/**
 * build_key() - the cache key of @spec's build: sha256 over the source's
 * identity (a tarball's sha256, a directory's file list with sizes and
 * mtimes, or a git repository and the tree of the commit its revision names), every patch's contents in order, the base config, every fragment's
 * contents, kfarm's fragment, the compiler's version and the architecture.
 * URLs (source, patches) are fetched into the cache to be hashed.
 * @inputs (may be NULL; owned) receives what went into the key as JSON.
 */
int build_key(const struct kernel_spec *spec, const char *root, const struct fetch_opts *fo,
	      char key[65], json_t **inputs, struct kf_error *e);

/**
 * build_kernel() - @spec's kernel from the cache, or built into it, in the
 * build tree of its source, base config and fragments (<root>/tree/<key>: the
 * source as given in a git repository, kept between builds with its objects;
 * a git source's tree is a clone sharing its objects, one for all its
 * commits, checked out at each build's commit so only what differs is
 * rebuilt):
 * the tree reset to the source as given (made afresh when it is missing, was
 * left mid-build by a build that died, or cannot be reset), the patches
 * applied (-p1, in order), then in its out/ folder (make O=): the base
 * config, the fragments and configs/kfarm.config merged, make olddefconfig,
 * a check that every symbol the fragments ask for is set, make -j<cores>
 * bzImage (with ccache, its folder <root>/ccache, when present): a patch edit
 * recompiles what it touched. One build per key, and per tree, at a time
 * across processes (locks). A build whose make failed by itself (a compile
 * error) is remembered: the same inputs fail at once, naming that failure,
 * unless @flags has BUILD_RETRY. A failing patch or step is an error naming it
 * with the log's tail; the whole log is kept (its path is in the error).
 */
int build_kernel(const struct kernel_spec *spec, const char *root, unsigned int flags,
		 struct build_result *r, struct kf_error *e);

#define BUILD_RETRY 0x1	/* build again what failed before with the same inputs */

/**
 * build_git_resolve() - the commit and the tree (40 hex digits each) that
 * revision @rev of the git repository in @dir names (git rev-parse, @rev
 * after --end-of-options: never an option); the error names @dir and @rev.
 */
int build_git_resolve(const char *dir, const char *rev, char commit[41], char tree[41],
		      struct kf_error *e);

/** build_result_release() - free what @r owns. */
void build_result_release(struct build_result *r);

/**
 * build_check_config() - every "CONFIG_X=v" and "# CONFIG_X is not set" line
 * of the fragments @frags (in order, the last word wins) holds in @dotconfig.
 * The error names the symbol and the fragment that asked for it.
 */
int build_check_config(const char *dotconfig, const char *const *frags, size_t n,
		       struct kf_error *e);

#endif
