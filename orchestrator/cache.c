/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "util.h"

static const char *const kinds[] = { "url", "deb", "build", "pvh", "tree", NULL };

char *cache_root(const char *configured)
{
	return configured && *configured ? xstrdup(configured) : util_cache_dir();
}

char *cache_entry_dir(const char *root, const char *kind, const char *id)
{
	return xasprintf("%s/%s/%s", root, kind, id);
}

int cache_lock(const char *root, const char *kind, const char *id, struct kf_error *e)
{
	char *dir = xasprintf("%s/%s", root, kind), *path = NULL;
	int fd = -1;

	if (util_mkdir_p(dir, e) < 0)
		goto cleanup;
	path = xasprintf("%s/%s.lock", dir, id);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		error_set(e, path, 0, 0, "cannot open the cache lock: %s", strerror(errno));
		goto cleanup;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_info("waiting for another kfarm that is making %s/%s", kind, id);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno == EINTR)
				continue;
			error_set(e, path, 0, 0, "cannot lock: %s", strerror(errno));
			close(fd);
			fd = -1;
			goto cleanup;
		}
	}
cleanup:
	free(dir);
	free(path);
	return fd;
}

void cache_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing drops the flock */
}

int cache_has(const char *root, const char *kind, const char *id, const char *file)
{
	char *dir = cache_entry_dir(root, kind, id);
	char *path = xasprintf("%s/%s", dir, file);
	int ok = access(path, R_OK) == 0;

	if (ok)
		utimensat(AT_FDCWD, dir, NULL, 0);
	free(path);
	free(dir);
	return ok;
}

json_t *cache_meta(const char *root, const char *kind, const char *id)
{
	char *path = xasprintf("%s/%s/%s/entry.json", root, kind, id);
	json_t *m = json_load_file(path, 0, NULL);

	free(path);
	if (!json_is_object(m)) {
		json_decref(m);
		return NULL;
	}
	return m;
}

int cache_verify(const char *root, const char *kind, const char *id, const char *file,
		 const char *want, char sha256[65])
{
	char *path, got[65];
	struct kf_error e;
	struct stat st;
	int ret = 1;

	if (!cache_has(root, kind, id, file))
		return 0;
	if (!want)
		return 1;
	path = xasprintf("%s/%s/%s/%s", root, kind, id, file);
	if (util_sha256_file(path, got, &e) < 0) {
		log_warnx("cache entry %s/%s: cannot read its %s: %s: making it again", kind, id,
			  file, e.text);
		ret = -1;
	} else if (strcmp(got, want) != 0) {
		log_warnx("cache entry %s/%s: its %s (%lld bytes) has sha256 %s, but %s was "
			  "recorded: cut short or changed on disk; making it again", kind, id, file,
			  stat(path, &st) == 0 ? (long long)st.st_size : -1LL, got, want);
		ret = -1;
	} else if (sha256) {
		memcpy(sha256, got, 65);
	}
	free(path);
	return ret;
}

char *cache_tmp_dir(const char *root, const char *kind, const char *id, struct kf_error *e)
{
	char *parent = xasprintf("%s/%s", root, kind);
	char *tmp = xasprintf("%s/%s.tmp.%ld", parent, id, (long)getpid());

	if (util_mkdir_p(parent, e) < 0 || cache_rm_rf(tmp, e) < 0 || util_mkdir_p(tmp, e) < 0) {
		free(tmp);
		tmp = NULL;
	}
	free(parent);
	return tmp;
}

static long long tree_bytes;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		tree_bytes += (long long)st->st_blocks * 512;
	return 0;
}

/* Disk usage of a tree (nftw is not reentrant-safe but kfarm is single-threaded). */
static long long du(const char *path)
{
	tree_bytes = 0;
	nftw(path, add_size, 16, FTW_PHYS);
	return tree_bytes;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int cache_rm_rf(const char *path, struct kf_error *e)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : error_set(e, path, 0, 0, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			return error_set(e, path, 0, 0, "cannot remove: %s", strerror(errno));
		return 0;
	}
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
		return error_set(e, path, 0, 0, "cannot remove: %s", strerror(errno));
	return 0;
}

int cache_commit(const char *root, const char *kind, const char *id, const char *tmp,
		 json_t *meta, struct kf_error *e)
{
	char *dir = cache_entry_dir(root, kind, id), *path = xasprintf("%s/entry.json", tmp);
	char *old = NULL, *text = NULL, when[32];
	int ret = -1;

	util_iso8601(when);
	json_object_set_new(meta, "kind", json_string(kind));
	json_object_set_new(meta, "id", json_string(id));
	json_object_set_new(meta, "created", json_string(when));
	json_object_set_new(meta, "size", json_integer(du(tmp)));
	text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (util_write_atomic(path, text, strlen(text), e) < 0)
		goto cleanup;
	if (rename(tmp, dir) < 0) {
		if (errno != ENOTEMPTY && errno != EEXIST) {
			error_set(e, dir, 0, 0, "cannot move into the cache: %s", strerror(errno));
			goto cleanup;
		}
		/* An older entry of the same id (a re-fetch): swap it out. */
		old = xasprintf("%s.old.%ld", dir, (long)getpid());
		if (rename(dir, old) < 0 || rename(tmp, dir) < 0) {
			error_set(e, dir, 0, 0, "cannot replace the cache entry: %s", strerror(errno));
			goto cleanup;
		}
		cache_rm_rf(old, NULL);
	}
	ret = 0;
cleanup:
	free(text);
	free(old);
	free(path);
	free(dir);
	return ret;
}

int cache_copy_file(const char *src, const char *dst, struct kf_error *e)
{
	char buf[1 << 16];
	int in = -1, out = -1, ret = -1;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		error_set(e, src, 0, 0, "cannot open: %s", strerror(errno));
		goto cleanup;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		error_set(e, dst, 0, 0, "cannot create: %s", strerror(errno));
		goto cleanup;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || util_write_all(out, buf, (size_t)n) < 0) {
			error_set(e, dst, 0, 0, "copy from %s failed: %s", src, strerror(errno));
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && ret == 0)
		ret = error_set(e, dst, 0, 0, "cannot write: %s", strerror(errno));
	return ret;
}

/* Whether @name (in @parent) is a temporary of a dead process: "<id>.tmp.<pid>". */
static int stale_tmp(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	const char *o = strstr(name, ".old.");
	const char *p = t ? t + 5 : o ? o + 5 : NULL;
	long pid;

	if (!p)
		return 0;
	pid = strtol(p, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int is_entry_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && !strstr(name, ".tmp.") && !strstr(name, ".old.") &&
	       !(n > 5 && strcmp(name + n - 5, ".lock") == 0) &&
	       !(n > 4 && strcmp(name + n - 4, ".log") == 0);
}

json_t *cache_list(const char *root, struct kf_error *e)
{
	json_t *out = json_array();
	time_t now = time(NULL);
	int k;

	(void)e;
	for (k = 0; kinds[k]; k++) {
		char *parent = xasprintf("%s/%s", root, kinds[k]);
		DIR *d = opendir(parent);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char *dir, *mpath;
			struct stat st;
			json_t *m;

			if (!is_entry_name(de->d_name))
				continue;
			dir = xasprintf("%s/%s", parent, de->d_name);
			if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
				free(dir);
				continue;
			}
			mpath = xasprintf("%s/entry.json", dir);
			m = json_load_file(mpath, 0, NULL);
			if (!json_is_object(m)) {
				/* An entry from before entry.json (deb/<pkg>_<version>). */
				json_decref(m);
				m = json_pack("{s:s, s:s}", "name", de->d_name, "source",
					      de->d_name);
			}
			json_object_set_new(m, "kind", json_string(kinds[k]));
			json_object_set_new(m, "id", json_string(de->d_name));
			json_object_set_new(m, "path", json_string(dir));
			json_object_set_new(m, "size", json_integer(du(dir)));
			json_object_set_new(m, "age_s", json_integer((json_int_t)(now - st.st_mtime)));
			json_array_append_new(out, m);
			free(mpath);
			free(dir);
		}
		if (d)
			closedir(d);
		free(parent);
	}
	return out;
}

int cache_prune(const char *root, double older_than_days, int *removed,
		long long *freed, struct kf_error *e)
{
	time_t now = time(NULL);
	int k, n = 0, ret = 0;
	long long bytes = 0;

	for (k = 0; kinds[k]; k++) {
		char *parent = xasprintf("%s/%s", root, kinds[k]);
		DIR *d = opendir(parent);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char *path, *lock = NULL;
			struct stat st;
			int fd = -1, go = 0;

			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", parent, de->d_name);
			if (lstat(path, &st) < 0) {
				free(path);
				continue;
			}
			if (stale_tmp(de->d_name)) {
				go = 1;
			} else if (is_entry_name(de->d_name) && S_ISDIR(st.st_mode) &&
				   difftime(now, st.st_mtime) >= older_than_days * 86400.0) {
				/* Not while another kfarm holds it. */
				lock = xasprintf("%s.lock", path);
				fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
				go = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
				if (!go)
					log_info("prune: %s/%s is in use, kept", kinds[k], de->d_name);
			} else if (strstr(de->d_name, ".log") && older_than_days <= 0) {
				go = 1;
			}
			if (go) {
				long long sz = S_ISDIR(st.st_mode) ? du(path) : (long long)st.st_size;

				if (cache_rm_rf(path, e) < 0) {
					ret = -1;
				} else {
					bytes += sz;
					n++;
					/* The lock file stays: unlinking it could let two
					 * makers hold locks on two different files. */
					log_debug("prune: removed %s", path);
				}
			}
			if (fd >= 0)
				close(fd);
			free(lock);
			free(path);
		}
		if (d)
			closedir(d);
		free(parent);
	}
	if (removed)
		*removed = n;
	if (freed)
		*freed = bytes;
	return ret;
}
