/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "build.h"
#include "cache.h"
#include "fetch.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#define ARCH "x86_64"
#define KEY_VERSION "kfarm-build-1"

void build_result_release(struct build_result *r)
{
	if (!r)
		return;
	free(r->image);
	free(r->dir);
	free(r->release);
	free(r->commit);
	memset(r, 0, sizeof(*r));
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s && s[1] ? s + 1 : p;
}

/* A local file's digest, or a URL's through the cache; @path (owned) is the local copy. */
static int input_file(const char *what, const char *root, const struct fetch_opts *fo,
		      const char *want, char **path, char sha[65], struct kf_error *e)
{
	if (fetch_is_url(what))
		return fetch_cached(root, what, want, fo, path, sha, NULL, e);
	if (util_sha256_file(what, sha, e) < 0)
		return -1;
	if (want && strcmp(want, sha) != 0)
		return error_set(e, what, 0, 0, "sha256 mismatch: expected %s, got %s", want, sha);
	*path = xstrdup(what);
	return 0;
}

/* A directory's identity: its files' names, sizes and mtimes (not .git). */
static json_t *dir_list;
static size_t dir_prefix;

static int dir_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char line[4200];

	if (flag == FTW_D && strcmp(path + ftw->base, ".git") == 0)
		return FTW_SKIP_SUBTREE;
	if (flag != FTW_F && flag != FTW_SL)
		return FTW_CONTINUE;
	snprintf(line, sizeof(line), "%s %lld %lld.%09ld", path + dir_prefix,
		 (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	json_array_append_new(dir_list, json_string(line));
	return FTW_CONTINUE;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static int dir_identity(const char *dir, char sha[65], struct kf_error *e)
{
	json_t **v;
	size_t i, n, len = 0;
	char *buf, *p;

	dir_list = json_array();
	dir_prefix = strlen(dir);
	if (nftw(dir, dir_add, 32, FTW_PHYS | FTW_ACTIONRETVAL) != 0) {
		json_decref(dir_list);
		return error_set(e, dir, 0, 0, "cannot walk the source tree: %s", strerror(errno));
	}
	n = json_array_size(dir_list);
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i] = json_array_get(dir_list, i);
		len += strlen(json_string_value(v[i])) + 1;
	}
	qsort(v, n, sizeof(*v), cmp_json_str);
	p = buf = xmalloc(len + 1);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\n", json_string_value(v[i]));
	util_sha256(buf, (size_t)(p - buf), sha);
	free(buf);
	free(v);
	json_decref(dir_list);
	dir_list = NULL;
	return 0;
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *compiler_version(void)
{
	const char *argv[] = { "gcc", "--version", NULL };
	char *out = NULL, *v;

	if (proc_run(argv, NULL, 30000, &out, NULL, NULL) < 0 || !out) {
		free(out);
		return xstrdup("unknown");
	}
	v = strndup(out, strcspn(out, "\n"));
	free(out);
	return v;
}

/* Resolves every input to a local file and records it; the key hashes the record. */
struct inputs {
	char *source;		/* local tarball or directory; a git repository's folder */
	int source_is_dir;
	char commit[41];	/* a git source: the commit its revision names */
	char **patches;		/* local files */
	size_t npatches;
	json_t *record;
};

int build_git_resolve(const char *dir, const char *rev, char commit[41], char tree[41],
		      struct kf_error *e)
{
	char *spec = xasprintf("%s^{commit}", rev), *out = NULL, *err = NULL;
	const char *argv[] = { "git", "-C", dir, "rev-parse", "--verify", "--quiet",
			       "--end-of-options", spec, NULL };
	struct kf_error pe;
	int ok;

	ok = proc_run(argv, NULL, 60000, &out, &err, &pe) == 0 && out && strspn(out, "0123456789abcdef") == 40;
	if (ok) {
		snprintf(commit, 41, "%.40s", out);
		free(spec);
		free(out);
		spec = xasprintf("%s^{tree}", commit);
		argv[7] = spec;
		out = NULL;
		ok = proc_run(argv, NULL, 60000, &out, NULL, &pe) == 0 && out &&
		     strspn(out, "0123456789abcdef") == 40;
		if (ok)
			snprintf(tree, 41, "%.40s", out);
	}
	free(spec);
	free(out);
	if (!ok) {
		error_set(e, dir, 0, 0, "git revision '%s' is not a commit of the repository%s%.*s",
			  rev, err && *err ? ": " : "", err ? (int)strcspn(err, "\n") : 0,
			  err ? err : "");
		free(err);
		return -1;
	}
	free(err);
	return 0;
}

static void inputs_release(struct inputs *in)
{
	size_t i;

	free(in->source);
	for (i = 0; i < in->npatches; i++)
		free(in->patches[i]);
	free(in->patches);
	json_decref(in->record);
	memset(in, 0, sizeof(*in));
}

static int gather(const struct kernel_spec *spec, const char *root, const struct fetch_opts *fo,
		  struct inputs *in, char key[65], struct kf_error *e)
{
	const struct build_spec *b = spec->build;
	json_t *rec = json_object(), *arr;
	char sha[65], *text, *path = NULL;
	size_t i;

	memset(in, 0, sizeof(*in));
	in->record = rec;
	json_object_set_new(rec, "version", json_string(KEY_VERSION));
	json_object_set_new(rec, "arch", json_string(ARCH));
	if (b->git) {
		char tree[41];

		in->source = realpath(b->git, NULL);
		if (!in->source || !is_dir(in->source))
			return error_set(e, b->git, 0, 0, "kernel '%s': build.git: %s", spec->name,
					 in->source ? "not a folder" : strerror(errno));
		if (build_git_resolve(in->source, b->rev, in->commit, tree, e) < 0)
			return -1;
		/*
		 * The key is the tree's: two commits (or clones) with one tree are one
		 * kernel. The build tree is the repository's (tree_key()).
		 */
		json_object_set_new(rec, "source", json_pack("{s:s}", "git_tree", tree));
	} else if (!fetch_is_url(b->source) && is_dir(b->source)) {
		if (dir_identity(b->source, sha, e) < 0)
			return -1;
		in->source = xstrdup(b->source);
		in->source_is_dir = 1;
		json_object_set_new(rec, "source", json_pack("{s:s, s:s}", "dir", b->source,
							     "tree_sha256", sha));
	} else {
		if (input_file(b->source, root, fo, b->source_sha256, &in->source, sha, e) < 0)
			return -1;
		json_object_set_new(rec, "source", json_pack("{s:s, s:s}", "tarball",
							     base_name(b->source), "sha256", sha));
	}
	arr = json_array();
	json_object_set_new(rec, "patches", arr);
	in->patches = xcalloc(b->npatches + 1, sizeof(char *));
	for (i = 0; i < b->npatches; i++) {
		if (input_file(b->patches[i], root, fo, NULL, &path, sha, e) < 0) {
			if (e)
				snprintf(e->source, sizeof(e->source), "%s", b->patches[i]);
			return -1;
		}
		in->patches[in->npatches++] = path;
		json_array_append_new(arr, json_pack("{s:s, s:s}", "name", base_name(b->patches[i]),
						     "sha256", sha));
	}
	if (b->base[0] == '/' || strchr(b->base, '/')) {
		if (util_sha256_file(b->base, sha, e) < 0)
			return -1;
		json_object_set_new(rec, "config", json_pack("{s:s, s:s}", "file", base_name(b->base),
							     "sha256", sha));
	} else {
		json_object_set_new(rec, "config", json_string(b->base));
	}
	arr = json_array();
	json_object_set_new(rec, "fragments", arr);
	for (i = 0; i < b->nfragments; i++) {
		if (util_sha256_file(b->fragments[i], sha, e) < 0)
			return -1;
		json_array_append_new(arr, json_pack("{s:s, s:s}", "name", base_name(b->fragments[i]),
						     "sha256", sha));
	}
	if (util_sha256_file(BUILD_FRAGMENT, sha, e) < 0)
		return -1;
	json_object_set_new(rec, "kfarm_fragment", json_string(sha));
	path = compiler_version();
	json_object_set_new(rec, "compiler", json_string(path));
	free(path);
	text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	util_sha256(text, strlen(text), key);
	free(text);
	return 0;
}

int build_key(const struct kernel_spec *spec, const char *root, const struct fetch_opts *fo,
	      char key[65], json_t **inputs, struct kf_error *e)
{
	struct inputs in;
	int ret;

	if (!spec->build)
		return error_set(e, spec->name, 0, 0, "not a build kernel");
	ret = gather(spec, root, fo, &in, key, e);
	if (ret == 0 && inputs)
		*inputs = json_incref(in.record);
	inputs_release(&in);
	return ret;
}

/* One build in progress. */
struct bctx {
	const char *name;
	int logfd;
	char *log;		/* where the log is now */
	char *keep_log;		/* where it is kept if the build fails */
	int64_t start;
	struct kf_error *err;
	int timed_out;		/* the last step was stopped at its time limit */
	int log_failed;		/* a line could not be written to the log (said once) */
};

static void log_line(struct bctx *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(struct bctx *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vdprintf(b->logfd, fmt, ap) < 0 && !b->log_failed) {
		b->log_failed = 1;
		log_warnx("kernel %s: its build log %s: cannot write: %s (the build goes on)",
			  b->name, b->log, strerror(errno));
	}
	va_end(ap);
}

/* The last @max bytes of the log, from a line start, trimmed. */
static char *log_tail(const char *path, size_t max)
{
	size_t len = 0;
	char *all = util_read_file(path, &len, NULL), *p, *out;

	if (!all)
		return xstrdup("");
	while (len > 0 && (all[len - 1] == '\n' || all[len - 1] == ' '))
		all[--len] = '\0';
	p = len > max ? all + len - max : all;
	if (p != all && strchr(p, '\n'))
		p = strchr(p, '\n') + 1;
	out = xstrdup(p);
	free(all);
	return out;
}

static void last_line(const char *path, char *out, size_t n)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t got;
	char *nl;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	got = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ?
		    size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (got <= 0)
		return;
	buf[got] = '\0';
	while (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	nl = strrchr(buf, '\n');
	nl = nl ? nl + 1 : buf;
	got = (ssize_t)strlen(nl);
	if ((size_t)got >= n)
		got = (ssize_t)n - 1;
	memcpy(out, nl, (size_t)got);
	out[got] = '\0';
}

/* Fails with the step, the kept log's path and its tail. */
/*
 * The first line of the log at @path that a compiler or make gave as an
 * error (": error: ", ": fatal error: ", "#error"), or NULL: with make -j its
 * tail is often other jobs' lines.
 */
static char *log_first_error(const char *path)
{
	size_t n = 0;
	char *text = util_read_file(path, &n, NULL), *p, *out = NULL;

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t len = strcspn(p, "\n");
		char *line = strndup(p, len);

		if (line && (strstr(line, ": error: ") || strstr(line, ": fatal error: ") ||
			     strstr(line, "#error"))) {
			out = line;
			break;
		}
		free(line);
	}
	free(text);
	return out;
}

static int step_error(struct bctx *b, const char *source, const char *what)
{
	char *tail, *first;

	log_line(b, "\n== failed: %s\n", what);
	tail = log_tail(b->log, 560);
	first = log_first_error(b->log);
	error_set(b->err, source, 0, 0, "kernel '%s': %s%s%.300s%s (whole log: %s); its tail:\n%s",
		  b->name, what, first ? " (first error: " : "", first ? first : "", first ? ")" : "",
		  b->keep_log, tail);
	free(first);
	free(tail);
	return -1;
}

/* Runs one step with its output in the log; a progress line while it runs. */
static int run_step(struct bctx *b, const char *step, const char *source,
		    const char *const argv[], const char *cwd, int timeout_s)
{
	int fds[3] = { -1, b->logfd, b->logfd }, st, i;
	struct proc p = { -1, -1 };
	int64_t deadline = util_now_ms() + (int64_t)timeout_s * 1000;
	char what[600], sbuf[64], line[160];
	struct kf_error pe;

	log_line(b, "\n== %s:", step);
	for (i = 0; argv[i]; i++)
		log_line(b, " %s", argv[i]);
	log_line(b, "\n");
	log_info("building %s: %s", b->name, step);
	if (proc_spawn(&p, argv, cwd, fds, 3, &pe) < 0) {
		snprintf(what, sizeof(what), "%.100s: %.400s", step, pe.text);
		return step_error(b, source, what);
	}
	for (;;) {
		struct pollfd pfd = { p.pidfd, POLLIN, 0 };
		int64_t now = util_now_ms();
		int el = (int)((now - b->start) / 1000);

		if (now >= deadline) {
			proc_kill(&p, 5000);
			proc_reap(&p);
			snprintf(what, sizeof(what), "%s timed out after %d s", step, timeout_s);
			b->timed_out = 1;
			return step_error(b, source, what);
		}
		if (p.pidfd >= 0) {
			if (poll(&pfd, 1, 1000) > 0)
				break;
		} else {
			if (waitpid(p.pid, &st, WNOHANG | WNOWAIT) == p.pid)
				break;
			usleep(200000);
		}
		last_line(b->log, line, sizeof(line));
		log_progress("building %s: %s %d:%02d  %.60s", b->name, step, el / 60, el % 60, line);
	}
	log_progress_done();
	st = proc_reap(&p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(what, sizeof(what), "%s failed (%s)", step,
			 proc_status_str(st, sbuf, sizeof(sbuf)));
		return step_error(b, source, what);
	}
	log_line(b, "-- %s: %.1f s\n", step,
		 (double)(util_now_ms() - (deadline - (int64_t)timeout_s * 1000)) / 1000.0);
	return 0;
}

/* Unpacks a tarball into @dest without its top folder (linux-6.1/...). */
static int unpack(struct bctx *b, const char *tarball, const char *dest)
{
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *ent;
	int r, ret = -1, n = 0;
	char what[700];

	log_line(b, "\n== unpack %s into %s\n", tarball, dest);
	log_info("building %s: unpacking %s", b->name, base_name(tarball));
	/* A kernel tarball's compressions only: libarchive's others may run an external program. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_filename(a, tarball, 1 << 16) != ARCHIVE_OK) {
		snprintf(what, sizeof(what), "cannot read the source %s: %s", tarball,
			 archive_error_string(a));
		step_error(b, tarball, what);
		goto cleanup;
	}
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent), *rest = strchr(name, '/');
		const char *hl = archive_entry_hardlink(ent);
		char *full;

		if (!rest || !rest[1])
			continue;	/* the top folder itself */
		full = xasprintf("%s/%s", dest, rest + 1);
		archive_entry_set_pathname(ent, full);
		free(full);
		if (hl && strchr(hl, '/')) {
			full = xasprintf("%s/%s", dest, strchr(hl, '/') + 1);
			archive_entry_set_hardlink(ent, full);
			free(full);
		}
		if (archive_write_header(w, ent) == ARCHIVE_OK && archive_entry_size(ent) > 0) {
			const void *buf;
			size_t size;
			la_int64_t off;

			while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
				if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
					break;
			}
		}
		if (archive_errno(w) != 0 && archive_error_string(w)) {
			snprintf(what, sizeof(what), "cannot unpack %s: %s",
				 archive_entry_pathname(ent), archive_error_string(w));
			step_error(b, tarball, what);
			goto cleanup;
		}
		if (++n % 2000 == 0)
			log_progress("building %s: unpacking %s: %d files", b->name,
				     base_name(tarball), n);
	}
	log_progress_done();
	if (r != ARCHIVE_EOF) {
		snprintf(what, sizeof(what), "cannot read the source %s: %s", tarball,
			 archive_error_string(a));
		step_error(b, tarball, what);
		goto cleanup;
	}
	if (archive_write_close(w) != ARCHIVE_OK) {
		snprintf(what, sizeof(what), "cannot unpack: %s", archive_error_string(w));
		step_error(b, tarball, what);
		goto cleanup;
	}
	log_line(b, "%d entries\n", n);
	ret = 0;
cleanup:
	archive_read_free(a);
	archive_write_free(w);
	return ret;
}

static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *tok, *save = NULL;
	int found = 0;

	if (!path)
		return 0;
	copy = xstrdup(path);
	for (tok = strtok_r(copy, ":", &save); tok && !found; tok = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", tok, prog);

		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

/* CONFIG_X=v or "# CONFIG_X is not set" -> symbol and value ("n" for not set). */
static int parse_config_line(const char *line, char *sym, size_t ns, char *val, size_t nv)
{
	const char *eq;

	if (strncmp(line, "# CONFIG_", 9) == 0 && strstr(line, " is not set")) {
		size_t n = strcspn(line + 2, " ");

		snprintf(sym, ns, "%.*s", (int)n, line + 2);
		snprintf(val, nv, "n");
		return 1;
	}
	if (strncmp(line, "CONFIG_", 7) != 0 || !(eq = strchr(line, '=')))
		return 0;
	snprintf(sym, ns, "%.*s", (int)(eq - line), line);
	snprintf(val, nv, "%.*s", (int)strcspn(eq + 1, "\r\n"), eq + 1);
	return 1;
}

int build_check_config(const char *dotconfig, const char *const *frags, size_t n,
		       struct kf_error *e)
{
	json_t *want = json_object(), *have = json_object(), *w;
	char *text = NULL, *line, *save = NULL, sym[256], val[512];
	const char *key;
	size_t i;
	int ret = -1;

	for (i = 0; i < n; i++) {
		char *ft = util_read_file(frags[i], NULL, e);

		if (!ft)
			goto cleanup;
		for (line = strtok_r(ft, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (parse_config_line(line, sym, sizeof(sym), val, sizeof(val)))
				json_object_set_new(want, sym, json_pack("{s:s, s:s}", "value", val,
									 "from", base_name(frags[i])));
		free(ft);
	}
	text = util_read_file(dotconfig, NULL, e);
	if (!text)
		goto cleanup;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (parse_config_line(line, sym, sizeof(sym), val, sizeof(val)))
			json_object_set_new(have, sym, json_string(val));
	json_object_foreach(want, key, w) {
		const char *v = json_string_value(json_object_get(w, "value"));
		const char *h = json_string_value(json_object_get(have, key));

		if (strcmp(v, "n") == 0 ? (h && strcmp(h, "n") != 0) : (!h || strcmp(h, v) != 0)) {
			error_set(e, dotconfig, 0, 0, "%s=%s (asked for by %s) is %s%s in the final "
				  ".config: a dependency is missing or another fragment overrides it",
				  key, v, json_string_value(json_object_get(w, "from")),
				  h && strcmp(h, "n") ? "=" : "not set", h && strcmp(h, "n") ? h : "");
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	free(text);
	json_decref(want);
	json_decref(have);
	return ret;
}

/*
 * A build tree: one per (source, base config, fragments, compiler) - the
 * build's inputs but its patches - under <root>/tree/<key>/:
 *   src/        the source in a git repository: tag kfarm-base is the source
 *               as given, HEAD the last build's (its patches applied)
 *   cfg/        where the config is made (make O=cfg): out/ gets its .config
 *               only when it differs, so an unchanged config rebuilds nothing
 *   out/        the objects (make O=out), kept between builds
 *   state.json  "ready", or "building" while a build runs
 * A build takes the tree's lock, checks src/ out at kfarm-base, applies its
 * patches and commits them; a file the patches left as the last build had it
 * gets its old mtime back, so make recompiles only what changed. A tree found
 * "building" (its build died: kill -9, a crash) or whose repository fails is
 * made again, never trusted.
 */
struct tree {
	char key[65];
	const char *commit;	/* a git source: the commit to build (else NULL) */
	char *dir, *src, *cfg, *out, *state;
	int lock;
	char head[64];		/* the last build's commit (empty: none) */
	int config_same;	/* no Kconfig or configs/ file differs from the last build's */
	char **kept;		/* files its patches touched, and their mtimes */
	struct timespec *mtimes;
	size_t nkept;
};

static void tree_release(struct tree *t)
{
	size_t i;

	cache_unlock(t->lock);
	free(t->dir);
	free(t->src);
	free(t->cfg);
	free(t->out);
	free(t->state);
	for (i = 0; i < t->nkept; i++)
		free(t->kept[i]);
	free(t->kept);
	free(t->mtimes);
	memset(t, 0, sizeof(*t));
	t->lock = -1;
}

/* The tree's key: the build record without its patches (a git source: its repository). */
static void tree_key(const struct inputs *in, char key[65])
{
	json_t *r = json_copy(in->record);
	char *text;

	json_object_del(r, "patches");
	if (in->commit[0])	/* one tree for all the repository's commits */
		json_object_set_new(r, "source", json_pack("{s:s}", "git", in->source));
	json_object_set_new(r, "tree", json_string("kfarm-tree-1"));
	text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	util_sha256(text, strlen(text), key);
	free(text);
	json_decref(r);
}

/* What state.json says ("ready", "building"), or NULL (none, unreadable). */
static char *tree_state(const struct tree *t)
{
	json_t *j = json_load_file(t->state, 0, NULL);
	const char *st = json_string_value(json_object_get(j, "state"));
	char *out = st ? xstrdup(st) : NULL;

	json_decref(j);
	return out;
}

static int tree_set_state(const struct tree *t, const char *state, struct kf_error *e)
{
	char *text = xasprintf("{\"state\": \"%s\"}\n", state);
	int ret = util_write_atomic(t->state, text, strlen(text), e);

	free(text);
	return ret;
}

#define GIT_ARGS "git", "-c", "user.name=kfarm", "-c", "user.email=kfarm@localhost", \
		 "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "-c", "gc.auto=0"

/* git ARGS... in src/ as a build step (as kfarm, no hooks, no signing, no gc). */
static int tree_git(struct bctx *b, const struct tree *t, const char *step, const char *a1,
		    const char *a2, const char *a3, const char *a4, const char *a5)
{
	const char *argv[] = { GIT_ARGS, a1, a2, a3, a4, a5, NULL };

	return run_step(b, step, t->src, argv, t->src, 1800);
}

/* git ARGS... in src/, its standard output (owned) or NULL (said in the log). */
static char *tree_git_out(struct bctx *b, const struct tree *t, const char *a1, const char *a2,
			  const char *a3, const char *a4)
{
	const char *argv[] = { GIT_ARGS, a1, a2, a3, a4, NULL };
	struct kf_error pe;
	char *out = NULL;

	if (proc_run(argv, t->src, 600000, &out, NULL, &pe) < 0) {
		log_line(b, "\n== git %s %s: %s\n", a1, a2 ? a2 : "", pe.text);
		free(out);
		return NULL;
	}
	return out;
}

/* Make the tree afresh: the source copied or unpacked into src/, committed and tagged. */
static int tree_make(struct bctx *b, const struct inputs *in, const char *name,
		     const char *source, struct tree *t, struct kf_error *e)
{
	json_t *meta;
	char *mpath;
	int ret;

	t->head[0] = '\0';
	if (cache_rm_rf(t->src, e) < 0 || cache_rm_rf(t->cfg, e) < 0 || cache_rm_rf(t->out, e) < 0)
		return -1;
	if (in->commit[0]) {
		/* the repository's objects shared (read only), its checkout never touched */
		const char *cl[] = { GIT_ARGS, "clone", "-q", "--shared", "--no-checkout", in->source,
				     t->src, NULL };

		if (run_step(b, "git clone --shared (the build tree)", in->source, cl, t->dir, 3600) < 0 ||
		    tree_git(b, t, "git checkout (the commit)", "checkout", "-q", "-f", "--detach",
			     in->commit) < 0 ||
		    tree_git(b, t, "git tag (the commit)", "tag", "-f", "kfarm-base", NULL, NULL) < 0)
			return -1;
		goto described;
	}
	if (in->source_is_dir) {
		char *from = xasprintf("%s/.", in->source);
		const char *cp[] = { "cp", "-a", from, t->src, NULL };
		int rc = run_step(b, "copy the source tree", in->source, cp, NULL, 3600);

		free(from);
		if (rc < 0)
			return -1;
	} else if (util_mkdir_p(t->src, e) < 0 || unpack(b, in->source, t->src) < 0) {
		return -1;
	}
	if (tree_git(b, t, "git init (the build tree)", "init", "-q", NULL, NULL, NULL) < 0 ||
	    tree_git(b, t, "git add (the source as given)", "add", "-A", "-f", ".", NULL) < 0 ||
	    tree_git(b, t, "git commit (the source as given)", "commit", "-q", "-m",
		     "the source as given", NULL) < 0 ||
	    tree_git(b, t, "git tag (the source as given)", "tag", "kfarm-base", NULL, NULL, NULL) < 0)
		return -1;
described:
	/* what it is, for kfarm kernels list (and prune, by its folder's age) */
	meta = json_pack("{s:s, s:s, s:s}", "name", name, "source", source, "detail",
			 "build tree: the source as given, its objects; patches applied anew each build");
	mpath = xasprintf("%s/entry.json", t->dir);
	ret = json_dump_file(meta, mpath, JSON_INDENT(2)) == 0 ? 0 :
	      error_set(e, mpath, 0, 0, "cannot write: %s", strerror(errno));
	free(mpath);
	json_decref(meta);
	return ret;
}

/*
 * The tree made ready for patches: the last build's commit noted, the files
 * its patches touched with their mtimes, src/ checked out at kfarm-base and
 * cleaned. -1 when git fails (the tree is then to be made afresh).
 */
static int tree_reset(struct bctx *b, struct tree *t)
{
	char *head = tree_git_out(b, t, "rev-parse", "HEAD", NULL, NULL);
	char *files = head ? tree_git_out(b, t, "diff", "--name-only", "kfarm-base", "HEAD") : NULL;
	char *line, *save = NULL;

	if (!files) {
		free(head);
		return -1;
	}
	snprintf(t->head, sizeof(t->head), "%.*s", (int)strcspn(head, "\n"), head);
	free(head);
	for (line = strtok_r(files, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = xasprintf("%s/%s", t->src, line);
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			t->kept = xrealloc(t->kept, (t->nkept + 1) * sizeof(*t->kept));
			t->mtimes = xrealloc(t->mtimes, (t->nkept + 1) * sizeof(*t->mtimes));
			t->kept[t->nkept] = xstrdup(line);
			t->mtimes[t->nkept++] = st.st_mtim;
		}
		free(path);
	}
	free(files);
	/* a git source: kfarm-base moves to this build's commit (only what differs is written) */
	if (t->commit && tree_git(b, t, "git tag (the commit)", "tag", "-f", "kfarm-base", t->commit,
				  NULL) < 0)
		return -1;
	if (tree_git(b, t, "git checkout (the source as given)", "checkout", "-q", "-f",
		     "kfarm-base", NULL) < 0 ||
	    tree_git(b, t, "git clean (the build tree)", "clean", "-q", "-fdx", NULL, NULL) < 0)
		return -1;
	return 0;
}

/*
 * After the patches: commit them (HEAD is then this build's source) and give
 * each file the last build's patches touched, whose content is what that
 * build had, its mtime back. 0, or -1 when git fails.
 */
static int tree_commit(struct bctx *b, struct tree *t)
{
	char *changed, *line, *save = NULL;
	size_t i, back = 0;

	if (tree_git(b, t, "git add (the patches)", "add", "-A", "-f", ".", NULL) < 0 ||
	    tree_git(b, t, "git commit (the patches)", "commit", "-q", "--allow-empty", "-m",
		     "the patches of this build") < 0)
		return -1;
	if (!t->head[0])
		return 0;
	changed = tree_git_out(b, t, "diff", "--name-only", t->head, "HEAD");
	if (!changed)
		return -1;
	t->config_same = 1;
	for (line = strtok_r(changed, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* what the config is made of: Kconfig files, configs/ (tiny.config), kconfig */
		if (strstr(line, "Kconfig") || strstr(line, "configs/") || strstr(line, "scripts/kconfig"))
			t->config_same = 0;
		for (i = 0; i < t->nkept; i++)
			if (t->kept[i] && !strcmp(t->kept[i], line)) {
				free(t->kept[i]);
				t->kept[i] = NULL;
			}
	}
	free(changed);
	for (i = 0; i < t->nkept; i++) {
		struct timespec ts[2];
		char *path;

		if (!t->kept[i])
			continue;
		path = xasprintf("%s/%s", t->src, t->kept[i]);
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = t->mtimes[i];
		if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0)
			back++;
		free(path);
	}
	log_line(b, "\n== %zu file(s) the patches left as the last build had them keep its mtime\n",
		 back);
	return 0;
}

/*
 * Take @in's tree (locked, in t->lock) ready for a build's patches: made when
 * missing, left mid-build or not resettable, else reset (tree_reset()).
 * state.json is then "building".
 */
static int tree_take(struct bctx *b, const struct inputs *in, const struct kernel_spec *spec,
		     const char *root, struct tree *t, struct kf_error *e)
{
	char *st;
	int fresh;

	tree_key(in, t->key);
	t->commit = in->commit[0] ? in->commit : NULL;
	t->dir = cache_entry_dir(root, "tree", t->key);
	t->src = xasprintf("%s/src", t->dir);
	t->cfg = xasprintf("%s/cfg", t->dir);
	t->out = xasprintf("%s/out", t->dir);
	t->state = xasprintf("%s/state.json", t->dir);
	t->lock = cache_lock(root, "tree", t->key, e);
	if (t->lock < 0 || util_mkdir_p(t->dir, e) < 0)
		return -1;
	st = tree_state(t);
	fresh = !st || strcmp(st, "ready") != 0;
	if (st && fresh) {
		log_warnx("kernel %s: build tree %s was left mid-build (a build died): made afresh",
			  spec->name, t->dir);
		log_line(b, "\n== the build tree was left '%s' (a build died): made afresh\n", st);
	}
	free(st);
	if (tree_set_state(t, "building", e) < 0)
		return -1;
	if (!fresh) {
		log_line(b, "\n== build tree %s: back to the source as given\n", t->dir);
		log_info("building %s: in its build tree %s", spec->name, t->dir);
		if (tree_reset(b, t) < 0) {
			log_warnx("kernel %s: build tree %s could not be reset: made afresh",
				  spec->name, t->dir);
			fresh = 1;
		}
	}
	if (fresh && tree_make(b, in, spec->name, spec->build->source ? spec->build->source : in->source,
			       t, e) < 0)
		return -1;
	return util_mkdir_p(t->cfg, e) < 0 || util_mkdir_p(t->out, e) < 0 ? -1 : 0;
}

/* Whether files @a and @b have the same bytes (a missing one: no). */
static int same_file(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	char *x = util_read_file(a, &na, NULL), *y = util_read_file(b, &nb, NULL);
	int same = x && y && na == nb && !memcmp(x, y, na);

	free(x);
	free(y);
	return same;
}

/*
 * A build whose make failed by itself (a compile error: not stopped at its
 * time limit) is remembered in build/<key>.failed.json, so that the same
 * inputs are not built again to fail again (a bisection's broken commit, run
 * twice) unless asked (BUILD_RETRY). Its error, or NULL when none is recorded.
 */
static char *build_failed_before(const char *root, const char *key)
{
	char *path = xasprintf("%s/build/%s.failed.json", root, key);
	json_t *j = json_load_file(path, 0, NULL);
	const char *text = json_string_value(json_object_get(j, "error"));
	char *out = text ? xstrdup(text) : NULL;

	json_decref(j);
	free(path);
	return out;
}

static void build_failed_note(const char *root, const char *key, const char *error)
{
	char *path = xasprintf("%s/build/%s.failed.json", root, key), stamp[32];
	json_t *j;
	char *text;

	util_iso8601(stamp);
	j = json_pack("{s:s, s:s}", "error", error, "at", stamp);
	text = json_dumps(j, JSON_INDENT(2));
	if (!text || util_write_atomic(path, text, strlen(text), NULL) < 0)
		log_warn("cannot record the failed build in %s", path);
	free(text);
	json_decref(j);
	free(path);
}

static void build_failed_forget(const char *root, const char *key)
{
	char *path = xasprintf("%s/build/%s.failed.json", root, key);

	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s", path);
	free(path);
}

/* Whether build/@key holds its bzImage as built (the sha256 its entry.json recorded). */
static int build_cached(const char *root, const char *key)
{
	json_t *m = cache_meta(root, "build", key);
	const char *h = json_string_value(json_object_get(m, "sha256"));
	int have = cache_verify(root, "build", key, "bzImage", h && strlen(h) == 64 ? h : NULL,
				NULL);

	json_decref(m);
	return have > 0;
}

int build_kernel(const struct kernel_spec *spec, const char *root, unsigned int flags,
		 struct build_result *r, struct kf_error *e)
{
	const struct build_spec *bs = spec->build;
	char *work = NULL, *dotconfig = NULL, *jobs = NULL, *cc = NULL, *odir = NULL;
	char *ccdir = NULL, *ccbase = NULL, *out = NULL, *image = NULL, *cdir = NULL;
	char *outconfig = NULL;
	const char **frags = NULL;
	struct fetch_opts fo;
	struct inputs in;
	struct tree t = { .lock = -1 };
	struct bctx b;
	json_t *meta = NULL;
	int lock = -1, ret = -1, tree_ok = 0, remember = 0;
	size_t i, nf = 0;
	char sha[65];

	memset(r, 0, sizeof(*r));
	memset(&b, 0, sizeof(b));
	memset(&in, 0, sizeof(in));
	b.logfd = -1;
	b.name = spec->name;
	b.err = e;
	if (!bs)
		return error_set(e, spec->name, 0, 0, "not a build kernel");
	fetch_opts_default(&fo);
	if (gather(spec, root, &fo, &in, r->key, e) < 0)
		goto cleanup;
	r->dir = cache_entry_dir(root, "build", r->key);
	r->image = xasprintf("%s/bzImage", r->dir);
	lock = cache_lock(root, "build", r->key, e);
	if (lock < 0)
		goto cleanup;
	if (build_cached(root, r->key)) {
		json_t *m = cache_meta(root, "build", r->key);
		const char *rel = json_string_value(json_object_get(m, "release"));

		r->release = rel ? xstrdup(rel) : NULL;
		r->commit = in.commit[0] ? xstrdup(in.commit) : NULL;
		r->cached = 1;
		json_decref(m);
		log_info("kernel %s: built before (%s), nothing to build", spec->name, r->dir);
		ret = 0;
		goto cleanup;
	}
	{
		char *before = build_failed_before(root, r->key);

		if (before && !(flags & BUILD_RETRY)) {
			error_set(e, spec->name, 0, 0, "kernel '%s': its build failed before with the "
				  "same inputs (key %.16s; --refresh builds it again): %s", spec->name,
				  r->key, before);
			free(before);
			goto cleanup;
		}
		free(before);
	}

	b.start = util_now_ms();
	work = cache_tmp_dir(root, "build", r->key, e);
	if (!work)
		goto cleanup;
	b.log = xasprintf("%s/build.log", work);
	b.keep_log = xasprintf("%s/build/%s.failed.log", root, r->key);
	b.logfd = open(b.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (b.logfd < 0) {
		error_set(e, b.log, 0, 0, "cannot create the build log: %s", strerror(errno));
		goto cleanup;
	}
	{
		char *text = json_dumps(in.record, JSON_INDENT(2) | JSON_SORT_KEYS);

		log_line(&b, "kfarm build of kernel '%s' (%s), key %s\ninputs: %s\n", spec->name,
			 spec->origin, r->key, text);
		free(text);
	}
	if (tree_take(&b, &in, spec, root, &t, e) < 0)
		goto fail;
	odir = xasprintf("O=%s", t.out);
	cdir = xasprintf("O=%s", t.cfg);
	for (i = 0; i < in.npatches; i++) {
		const char *pa[] = { "patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch",
				     "-i", in.patches[i], NULL };
		char *step = xasprintf("patch %s", base_name(bs->patches[i]));
		char *what = xasprintf("patch %s (%zu of %zu) does not apply",
				       base_name(bs->patches[i]), i + 1, in.npatches);
		int rc = run_step(&b, step, bs->patches[i], pa, t.src, 600);

		if (rc < 0) {
			/* Name the patch first, whatever patch said. */
			char *tail = log_tail(b.log, 520);

			error_set(e, bs->patches[i], 0, 0, "kernel '%s': %s (whole log: %s); its "
				  "tail:\n%s", spec->name, what, b.keep_log, tail);
			free(tail);
		}
		free(step);
		free(what);
		if (rc < 0)
			goto fail_tree_ok;
	}
	if (tree_commit(&b, &t) < 0) {
		step_error(&b, spec->name, "the build tree's git repository failed");
		goto fail;
	}

	/* The base config, then the fragments and ours merged, then olddefconfig, in cfg/. */
	dotconfig = xasprintf("%s/.config", t.cfg);
	outconfig = xasprintf("%s/.config", t.out);
	frags = xcalloc(bs->nfragments + 8, sizeof(char *));
	frags[nf++] = "scripts/kconfig/merge_config.sh";
	frags[nf++] = "-m";
	frags[nf++] = "-O";
	frags[nf++] = t.cfg;
	frags[nf++] = dotconfig;
	for (i = 0; i < bs->nfragments; i++)
		frags[nf++] = bs->fragments[i];
	frags[nf++] = BUILD_FRAGMENT;
	frags[nf] = NULL;
	if (t.config_same && access(dotconfig, R_OK) == 0 && same_file(dotconfig, outconfig)) {
		/* the tree's key holds the base config and the fragments; the patches left Kconfig be */
		log_line(&b, "\n== config: the last build's (no Kconfig or configs/ file changed)\n");
		goto config_made;
	}
	if (strchr(bs->base, '/')) {
		if (cache_copy_file(bs->base, dotconfig, e) < 0)
			goto fail_tree_ok;
		log_line(&b, "\n== base config: %s\n", bs->base);
	} else {
		const char *mk[] = { "make", "ARCH=" ARCH, cdir, bs->base, NULL };
		char *step = xasprintf("make %s", bs->base);
		int rc = run_step(&b, step, spec->name, mk, t.src, 600);

		free(step);
		if (rc < 0)
			goto fail_tree_ok;
	}
	if (run_step(&b, "merge the config fragments", spec->name, frags, t.src, 600) < 0)
		goto fail_tree_ok;
	{
		const char *mk[] = { "make", "ARCH=" ARCH, cdir, "olddefconfig", NULL };

		if (run_step(&b, "make olddefconfig", spec->name, mk, t.src, 600) < 0)
			goto fail_tree_ok;
	}
	if (build_check_config(dotconfig, frags + 5, nf - 5, e) < 0) {
		char what[1100];

		snprintf(what, sizeof(what), "config check: %s", e->text);
		step_error(&b, spec->name, what);
		goto fail_tree_ok;
	}
	log_line(&b, "\n== config check: every symbol of the fragments is set\n");
config_made:
	if (same_file(dotconfig, outconfig)) {
		log_line(&b, "\n== the config is the last build's: out/.config kept as it was\n");
	} else if (cache_copy_file(dotconfig, outconfig, e) < 0) {
		step_error(&b, spec->name, e->text);
		goto fail;
	}
	{
		char *j = xasprintf("-j%d", util_ncpus());
		/* LOCALVERSION= (set, empty): no "+" for a source in git (setlocalversion) */
		const char *mk[] = { "env", NULL, NULL, "make", "ARCH=" ARCH, odir, j, "LOCALVERSION=",
				     "KBUILD_BUILD_USER=kfarm", "KBUILD_BUILD_HOST=kfarm", NULL,
				     "bzImage", NULL };
		int rc;

		jobs = j;
		/*
		 * ccache's own folder in the cache, as the trees are; the tree's
		 * folder its base, so that the compiler's -I paths are relative and
		 * one source compiled in another tree (a git repository's, a
		 * tarball's) finds the same results
		 */
		ccdir = xasprintf("CCACHE_DIR=%s/ccache", root);
		ccbase = xasprintf("CCACHE_BASEDIR=%s", t.dir);
		mk[1] = ccdir;
		mk[2] = ccbase;
		if (in_path("ccache")) {
			cc = xstrdup("CC=ccache gcc");
			mk[10] = cc;
		} else {
			mk[10] = "bzImage";
			mk[11] = NULL;
		}
		rc = run_step(&b, cc ? "make bzImage (incremental, ccache)" : "make bzImage (incremental)",
			      spec->name, mk, t.src, 4 * 3600);
		/* make deletes what it did not finish; one stopped at its limit may not have */
		if (rc < 0 && b.timed_out)
			goto fail;
		if (rc < 0) {
			remember = 1;
			goto fail_tree_ok;
		}
	}
	{
		const char *mk[] = { "make", "-s", "ARCH=" ARCH, odir, "LOCALVERSION=", "kernelrelease",
				     NULL };

		if (proc_run(mk, t.src, 120000, &out, NULL, NULL) == 0 && out)
			r->release = strndup(out, strcspn(out, "\n"));
	}
	image = xasprintf("%s/bzImage", work);
	{
		char *built = xasprintf("%s/arch/x86/boot/bzImage", t.out);
		char *cfg = xasprintf("%s/config", work);
		int rc = cache_copy_file(built, image, e) < 0 || cache_copy_file(outconfig, cfg, e) < 0;

		free(built);
		free(cfg);
		if (rc)
			goto fail_tree_ok;
	}
	if (util_sha256_file(image, sha, e) < 0)
		goto fail_tree_ok;
	log_line(&b, "\n== done in %lld s: bzImage sha256 %s, release %s\n",
		 (long long)((util_now_ms() - b.start) / 1000), sha, r->release ? r->release : "?");
	tree_ok = 1;
	meta = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:s}", "name", spec->name, "source",
			 bs->source ? bs->source : in.source, "sha256", sha, "file", "bzImage",
			 "inputs", in.record,
			 "build_s", (json_int_t)((util_now_ms() - b.start) / 1000), "tree", t.key);
	if (in.commit[0])
		json_object_set_new(meta, "commit", json_string(in.commit));
	if (r->release)
		json_object_set_new(meta, "release", json_string(r->release));
	close(b.logfd);
	b.logfd = -1;
	if (cache_commit(root, "build", r->key, work, meta, e) < 0)
		goto fail;
	r->commit = in.commit[0] ? xstrdup(in.commit) : NULL;
	build_failed_forget(root, r->key);
	log_info("kernel %s: built %s in %lld s (release %s)", spec->name, r->image,
		 (long long)((util_now_ms() - b.start) / 1000), r->release ? r->release : "?");
	ret = 0;
	goto cleanup;
fail_tree_ok:
	/* a step that failed by itself: the next build resets the tree as usual */
	tree_ok = 1;
fail:
	/* The whole log is kept beside the entry it did not make. */
	if (b.log && rename(b.log, b.keep_log) < 0)
		log_warn("cannot keep the build log %s", b.keep_log);
	if (remember && e)
		build_failed_note(root, r->key, e->text);
cleanup:
	if (t.lock >= 0 && tree_ok)
		tree_set_state(&t, "ready", NULL);
	tree_release(&t);
	if (b.logfd >= 0)
		close(b.logfd);
	if (work && ret < 0)
		cache_rm_rf(work, NULL);
	cache_unlock(lock);
	if (ret < 0)
		build_result_release(r);
	inputs_release(&in);
	json_decref(meta);
	free(frags);
	free(image);
	free(out);
	free(cc);
	free(ccdir);
	free(ccbase);
	free(odir);
	free(cdir);
	free(outconfig);
	free(jobs);
	free(dotconfig);
	free(work);
	free(b.log);
	free(b.keep_log);
	return ret;
}
