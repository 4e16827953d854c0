/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cells.h"
#include "config.h"
#include "nightly.h"
#include "log.h"
#include "util.h"

/* Generated from configs/default.json by the Makefile. */
extern const char config_default_json[];

/* The most repetitions a cell can be given. */
#define REPS_MAX 100000

/* A kernel's source, by kind: also its key in the config. */
static const char *const kind_names[] = {
	[KERNEL_PATH] = "path", [KERNEL_DEB] = "deb", [KERNEL_URL] = "url", [KERNEL_BUILD] = "build",
};

const char *config_kernel_kind_name(enum kernel_kind kind)
{
	return (unsigned)kind <= KERNEL_BUILD ? kind_names[kind] : "?";
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **copy_strv(char *const *v, size_t n)
{
	char **out = xcalloc(n ? n : 1, sizeof(char *));
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static char *xstrdup_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void config_build_free(struct build_spec *b)
{
	if (!b)
		return;
	free(b->source);
	free(b->git);
	free(b->rev);
	free(b->source_sha256);
	free_strv(b->patches, b->npatches);
	free(b->base);
	free_strv(b->fragments, b->nfragments);
	free(b);
}

void config_kernel_release(struct kernel_spec *k)
{
	if (!k)
		return;
	free(k->name);
	free(k->arg);
	free(k->origin);
	free(k->sha256);
	config_build_free(k->build);
	free(k->cache_dir);
	memset(k, 0, sizeof(*k));
}

void config_kernel_copy(struct kernel_spec *dst, const struct kernel_spec *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->name = xstrdup(src->name);
	dst->kind = src->kind;
	dst->arg = xstrdup(src->arg);
	dst->origin = xstrdup(src->origin);
	dst->sha256 = xstrdup_null(src->sha256);
	dst->cache_dir = xstrdup_null(src->cache_dir);
	if (src->build) {
		const struct build_spec *b = src->build;

		dst->build = xcalloc(1, sizeof(*dst->build));
		dst->build->source = xstrdup_null(b->source);
		dst->build->git = xstrdup_null(b->git);
		dst->build->rev = xstrdup_null(b->rev);
		dst->build->source_sha256 = xstrdup_null(b->source_sha256);
		dst->build->patches = copy_strv(b->patches, b->npatches);
		dst->build->npatches = b->npatches;
		dst->build->base = xstrdup(b->base);
		dst->build->fragments = copy_strv(b->fragments, b->nfragments);
		dst->build->nfragments = b->nfragments;
	}
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

int config_variant_smp(const struct config *c, int *out, int *n, struct kf_error *e)
{
	int sorted[CONFIG_MAX_SMP], i, j, k = 0;

	*n = 0;
	if (c->nvariant_smp) {
		for (i = 0; i < c->nvariant_smp; i++) {
			for (j = 0; j < c->nsmp && c->smp[j] != c->variant_smp[i]; j++)
				;
			if (j == c->nsmp) {
				char list[128] = "";

				for (j = 0; j < c->nsmp; j++)
					snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
						 j ? "," : "", c->smp[j]);
				return error_set(e, "variant_smp", 0, 0,
						 "%d is not one of the run's SMP sizes (%s)",
						 c->variant_smp[i], list);
			}
		}
		for (j = 0; j < c->nsmp; j++)
			for (i = 0; i < c->nvariant_smp; i++)
				if (c->smp[j] == c->variant_smp[i]) {
					out[(*n)++] = c->smp[j];
					break;
				}
		return 0;
	}
	/* The two smallest distinct sizes. */
	memcpy(sorted, c->smp, (size_t)c->nsmp * sizeof(int));
	qsort(sorted, (size_t)c->nsmp, sizeof(int), cmp_int);
	for (i = 0; i < c->nsmp && k < 2; i++)
		if (i == 0 || sorted[i] != sorted[i - 1])
			sorted[k++] = sorted[i];
	for (j = 0; j < c->nsmp; j++)
		for (i = 0; i < k; i++)
			if (c->smp[j] == sorted[i]) {
				for (i = 0; i < *n && out[i] != c->smp[j]; i++)
					;
				if (i == *n)
					out[(*n)++] = c->smp[j];
				break;
			}
	return 0;
}

int config_rev_ok(const char *rev)
{
	size_t n = strlen(rev), i;

	if (n == 0 || n > 200 || rev[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)rev[i] <= ' ' || rev[i] == 0x7f)
			return 0;
	return 1;
}

int config_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '+' || ch == '-'))
			return 0;
	}
	return 1;
}

/*
 * Positions of values in the config text. jansson reports where a syntax error
 * is but not where a value sits, so a small scanner walks the (already valid)
 * text along a JSON-pointer-like path ("/kernels/1/deb") to find the line and
 * column of the value a semantic error is about.
 */
struct scan {
	const char *p;
	int line, col;
};

/* Bytes stepped over by every scan (config_scan_steps()). */
static unsigned long long scan_steps;

unsigned long long config_scan_steps(void)
{
	return scan_steps;
}

static void sc_adv(struct scan *s)
{
	scan_steps++;
	if (*s->p == '\n') {
		s->line++;
		s->col = 1;
	} else if (((unsigned char)*s->p & 0xc0) != 0x80) {
		s->col++;
	}
	s->p++;
}

static void sc_ws(struct scan *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
		sc_adv(s);
}

/* Skips a string at s->p; copies up to n-1 bytes of its raw text to @out. */
static int sc_string(struct scan *s, char *out, size_t n)
{
	size_t k = 0;

	if (*s->p != '"')
		return -1;
	sc_adv(s);
	while (*s->p && *s->p != '"') {
		if (*s->p == '\\') {
			if (out && k + 1 < n)
				out[k++] = *s->p;
			sc_adv(s);
			if (!*s->p)
				return -1;
		}
		if (out && k + 1 < n)
			out[k++] = *s->p;
		sc_adv(s);
	}
	if (out)
		out[k] = '\0';
	if (*s->p != '"')
		return -1;
	sc_adv(s);
	return 0;
}

static int sc_value(struct scan *s)
{
	sc_ws(s);
	if (*s->p == '"')
		return sc_string(s, NULL, 0);
	if (*s->p == '{' || *s->p == '[') {
		char close = *s->p == '{' ? '}' : ']';

		sc_adv(s);
		sc_ws(s);
		if (*s->p == close) {
			sc_adv(s);
			return 0;
		}
		for (;;) {
			sc_ws(s);
			if (close == '}') {
				if (sc_string(s, NULL, 0) < 0)
					return -1;
				sc_ws(s);
				if (*s->p != ':')
					return -1;
				sc_adv(s);
			}
			if (sc_value(s) < 0)
				return -1;
			sc_ws(s);
			if (*s->p == ',') {
				sc_adv(s);
				continue;
			}
			if (*s->p != close)
				return -1;
			sc_adv(s);
			return 0;
		}
	}
	if (!*s->p)
		return -1;
	while (*s->p && !strchr(",]} \t\r\n", *s->p))
		sc_adv(s);
	return 0;
}

/* Leaves @s at the value that @path names; -1 if it is not there. */
static int sc_locate(struct scan *s, const char *path)
{
	char want[256], key[256];
	const char *slash;
	size_t n;

	sc_ws(s);
	if (!*path)
		return 0;
	path++; /* the leading '/' */
	slash = strchr(path, '/');
	n = slash ? (size_t)(slash - path) : strlen(path);
	if (n >= sizeof(want))
		return -1;
	memcpy(want, path, n);
	want[n] = '\0';
	path += n;
	if (*s->p == '{') {
		sc_adv(s);
		for (;;) {
			sc_ws(s);
			if (*s->p == '}' || sc_string(s, key, sizeof(key)) < 0)
				return -1;
			sc_ws(s);
			if (*s->p != ':')
				return -1;
			sc_adv(s);
			if (strcmp(key, want) == 0)
				return sc_locate(s, path);
			if (sc_value(s) < 0)
				return -1;
			sc_ws(s);
			if (*s->p != ',')
				return -1;
			sc_adv(s);
		}
	}
	if (*s->p == '[') {
		long idx = strtol(want, NULL, 10), i;

		sc_adv(s);
		for (i = 0;; i++) {
			sc_ws(s);
			if (*s->p == ']')
				return -1;
			if (i == idx)
				return sc_locate(s, path);
			if (sc_value(s) < 0)
				return -1;
			sc_ws(s);
			if (*s->p != ',')
				return -1;
			sc_adv(s);
		}
	}
	return -1;
}

struct ctx {
	const char *text;
	const char *source;
	struct kf_error *e;
	char *dir;		/* the config file's folder: relative build inputs start there */
};

/* An error about the value at @path (its line and column), or its parent's. */
static int cfg_err(struct ctx *x, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_err(struct ctx *x, const char *path, const char *fmt, ...)
{
	char msg[768], p[256];
	struct scan s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		s.p = x->text;
		s.line = 1;
		s.col = 1;
		if (sc_locate(&s, p) == 0)
			break;
		char *slash = strrchr(p, '/');

		if (!slash) {
			s.line = 1;
			s.col = 1;
			break;
		}
		*slash = '\0';
	}
	return error_set(x->e, x->source, s.line, s.col, "%s", msg);
}

/* An error about the value at @path/@sub. */
static int sub_err(struct ctx *x, const char *path, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sub_err(struct ctx *x, const char *path, const char *sub, const char *fmt, ...)
{
	char msg[768], p[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s/%s", path, sub);
	return cfg_err(x, p, "%s", msg);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

static int is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       strncmp(s, "file://", 7) == 0;
}

static int sha256_ok(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* A local build input relative to the config file's folder; URLs stay as they are. */
static char *input_path(struct ctx *x, const char *s)
{
	if (is_url(s) || s[0] == '/' || !x->dir)
		return xstrdup(s);
	return xasprintf("%s/%s", x->dir, s);
}

/* A string or an array of strings at @path into @out (URLs or paths). */
static int get_inputs(struct ctx *x, json_t *v, const char *path, const char *what,
		      char ***out, size_t *n)
{
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (json_is_string(v)) {
		*out = xcalloc(1, sizeof(char *));
		(*out)[(*n)++] = input_path(x, json_string_value(v));
		return 0;
	}
	if (!json_is_array(v))
		return cfg_err(x, path, "'%s' must be an array of files or URLs, not %s", what,
			       type_name(v));
	*out = xcalloc(json_array_size(v) + 1, sizeof(char *));
	for (i = 0; i < json_array_size(v); i++) {
		json_t *p = json_array_get(v, i);
		char sub[200];

		snprintf(sub, sizeof(sub), "%s/%zu", path, i);
		if (!json_is_string(p) || !json_string_length(p))
			return cfg_err(x, sub, "%s[%zu] must be a file or a URL, not %s", what, i,
				       type_name(p));
		(*out)[(*n)++] = input_path(x, json_string_value(p));
	}
	return 0;
}

/*
 * Refuses a key of the object @o at @path that is not one of @known (NULL-
 * terminated); @what begins the error ("kernels[1]").
 */
static int check_keys(struct ctx *x, json_t *o, const char *path, const char *const *known,
		      const char *what)
{
	char list[128] = "";
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; known[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 known[i]);
	json_object_foreach(o, key, v) {
		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i])
			return sub_err(x, path, key, "%s: unknown field '%s' (known: %s)", what, key,
				       list);
	}
	return 0;
}

/* A build's "config": one of @bases (the first without it), else a .config file. */
static int build_base(struct ctx *x, json_t *v, const char *path, const char *name, char **out)
{
	static const char *const bases[] = { "tinyconfig", "defconfig", "allnoconfig", NULL };
	size_t i;

	if (!v) {
		*out = xstrdup(bases[0]);
		return 0;
	}
	if (!json_is_string(v) || !json_string_length(v))
		return sub_err(x, path, "config", "kernel '%s': build.config must be tinyconfig, "
			       "defconfig, allnoconfig or a .config file, not %s", name, type_name(v));
	for (i = 0; bases[i] && strcmp(bases[i], json_string_value(v)); i++)
		;
	*out = bases[i] ? xstrdup(bases[i]) : input_path(x, json_string_value(v));
	return 0;
}

static int parse_build(struct ctx *x, json_t *b, const char *path, const char *name,
		       struct build_spec **out)
{
	static const char *const keys[] = { "source", "git", "rev", "sha256", "patches", "config",
					     "fragments", NULL };
	char sub[200], what[100], pp[220], fp[220];
	struct build_spec *bs;
	json_t *v;
	size_t i;

	snprintf(sub, sizeof(sub), "%s/build", path);
	snprintf(what, sizeof(what), "kernel '%s': build", name);
	if (!json_is_object(b))
		return cfg_err(x, sub, "kernel '%s': 'build' must be an object "
			       "({\"source\", \"patches\", \"config\", \"fragments\"}), not %s",
			       name, type_name(b));
	if (check_keys(x, b, sub, keys, what) < 0)
		return -1;
	*out = bs = xcalloc(1, sizeof(*bs));
	v = json_object_get(b, "source");
	if (v && json_object_get(b, "git"))
		return cfg_err(x, sub, "kernel '%s': build: give 'source' or 'git', not both", name);
	if (!v && !json_object_get(b, "git"))
		return cfg_err(x, sub, "kernel '%s': build: missing field 'source' (a tarball's URL "
			       "or file, or a directory) or 'git' (a git repository's folder)", name);
	if (json_object_get(b, "rev") && !json_object_get(b, "git"))
		return sub_err(x, sub, "rev", "kernel '%s': build.rev is a revision of build.git, "
			       "which is not given", name);
	if (v) {
		if (!json_is_string(v) || !json_string_length(v))
			return sub_err(x, sub, "source", "kernel '%s': build.source must be a "
				       "non-empty string, not %s", name, type_name(v));
		bs->source = input_path(x, json_string_value(v));
	} else {
		v = json_object_get(b, "git");
		if (!json_is_string(v) || !json_string_length(v) || is_url(json_string_value(v)))
			return sub_err(x, sub, "git", "kernel '%s': build.git must be a local git "
				       "repository's folder, not %s", name,
				       json_is_string(v) ? "a URL or nothing" : type_name(v));
		bs->git = input_path(x, json_string_value(v));
		v = json_object_get(b, "rev");
		if (v && (!json_is_string(v) || !config_rev_ok(json_string_value(v))))
			return sub_err(x, sub, "rev", "kernel '%s': build.rev must be a git revision "
				       "(1-200 characters, none a space or control, not starting with "
				       "'-')", name);
		bs->rev = xstrdup(v ? json_string_value(v) : "HEAD");
		if (json_object_get(b, "sha256"))
			return sub_err(x, sub, "sha256", "kernel '%s': build.sha256 pins a 'source' "
				       "download; a git source is pinned by its revision", name);
	}
	v = json_object_get(b, "sha256");
	if (v && (!json_is_string(v) || !sha256_ok(json_string_value(v))))
		return sub_err(x, sub, "sha256", "kernel '%s': build.sha256 must be 64 lowercase hex "
			       "digits", name);
	bs->source_sha256 = v ? xstrdup(json_string_value(v)) : NULL;
	snprintf(pp, sizeof(pp), "%s/patches", sub);
	snprintf(fp, sizeof(fp), "%s/fragments", sub);
	if (build_base(x, json_object_get(b, "config"), sub, name, &bs->base) < 0 ||
	    get_inputs(x, json_object_get(b, "patches"), pp, "build.patches", &bs->patches,
		       &bs->npatches) < 0 ||
	    get_inputs(x, json_object_get(b, "fragments"), fp, "build.fragments", &bs->fragments,
		       &bs->nfragments) < 0)
		return -1;
	for (i = 0; i < bs->nfragments; i++) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", i);
		if (is_url(bs->fragments[i]))
			return sub_err(x, fp, n, "kernel '%s': a config fragment must be a local file",
				       name);
	}
	return 0;
}

/*
 * Which of "path", "deb", "url" and "build" the kernel object @k at @path
 * names: exactly one, a non-empty string but for "build"; -1 with the error set.
 */
static int kernel_kind(struct ctx *x, json_t *k, const char *path, const char *nm)
{
	int j, found = -1;

	for (j = 0; j <= KERNEL_BUILD; j++) {
		json_t *v = json_object_get(k, kind_names[j]);

		if (!v)
			continue;
		if (found >= 0)
			return cfg_err(x, path, "kernel '%s': give one of 'path', 'deb', 'url' or "
				       "'build', not both '%s' and '%s'", nm, kind_names[found],
				       kind_names[j]);
		found = j;
		if (j != KERNEL_BUILD && (!json_is_string(v) || !json_string_length(v)))
			return sub_err(x, path, kind_names[j], "kernel '%s': '%s' must be a non-empty "
				       "string, not %s", nm, kind_names[j], type_name(v));
	}
	if (found < 0)
		return cfg_err(x, path, "kernel '%s': missing its source: 'path', 'deb', 'url' "
			       "or 'build'", nm);
	return found;
}

/* A kernel's pins: "sha256" only on a URL kernel, and well formed; a URL that is one. */
static int kernel_pins(struct ctx *x, json_t *k, const char *path, const char *nm,
		       enum kernel_kind kind)
{
	json_t *v = json_object_get(k, "sha256");

	if (v && kind != KERNEL_URL)
		return sub_err(x, path, "sha256", "kernel '%s': 'sha256' pins a 'url' kernel (for a "
			       "build's source, put it in 'build')", nm);
	if (v && (!json_is_string(v) || !sha256_ok(json_string_value(v))))
		return sub_err(x, path, "sha256", "kernel '%s': 'sha256' must be 64 lowercase hex "
			       "digits", nm);
	if (kind == KERNEL_URL && !is_url(json_string_value(json_object_get(k, "url"))))
		return sub_err(x, path, "url", "kernel '%s': 'url' must start with http://, https:// "
			       "or file://", nm);
	return 0;
}

/* kernels[@i], @k, whose value begins at @at (its origin) in the text. */
static int parse_kernel(struct ctx *x, json_t *k, size_t i, const struct scan *at,
			struct kernel_spec *ks)
{
	static const char *const keys[] = { "name", "path", "deb", "url", "sha256", "build", NULL };
	char path[128], what[64], origin[600];
	const char *nm;
	json_t *name;
	int kind;

	snprintf(path, sizeof(path), "/kernels/%zu", i);
	snprintf(what, sizeof(what), "kernels[%zu]", i);
	if (!json_is_object(k))
		return cfg_err(x, path, "kernels[%zu] must be an object, not %s", i, type_name(k));
	if (check_keys(x, k, path, keys, what) < 0)
		return -1;
	name = json_object_get(k, "name");
	if (!name)
		return cfg_err(x, path, "kernels[%zu]: missing field 'name'", i);
	if (!json_is_string(name))
		return sub_err(x, path, "name", "kernels[%zu].name must be a string, not %s", i,
			       type_name(name));
	nm = json_string_value(name);
	if (!config_name_ok(nm))
		return sub_err(x, path, "name", "kernels[%zu].name '%s' must be 1-64 characters of "
			       "A-Z a-z 0-9 . _ + -", i, nm);
	kind = kernel_kind(x, k, path, nm);
	if (kind < 0 || kernel_pins(x, k, path, nm, (enum kernel_kind)kind) < 0)
		return -1;
	snprintf(origin, sizeof(origin), "%s:%d:%d", x->source, at->line, at->col);
	if (kind == KERNEL_BUILD &&
	    parse_build(x, json_object_get(k, "build"), path, nm, &ks->build) < 0) {
		config_build_free(ks->build);
		ks->build = NULL;
		return -1;
	}
	ks->name = xstrdup(nm);
	ks->kind = (enum kernel_kind)kind;
	ks->arg = xstrdup(ks->build ? (ks->build->source ? ks->build->source : ks->build->git) :
			  json_string_value(json_object_get(k, kind_names[kind])));
	ks->origin = xstrdup(origin);
	ks->sha256 = xstrdup_null(json_string_value(json_object_get(k, "sha256")));
	return 0;
}

static void scenario_reps_set(struct config *c, const char *id, int reps)
{
	size_t i;

	for (i = 0; i < c->nscenario_reps; i++) {
		if (strcmp(c->scenario_reps[i].id, id) == 0) {
			c->scenario_reps[i].reps = reps;
			return;
		}
	}
	c->scenario_reps = xrealloc(c->scenario_reps,
				    (c->nscenario_reps + 1) * sizeof(*c->scenario_reps));
	c->scenario_reps[c->nscenario_reps].id = xstrdup(id);
	c->scenario_reps[c->nscenario_reps++].reps = reps;
}

/* One "CELL=N" entry of @n bytes at @p: 0 and the cell and count, or -1. */
static int reps_entry(const char *p, size_t n, char *id, size_t idn, int *reps)
{
	size_t k = cells_reps_sep(p, n);
	char num[16], *end;
	long v;

	if (k >= n || k == 0 || k >= idn || n - k - 1 == 0 || n - k - 1 >= sizeof(num))
		return -1;
	memcpy(id, p, k);
	id[k] = '\0';
	memcpy(num, p + k + 1, n - k - 1);
	num[n - k - 1] = '\0';
	errno = 0;
	v = strtol(num, &end, 10);
	if (errno || *end || end == num || v < 1 || v > REPS_MAX || !cells_id_ok(id, 0))
		return -1;
	*reps = (int)v;
	return 0;
}

int config_add_scenario_reps(struct config *c, const char *list, const char *what,
			     struct kf_error *e)
{
	char **v;
	size_t n, i;
	int ret = 0;

	v = cells_split(list, &n);
	if (n == 0)
		ret = error_set(e, what, 0, 0, "'%s': expected CELL=N[,CELL=N...]", list);
	for (i = 0; i < n && !ret; i++) {
		char id[CELLS_ID_MAX + 1];
		int reps;

		if (reps_entry(v[i], strlen(v[i]), id, sizeof(id), &reps) < 0)
			ret = error_set(e, what, 0, 0,
					"'%s': expected a cell (ID or ID[axis=value,...]), '=' and 1 to "
					"%d repetitions", v[i], REPS_MAX);
		else
			scenario_reps_set(c, id, reps);
	}
	cells_free(v, n);
	return ret;
}

int config_max_reps(const struct config *c)
{
	int m = c->reps;
	size_t i;

	for (i = 0; i < c->nscenario_reps; i++)
		if (c->scenario_reps[i].reps > m)
			m = c->scenario_reps[i].reps;
	return m;
}

/*
 * The top-level fields. One descriptor each drives the defaults (config_init),
 * the parser and its unknown-field check, the command line's overrides
 * (config_set_text), `kfarm config` (config_to_json) and the documentation
 * (config_doc_markdown, whose table README.md carries and a unit test checks).
 */
enum ftype {
	FT_TEXT,	/* a string kfarm does not keep */
	FT_INT,		/* an integer from lo to hi */
	FT_STR,		/* a string: one of choices when there are some */
	FT_DIR,		/* a folder; a relative one starts at the config file's */
	FT_SMP,		/* an array of vCPU counts from lo to hi */
	FT_CELLS,	/* "scenarios": "all", cells, or a ','-separated string of them */
	FT_CELL_REPS,	/* "scenario_reps": cell: lo to hi repetitions, or "CELL=N,..." */
	FT_KERNELS,	/* "kernels": the kernel objects */
	FT_NIGHTLY,	/* "nightly": kfarmd's schedule (nightly.c checks it) */
	FT_HOSTS,	/* "hosts": libvirt hypervisor hosts (vm-libvirt.c) */
};

/* The default is relative to kfarm's folder, not to where kfarm runs. */
#define FIELD_IN_TOP 1u
/* An empty string is refused: it names no file or folder. */
#define FIELD_NONEMPTY 2u

struct field {
	const char *name;
	enum ftype type;
	size_t off, noff;		/* the value in struct config; an FT_SMP's count */
	long lo, hi;
	const char *const *choices;	/* NULL-terminated */
	const char *def;		/* the default, as JSON; NULL: none */
	const char *absent;		/* no default: what leaving it out means; NULL: required */
	unsigned flags;
	const char *help;
};

static int *int_at(struct config *c, const struct field *f)
{
	return (int *)((char *)c + f->off);
}

static const int *int_of(const struct config *c, const struct field *f)
{
	return (const int *)((const char *)c + f->off);
}

static int *count_at(struct config *c, const struct field *f)
{
	return (int *)((char *)c + f->noff);
}

static int count_of(const struct config *c, const struct field *f)
{
	return *(const int *)((const char *)c + f->noff);
}

static char **str_at(struct config *c, const struct field *f)
{
	return (char **)((char *)c + f->off);
}

static const char *str_of(const struct config *c, const struct field *f)
{
	return *(char *const *)((const char *)c + f->off);
}

/* An error about the field @f itself (at its value). */
#define field_err(x, f, ...) sub_err((x), "", (f)->name, __VA_ARGS__)

static int choice_ok(const struct field *f, const char *s)
{
	size_t i;

	for (i = 0; f->choices[i]; i++)
		if (strcmp(f->choices[i], s) == 0)
			return 1;
	return 0;
}

/* "a, b or c", each in double quotes when @quote. */
static const char *choices_text(const struct field *f, int quote, char *buf, size_t n)
{
	const char *q = quote ? "\"" : "";
	size_t i;

	buf[0] = '\0';
	for (i = 0; f->choices[i]; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, n - len, "%s%s%s%s", i == 0 ? "" : f->choices[i + 1] ? ", " :
			 " or ", q, f->choices[i], q);
	}
	return buf;
}

static int text_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	(void)c;
	if (!json_is_string(v))
		return field_err(x, f, "'%s' must be a string, not %s", f->name, type_name(v));
	return 0;
}

static int str_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	char **s = str_at(c, f), list[128];

	if (text_parse(x, f, v, c) < 0)
		return -1;
	if ((f->flags & FIELD_NONEMPTY) && !json_string_length(v))
		return field_err(x, f, "'%s' must not be empty (%s)", f->name, f->help);
	if (f->choices && !choice_ok(f, json_string_value(v)))
		return field_err(x, f, "'%s' must be %s, not \"%s\"", f->name,
				 choices_text(f, 1, list, sizeof(list)), json_string_value(v));
	free(*s);
	*s = xstrdup(json_string_value(v));
	return 0;
}

static int dir_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	char **s = str_at(c, f), *abs;

	if (str_parse(x, f, v, c) < 0)
		return -1;
	abs = input_path(x, *s);
	free(*s);
	*s = abs;
	return 0;
}

static int int_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	if (!json_is_integer(v))
		return field_err(x, f, "'%s' must be an integer, not %s", f->name, type_name(v));
	if (json_integer_value(v) < f->lo || json_integer_value(v) > f->hi)
		return field_err(x, f, "'%s' must be between %ld and %ld, not %" JSON_INTEGER_FORMAT,
				 f->name, f->lo, f->hi, json_integer_value(v));
	*int_at(c, f) = (int)json_integer_value(v);
	return 0;
}

static int smp_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	int *out = int_at(c, f), *n = count_at(c, f);
	char path[64];
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > CONFIG_MAX_SMP)
		return field_err(x, f, "'%s' must be an array of 1 to %d vCPU counts (%s)", f->name,
				 CONFIG_MAX_SMP, f->help);
	*n = 0;
	for (i = 0; i < json_array_size(v); i++) {
		json_t *k = json_array_get(v, i);
		int j;

		snprintf(path, sizeof(path), "/%s/%zu", f->name, i);
		if (!json_is_integer(k) || json_integer_value(k) < f->lo ||
		    json_integer_value(k) > f->hi)
			return cfg_err(x, path, "%s[%zu] must be an integer from %ld to %ld", f->name, i,
				       f->lo, f->hi);
		/* Two guests of one size would share a name and their logs. */
		for (j = 0; j < *n && out[j] != (int)json_integer_value(k); j++)
			;
		if (j < *n)
			return cfg_err(x, path, "%s[%zu]: %d is named twice (%s[%d] is %d too)",
				       f->name, i, out[j], f->name, j, out[j]);
		out[(*n)++] = (int)json_integer_value(k);
	}
	return 0;
}

static void cells_release(struct config *c, const struct field *f)
{
	(void)f;
	free_strv(c->scenarios, c->nscenarios);
	c->scenarios = NULL;
	c->nscenarios = 0;
}

/* "all", or a ','-separated list (a ',' inside brackets does not separate). */
static int cells_parse_string(struct ctx *x, const struct field *f, const char *s,
			      struct config *c)
{
	size_t n, i;
	char **l;
	int r = 0;
	struct kf_error e2;

	if (cells_list_check(s, f->name, &e2) < 0)
		return field_err(x, f, "%s: %s", f->name, e2.text);
	l = cells_split(s, &n);
	for (i = 0; i < n && !r; i++)
		if (strcmp(l[i], "all") && !cells_id_ok(l[i], 1))
			r = field_err(x, f, "%s: '%s' is not a cell: expected all, ID, ID[*] or "
				      "ID[axis=value,...]", f->name, l[i]);
	if (!r && n == 0)
		r = field_err(x, f, "'%s' must be \"all\", a list of cells or an array of them",
			      f->name);
	cells_release(c, f);
	if (r || (n == 1 && !strcmp(l[0], "all"))) {
		cells_free(l, n);
		return r;
	}
	c->scenarios = l;
	c->nscenarios = n;
	return 0;
}

static int cells_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	json_t *seen;	/* entry -> its index */
	size_t i;

	if (json_is_string(v))
		return cells_parse_string(x, f, json_string_value(v), c);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return field_err(x, f, "'%s' must be \"all\" or a non-empty array of cells "
				 "(ID, ID[*] or ID[axis=value,...])", f->name);
	cells_release(c, f);
	c->scenarios = xcalloc(json_array_size(v), sizeof(char *));
	seen = json_object();
	for (i = 0; i < json_array_size(v); i++) {
		json_t *n = json_array_get(v, i);
		char path[64];
		json_t *first;

		snprintf(path, sizeof(path), "/%s/%zu", f->name, i);
		if (!json_is_string(n) || (strcmp(json_string_value(n), "all") &&
					   !cells_id_ok(json_string_value(n), 1))) {
			json_decref(seen);
			return cfg_err(x, path, "%s[%zu] must be all or a cell: ID, ID[*] or "
				       "ID[axis=value,...]", f->name, i);
		}
		first = json_object_get(seen, json_string_value(n));
		if (first) {
			json_int_t j = json_integer_value(first);

			json_decref(seen);
			return cfg_err(x, path, "%s[%zu]: '%s' is named twice (%s[%" JSON_INTEGER_FORMAT
				       "] too): name an entry once", f->name, i, json_string_value(n),
				       f->name, j);
		}
		json_object_set_new(seen, json_string_value(n), json_integer((json_int_t)i));
		c->scenarios[c->nscenarios++] = xstrdup(json_string_value(n));
	}
	json_decref(seen);
	return 0;
}

static int cell_reps_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	const char *id;
	json_t *n;

	if (json_is_string(v)) {
		struct kf_error e2;

		if (config_add_scenario_reps(c, json_string_value(v), f->name, &e2) < 0)
			return field_err(x, f, "%s: %s", f->name, e2.text);
		return 0;
	}
	if (!json_is_object(v))
		return field_err(x, f, "'%s' must be an object of cell: repetitions (or a string "
				 "\"CELL=N,...\")", f->name);
	json_object_foreach(v, id, n) {
		char path[CELLS_ID_MAX + 64];

		snprintf(path, sizeof(path), "/%s/%s", f->name, id);
		if (!cells_id_ok(id, 0))
			return cfg_err(x, path, "%s: '%s' is not a cell (ID or ID[axis=value,...])",
				       f->name, id);
		if (!json_is_integer(n) || json_integer_value(n) < f->lo ||
		    json_integer_value(n) > f->hi)
			return cfg_err(x, path, "%s.%s must be an integer from %ld to %ld", f->name,
				       id, f->lo, f->hi);
		scenario_reps_set(c, id, (int)json_integer_value(n));
	}
	return 0;
}

/*
 * Where each of the @n values of the array at @path begins, in one pass over
 * the text: finding each with sc_locate() would scan from the start for every
 * one (a config of 20,000 kernels took 9 s that way). Entries the scan cannot
 * reach stay at 1:1.
 */
static struct scan *sc_elements(struct ctx *x, const char *path, size_t n)
{
	struct scan *at = xcalloc(n ? n : 1, sizeof(*at)), s = { x->text, 1, 1 };
	size_t i;

	for (i = 0; i < n; i++)
		at[i] = s;
	if (sc_locate(&s, path) < 0 || *s.p != '[')
		return at;
	sc_adv(&s);
	for (i = 0; i < n; i++) {
		sc_ws(&s);
		at[i] = s;
		if (sc_value(&s) < 0)
			break;
		sc_ws(&s);
		if (*s.p != ',')
			break;
		sc_adv(&s);
	}
	return at;
}

static int kernels_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	struct scan *at;
	json_t *seen;	/* name -> its index: a hash, not a rescan per kernel */
	char path[64];
	size_t i;
	int ret = -1;

	if (!v)
		return cfg_err(x, "", "missing field '%s' (a list of {\"name\", \"path\" or \"deb\"})",
			       f->name);
	if (!json_is_array(v))
		return field_err(x, f, "'%s' must be an array, not %s", f->name, type_name(v));
	snprintf(path, sizeof(path), "/%s", f->name);
	at = sc_elements(x, path, json_array_size(v));
	seen = json_object();
	c->kernels = xcalloc(json_array_size(v), sizeof(*c->kernels));
	for (i = 0; i < json_array_size(v); i++) {
		json_t *first;

		if (parse_kernel(x, json_array_get(v, i), i, &at[i], &c->kernels[i]) < 0)
			goto cleanup;
		c->nkernels++;
		first = json_object_get(seen, c->kernels[i].name);
		if (first) {
			snprintf(path, sizeof(path), "/%s/%zu/name", f->name, i);
			cfg_err(x, path, "duplicate kernel name '%s' (kernels[%" JSON_INTEGER_FORMAT
				"] has it)", c->kernels[i].name, json_integer_value(first));
			goto cleanup;
		}
		json_object_set_new(seen, c->kernels[i].name, json_integer((json_int_t)i));
	}
	ret = 0;
cleanup:
	json_decref(seen);
	free(at);
	return ret;
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* A field without a default is left out while it is 0 ("seed": a new one per run). */
static json_t *int_dump(const struct config *c, const struct field *f)
{
	int v = *int_of(c, f);

	return !v && !f->def ? NULL : json_integer(v);
}

static json_t *str_dump(const struct config *c, const struct field *f)
{
	const char *s = str_of(c, f);

	return s ? json_string(s) : NULL;
}

static json_t *smp_dump(const struct config *c, const struct field *f)
{
	json_t *a;
	int i;

	if (count_of(c, f) == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < count_of(c, f); i++)
		json_array_append_new(a, json_integer(int_of(c, f)[i]));
	return a;
}

/* No list is the default, "all". */
static json_t *cells_dump(const struct config *c, const struct field *f)
{
	if (!c->scenarios)
		return json_loads(f->def, JSON_DECODE_ANY, NULL);
	return strv_json(c->scenarios, c->nscenarios);
}

static json_t *cell_reps_dump(const struct config *c, const struct field *f)
{
	json_t *o;
	size_t i;

	(void)f;
	if (!c->nscenario_reps)
		return NULL;
	o = json_object();
	for (i = 0; i < c->nscenario_reps; i++)
		json_object_set_new(o, c->scenario_reps[i].id, json_integer(c->scenario_reps[i].reps));
	return o;
}

static json_t *build_json(const struct build_spec *b)
{
	json_t *j = b->git ? json_pack("{s:s, s:s}", "git", b->git, "rev", b->rev) :
			     json_pack("{s:s}", "source", b->source);

	if (b->source_sha256)
		json_object_set_new(j, "sha256", json_string(b->source_sha256));
	json_object_set_new(j, "patches", strv_json(b->patches, b->npatches));
	json_object_set_new(j, "config", json_string(b->base));
	json_object_set_new(j, "fragments", strv_json(b->fragments, b->nfragments));
	return j;
}

static json_t *kernels_dump(const struct config *c, const struct field *f)
{
	json_t *a = json_array();
	size_t i;

	(void)f;
	for (i = 0; i < c->nkernels; i++) {
		const struct kernel_spec *k = &c->kernels[i];
		json_t *j = json_pack("{s:s}", "name", k->name);

		if (k->build)
			json_object_set_new(j, "build", build_json(k->build));
		else
			json_object_set_new(j, config_kernel_kind_name(k->kind), json_string(k->arg));
		if (k->sha256)
			json_object_set_new(j, "sha256", json_string(k->sha256));
		json_array_append_new(a, j);
	}
	return a;
}

static int int_set(struct config *c, const struct field *f, const char *s, const char *what,
		   struct kf_error *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < f->lo || v > f->hi)
		return error_set(e, what, 0, 0, "'%s' is not a number from %ld to %ld", s, f->lo,
				 f->hi);
	*int_at(c, f) = (int)v;
	return 0;
}

static int str_set(struct config *c, const struct field *f, const char *s, const char *what,
		   struct kf_error *e)
{
	char list[128];

	if (f->choices && !choice_ok(f, s))
		return error_set(e, what, 0, 0, "'%s' is not %s", s,
				 choices_text(f, 0, list, sizeof(list)));
	free(*str_at(c, f));
	*str_at(c, f) = xstrdup(s);
	return 0;
}

/* "1,2,4,8": the same rules as the config's array, each refusal naming the entry. */
static int smp_set(struct config *c, const struct field *f, const char *s, const char *what,
		   struct kf_error *e)
{
	int v[CONFIG_MAX_SMP], n = 0, i;
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, ",");
		char *end;
		long x;

		errno = 0;
		x = strtol(p, &end, 10);
		if (len == 0 || end != p + len || errno || *p == ' ' || *p == '+')
			return error_set(e, what, 0, 0, "'%s' is not a list of vCPU counts like "
					 "1,2,4,8: '%.*s' is not a number", s, (int)len, p);
		if (x < f->lo || x > f->hi)
			return error_set(e, what, 0, 0, "'%s': %.*s is not a vCPU count from %ld to "
					 "%ld", s, (int)len, p, f->lo, f->hi);
		for (i = 0; i < n && v[i] != (int)x; i++)
			;
		if (i < n)
			return error_set(e, what, 0, 0, "'%s' names %ld twice: a size is given once",
					 s, x);
		if (n == CONFIG_MAX_SMP)
			return error_set(e, what, 0, 0, "'%s' has more than %d SMP sizes", s,
					 CONFIG_MAX_SMP);
		v[n++] = (int)x;
		if (!p[len])
			break;
		p += len + 1;
	}
	memcpy(int_at(c, f), v, (size_t)n * sizeof(int));
	*count_at(c, f) = n;
	return 0;
}

static int cell_reps_set(struct config *c, const struct field *f, const char *s,
			 const char *what, struct kf_error *e)
{
	(void)f;
	return config_add_scenario_reps(c, s, what, e);
}

static void str_release(struct config *c, const struct field *f)
{
	free(*str_at(c, f));
	*str_at(c, f) = NULL;
}

static void cell_reps_release(struct config *c, const struct field *f)
{
	size_t i;

	(void)f;
	for (i = 0; i < c->nscenario_reps; i++)
		free(c->scenario_reps[i].id);
	free(c->scenario_reps);
	c->scenario_reps = NULL;
	c->nscenario_reps = 0;
}

static void kernels_release(struct config *c, const struct field *f)
{
	size_t i;

	(void)f;
	for (i = 0; i < c->nkernels; i++)
		config_kernel_release(&c->kernels[i]);
	free(c->kernels);
	c->kernels = NULL;
	c->nkernels = 0;
}

/* What a field type does: NULL where it does nothing (FT_TEXT is not kept). */
static int nightly_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	char path[256], sub[300], msg[512];

	if (nightly_check(v, path, sizeof(path), msg, sizeof(msg)) < 0) {
		snprintf(sub, sizeof(sub), "%s%s", f->name, path);
		return sub_err(x, "", sub, "%s", msg);
	}
	json_decref(c->nightly);
	c->nightly = json_deep_copy(v);
	return 0;
}

static json_t *nightly_dump(const struct config *c, const struct field *f)
{
	(void)f;
	return c->nightly ? json_deep_copy(c->nightly) : NULL;
}

static void nightly_release(struct config *c, const struct field *f)
{
	(void)f;
	json_decref(c->nightly);
	c->nightly = NULL;
}

/* "hosts": [{"uri": URI, "slots": N, "pool": NAME, "pool_path": DIR}, ...] */
static int hosts_parse(struct ctx *x, const struct field *f, json_t *v, struct config *c)
{
	static const char *const keys[] = { "uri", "slots", "pool", "pool_path" };
	char sub[300], at[64];
	json_t *h, *kv;
	const char *k;
	size_t i, j;

	if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 64)
		return sub_err(x, "", f->name, "'hosts' must be an array of 1 to 64 hosts");
	json_array_foreach(v, i, h) {
		const char *uri = json_string_value(json_object_get(h, "uri"));
		const char *pool = json_string_value(json_object_get(h, "pool"));
		const char *pp = json_string_value(json_object_get(h, "pool_path"));
		json_t *slots = json_object_get(h, "slots");

		snprintf(sub, sizeof(sub), "%s/%zu", f->name, i);
		snprintf(at, sizeof(at), "%s[%zu]", f->name, i);
		if (!json_is_object(h))
			return sub_err(x, "", sub, "%s: a host is an object {\"uri\", \"slots\", "
				       "\"pool\", \"pool_path\"}", at);
		json_object_foreach(h, k, kv) {
			for (j = 0; j < sizeof(keys) / sizeof(keys[0]) && strcmp(k, keys[j]); j++)
				;
			if (j == sizeof(keys) / sizeof(keys[0]))
				return sub_err(x, "", sub, "%s: unknown key \"%s\" (uri, slots, "
					       "pool, pool_path)", at, k);
		}
		if (!uri || !*uri || strchr(uri, '\'') || strchr(uri, '<'))
			return sub_err(x, "", sub, "%s: \"uri\" is a libvirt URI, e.g. "
				       "\"qemu:///system\"", at);
		if (slots && (!json_is_integer(slots) || json_integer_value(slots) < 1 ||
			      json_integer_value(slots) > 256))
			return sub_err(x, "", sub, "%s: \"slots\" is 1 to 256 vCPUs at once",
				       at);
		if (json_object_get(h, "pool") && (!pool || !*pool ||
		    strspn(pool, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(pool)))
			return sub_err(x, "", sub, "%s: \"pool\" is a storage pool name "
				       "([A-Za-z0-9_.-])", at);
		if (json_object_get(h, "pool_path") && (!pp || pp[0] != '/' || strchr(pp, '<') ||
							strchr(pp, '\'')))
			return sub_err(x, "", sub, "%s: \"pool_path\" is an absolute "
				       "directory on the host", at);
	}
	json_decref(c->hosts);
	c->hosts = json_deep_copy(v);
	return 0;
}

static json_t *hosts_dump(const struct config *c, const struct field *f)
{
	(void)f;
	return c->hosts ? json_deep_copy(c->hosts) : NULL;
}

static void hosts_release(struct config *c, const struct field *f)
{
	(void)f;
	json_decref(c->hosts);
	c->hosts = NULL;
}

static const struct ftype_ops {
	/* @v is NULL only for a required field that is missing */
	int (*parse)(struct ctx *x, const struct field *f, json_t *v, struct config *c);
	json_t *(*dump)(const struct config *c, const struct field *f);	/* NULL: left out */
	int (*set)(struct config *c, const struct field *f, const char *s, const char *what,
		   struct kf_error *e);
	void (*release)(struct config *c, const struct field *f);
} ftypes[] = {
	[FT_TEXT] = { text_parse, NULL, NULL, NULL },
	[FT_INT] = { int_parse, int_dump, int_set, NULL },
	[FT_STR] = { str_parse, str_dump, str_set, str_release },
	[FT_DIR] = { dir_parse, str_dump, NULL, str_release },
	[FT_SMP] = { smp_parse, smp_dump, smp_set, NULL },
	[FT_CELLS] = { cells_parse, cells_dump, NULL, cells_release },
	[FT_CELL_REPS] = { cell_reps_parse, cell_reps_dump, cell_reps_set, cell_reps_release },
	[FT_KERNELS] = { kernels_parse, kernels_dump, NULL, kernels_release },
	[FT_NIGHTLY] = { nightly_parse, nightly_dump, NULL, nightly_release },
	[FT_HOSTS] = { hosts_parse, hosts_dump, NULL, hosts_release },
};

#define OFF(m) offsetof(struct config, m)
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const spaces[] = { "base", "sample", "full", NULL };
static const char *const accels[] = { "auto", "kvm", "tcg", NULL };
static const char *const tcg_threads[] = { "single", "multi", NULL };
static const char *const firmwares[] = { "qboot", "seabios", NULL };

/* In the order `kfarm config` prints them. */
static const struct field fields[] = {
	{ .name = "description", .type = FT_TEXT, .absent = "none",
	  .help = "what the config is for; kfarm does not use it" },
	{ .name = "kernels", .type = FT_KERNELS,
	  .help = "the kernels: objects with a name and one source (below)" },
	{ .name = "smp", .type = FT_SMP, .off = OFF(smp), .noff = OFF(nsmp), .lo = 1,
	  .hi = CONFIG_SMP_MAX,
	  .def = "[1, 2, 4, 8]", .help = "the SMP sizes every kernel boots at" },
	{ .name = "reps", .type = FT_INT, .off = OFF(reps), .lo = 1, .hi = REPS_MAX, .def = "20",
	  .help = "repetitions of a cell in a guest (a racy cell: a multiple of it, split over "
		  "the boots)" },
	{ .name = "boots", .type = FT_INT, .off = OFF(boots), .lo = 1, .hi = CONFIG_BOOTS_MAX,
	  .def = STR(CONFIG_BOOTS_DEFAULT),
	  .help = "guests per kernel and SMP size over which a racy cell's repetitions are "
		  "split" },
	{ .name = "seed", .type = FT_INT, .off = OFF(seed), .lo = 0, .hi = INT_MAX,
	  .absent = "a new one per run, recorded in run.json",
	  .help = "the order of blocks and scenarios; 0 is as if it were left out" },
	{ .name = "timeout_ms", .type = FT_INT, .off = OFF(timeout_ms), .lo = 100, .hi = 600000,
	  .def = "10000", .help = "the deadline of a repetition, enforced in the guest" },
	{ .name = "scenarios", .type = FT_CELLS, .def = "\"all\"",
	  .help = "the cells to run: all, ID (its plain cell), ID[*] (its cells in the space) "
		  "or a cell id" },
	{ .name = "scenario_reps", .type = FT_CELL_REPS, .lo = 1, .hi = REPS_MAX, .absent = "none",
	  .help = "exact repetitions for some cells, overriding every other rule" },
	{ .name = "space", .type = FT_STR, .off = OFF(space), .choices = spaces, .def = "\"sample\"",
	  .help = "what all and ID[*] take of a scenario: its plain cell, the pairwise sample of "
		  "its axes, or every feasible combination" },
	{ .name = "variant_reps", .type = FT_INT, .off = OFF(variant_reps), .lo = 1,
	  .hi = REPS_MAX, .def = STR(CONFIG_VARIANT_REPS_DEFAULT),
	  .help = "repetitions of a cell that varies an axis (a variant cell)" },
	{ .name = "variant_smp", .type = FT_SMP, .off = OFF(variant_smp), .noff = OFF(nvariant_smp),
	  .lo = 1, .hi = CONFIG_SMP_MAX, .absent = "the run's two smallest SMP sizes",
	  .help = "SMP sizes of the run that run variant cells" },
	{ .name = "memory_mb", .type = FT_INT, .off = OFF(memory_mb), .lo = 64, .hi = 65536,
	  .def = "256", .help = "each guest's memory, in MiB" },
	{ .name = "parallel", .type = FT_INT, .off = OFF(parallel), .lo = 0, .hi = 256,
	  .def = "0", .help = "guests at once (0: as many as the host has cores take, a guest "
		  "weighing the cores it keeps busy: one under single-threaded TCG, else its "
		  "vCPUs up to all of them)" },
	{ .name = "accel", .type = FT_STR, .off = OFF(accel), .choices = accels, .def = "\"auto\"",
	  .help = "QEMU's accelerator; auto boots a KVM canary and falls back to TCG when it "
		  "gives no sign of life" },
	{ .name = "tcg_threads", .type = FT_STR, .off = OFF(tcg_threads), .choices = tcg_threads,
	  .def = "\"single\"",
	  .help = "how QEMU runs a TCG guest's vCPUs: single: all in one host thread, taking "
		  "turns (a guest keeps one core busy whatever its SMP size; QEMU's "
		  "thread=single), multi: a thread each (MTTCG; vCPUs beyond the host's cores "
		  "wait for them); libvirt hosts run multi" },
	{ .name = "firmware", .type = FT_STR, .off = OFF(firmware), .choices = firmwares,
	  .def = "\"qboot\"",
	  .help = "the guests' BIOS: qboot (QEMU's minimal one, qboot.rom: it hands over to "
		  "the kernel sooner) or seabios (QEMU's default); libvirt hosts run their "
		  "default" },
	{ .name = "boot_timeout_s", .type = FT_INT, .off = OFF(boot_timeout_s), .lo = 5,
	  .hi = 3600, .def = "120", .help = "a guest with no sign of life by then is boot-failed" },
	{ .name = "canary_timeout_s", .type = FT_INT, .off = OFF(canary_timeout_s), .lo = 1,
	  .hi = 120, .def = "5", .help = "the KVM canary's deadline" },
	{ .name = "qemu", .type = FT_STR, .off = OFF(vm_binary), .def = "\"qemu-system-x86_64\"",
	  .flags = FIELD_NONEMPTY, .help = "the QEMU binary" },
	{ .name = "output", .type = FT_STR, .off = OFF(output_dir), .def = "\"reports\"",
	  .flags = FIELD_IN_TOP | FIELD_NONEMPTY,
	  .help = "where runs go, a folder each, and their index (index.sqlite, exported "
		  "to index.json; the default is in kfarm's folder)" },
	{ .name = "cmdline", .type = FT_STR, .off = OFF(cmdline), .def = "\"\"",
	  .help = "extra kernel command line" },
	{ .name = "cache", .type = FT_DIR, .off = OFF(cache_dir), .flags = FIELD_NONEMPTY,
	  .absent = "$KFARM_CACHE, else $XDG_CACHE_HOME/kfarm, else ~/.cache/kfarm",
	  .help = "where fetched and built kernels are kept" },
	{ .name = "nightly", .type = FT_NIGHTLY, .absent = "no schedule",
	  .help = "kfarmd's own comparisons: {\"at\": \"HH:MM\" or \"cron\": \"M H DOM MON DOW\", "
		  "\"compare\": [{\"a\": K, \"b\": K}], and optionally smp, reps, boots, "
		  "scenarios}" },
	{ .name = "hosts", .type = FT_HOSTS, .absent = "QEMU on this machine",
	  .help = "run the guests as libvirt domains on these hypervisor hosts: [{\"uri\": "
		  "\"qemu:///system\", \"slots\": the vCPUs its guests take at once (its CPUs), \"pool\": the storage "
		  "pool images go to (\"kfarm\"), \"pool_path\": its folder when kfarm creates it "
		  "(/var/lib/libvirt/POOL)}]" },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *field_find(const char *name)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* Sets @f to its default, parsed as a config's value is. */
static void field_default(struct config *c, const struct field *f)
{
	struct kf_error e;
	struct ctx x = { f->def, "<defaults>", &e, NULL };
	json_t *v = json_loads(f->def, JSON_DECODE_ANY, NULL);

	if (!v || ftypes[f->type].parse(&x, f, v, c) < 0)
		fatalx("config: the default of '%s' (%s) does not parse", f->name, f->def);
	json_decref(v);
	if (f->flags & FIELD_IN_TOP) {
		char **s = str_at(c, f), *abs = xasprintf("%s/%s", KFARM_TOP, *s);

		free(*s);
		*s = abs;
	}
}

void config_init(struct config *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->source = xstrdup("<defaults>");
	for (i = 0; i < NFIELDS; i++)
		if (fields[i].def)
			field_default(c, &fields[i]);
}

void config_release(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < NFIELDS; i++)
		if (ftypes[fields[i].type].release)
			ftypes[fields[i].type].release(c, &fields[i]);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

int config_space_ok(const char *s)
{
	return s && choice_ok(field_find("space"), s);
}

int config_set_text(struct config *c, const char *name, const char *text, const char *what,
		    struct kf_error *e)
{
	const struct field *f = field_find(name);

	if (!f || !ftypes[f->type].set)
		return error_set(e, what, 0, 0, "the config's '%s' cannot be given on the command "
				 "line", name);
	return ftypes[f->type].set(c, f, text, what, e);
}

static int parse_top(struct ctx *x, json_t *root, struct config *c)
{
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(root))
		return cfg_err(x, "", "the config must be a JSON object, not %s", type_name(root));
	json_object_foreach(root, key, v) {
		char path[300];

		snprintf(path, sizeof(path), "/%s", key);
		if (!field_find(key))
			return cfg_err(x, path, "unknown field '%s'", key);
	}
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];

		v = json_object_get(root, f->name);
		/* A required field (no default, and nothing said of its absence) parses missing. */
		if ((v || (!f->def && !f->absent)) && ftypes[f->type].parse(x, f, v, c) < 0)
			return -1;
	}
	/* The config's cache is where each of its kernels is looked for. */
	for (i = 0; c->cache_dir && i < c->nkernels; i++)
		c->kernels[i].cache_dir = xstrdup(c->cache_dir);
	return 0;
}

json_t *config_to_json(const struct config *c)
{
	json_t *o = json_object(), *v;
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];

		v = ftypes[f->type].dump ? ftypes[f->type].dump(c, f) : NULL;
		if (v)
			json_object_set_new(o, f->name, v);
	}
	return o;
}

char *config_dump(const struct config *c)
{
	json_t *o = config_to_json(c);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(o);
	return s;
}

const char *config_field_name(size_t i)
{
	return i < NFIELDS ? fields[i].name : NULL;
}

static void field_takes(const struct field *f, char *buf, size_t n)
{
	switch (f->type) {
	case FT_TEXT: snprintf(buf, n, "a string"); break;
	case FT_INT: snprintf(buf, n, "an integer from %ld to %ld", f->lo, f->hi); break;
	case FT_STR:
		if (f->choices)
			choices_text(f, 1, buf, n);
		else
			snprintf(buf, n, "a %sstring", f->flags & FIELD_NONEMPTY ? "non-empty " : "");
		break;
	case FT_DIR: snprintf(buf, n, "a folder (a relative one starts at the config's; not \"\")"); break;
	case FT_SMP:
		snprintf(buf, n, "an array of 1 to %d vCPU counts from %ld to %ld", CONFIG_MAX_SMP,
			 f->lo, f->hi);
		break;
	case FT_CELLS: snprintf(buf, n, "\"all\", an array of cells or a ','-separated string"); break;
	case FT_CELL_REPS:
		snprintf(buf, n, "an object of cell: %ld to %ld repetitions, or \"CELL=N,...\"",
			 f->lo, f->hi);
		break;
	case FT_KERNELS: snprintf(buf, n, "an array of kernels"); break;
	case FT_NIGHTLY: snprintf(buf, n, "an object (local time)"); break;
	case FT_HOSTS: snprintf(buf, n, "an array of hosts"); break;
	}
}

int config_field_doc(const char *name, struct config_doc *d)
{
	const struct field *f = field_find(name);

	if (!f)
		return -1;
	d->name = f->name;
	field_takes(f, d->takes, sizeof(d->takes));
	d->def = f->def;
	d->absent = f->absent;
	d->help = f->help;
	return 0;
}

char *config_doc_markdown(void)
{
	char *out = xstrdup("| field | takes | default | what for |\n|---|---|---|---|\n"), *row;
	struct config_doc d;
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		config_field_doc(fields[i].name, &d);
		row = xasprintf("%s| `%s` | %s | %s%s%s | %s |\n", out, d.name, d.takes,
				d.def ? "`" : "", d.def ? d.def : d.absent ? d.absent : "required",
				d.def ? "`" : "", d.help);
		free(out);
		out = row;
	}
	return out;
}

int config_load_string(struct config *c, const char *text, const char *source,
		       struct kf_error *e)
{
	struct ctx x = { text, source, e, NULL };
	const char *slash = strrchr(source, '/');
	json_error_t je;
	json_t *root;
	int ret;

	free(c->source);
	c->source = xstrdup(source);
	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return error_set(e, source, je.line, je.column, "invalid JSON: %s", je.text);
	/* Sources that are not files ("<embedded ...>") resolve from the current folder. */
	if (source[0] != '<') {
		char *d = slash ? strndup(source, (size_t)(slash - source)) : xstrdup(".");

		/* Absolute: builds run patch and make in other folders. */
		x.dir = realpath(*d ? d : "/", NULL);
		if (!x.dir)
			x.dir = xstrdup(d);
		free(d);
	}
	ret = parse_top(&x, root, c);
	free(x.dir);
	json_decref(root);
	return ret;
}

int config_load_file(struct config *c, const char *path, struct kf_error *e)
{
	char *text = util_read_file_max(path, CONFIG_FILE_MAX, NULL, e);
	int ret;

	if (!text && errno == EFBIG)
		return error_set(e, path, 0, 0, "larger than %u MiB, the most kfarm reads of a config "
				 "(CONFIG_FILE_MAX)", CONFIG_FILE_MAX >> 20);
	if (!text)
		return -1;
	ret = config_load_string(c, text, path, e);
	free(text);
	return ret;
}

int config_load_default(struct config *c, struct kf_error *e)
{
	return config_load_string(c, config_default_json, "<embedded configs/default.json>", e);
}

int config_kernel_parse(const char *spec, struct kernel_spec *k, struct kf_error *e)
{
	const char *colon = strchr(spec, ':');
	const char *arg, *base;
	char name[65], *q;
	size_t i, n = 0;

	memset(k, 0, sizeof(*k));
	if (!colon || colon[1] == '\0')
		return error_set(e, spec, 0, 0,
				 "not a kernel: expected a name from the config, "
				 "path:/file/bzImage, deb:PACKAGE or url:URL");
	arg = colon + 1;
	if (is_url(spec)) {
		k->kind = KERNEL_URL;
		arg = spec;
	} else if (strncmp(spec, "url:", 4) == 0) {
		k->kind = KERNEL_URL;
		if (!is_url(arg))
			return error_set(e, spec, 0, 0, "url: must start with http://, https:// or "
					 "file://");
	}
	if (k->kind == KERNEL_URL) {
		char *trimmed = strndup(arg, strcspn(arg, "?#"));

		base = strrchr(trimmed, '/');
		base = base && base[1] ? base + 1 : "kernel";
		snprintf(name, sizeof(name), "%s", base);
		free(trimmed);
		base = name;
	} else if (strncmp(spec, "path:", 5) == 0) {
		k->kind = KERNEL_PATH;
		base = strrchr(arg, '/');
		base = base ? base + 1 : arg;
	} else if (strncmp(spec, "deb:", 4) == 0) {
		k->kind = KERNEL_DEB;
		base = arg;
	} else {
		return error_set(e, spec, 0, 0, "unknown kernel source '%.*s' (known: path, deb, url)",
				 (int)(colon - spec), spec);
	}
	q = xstrdup(base);
	for (i = 0; q[i] && n < sizeof(name) - 1; i++) {
		char ch = q[i];

		name[n++] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
			     ch == '+' || ch == '-') ? ch : '_';
	}
	name[n] = '\0';
	free(q);
	if (!config_name_ok(name))
		snprintf(name, sizeof(name), "kernel");
	k->name = xstrdup(name);
	k->arg = xstrdup(arg);
	k->origin = xstrdup("command line");
	return 0;
}

void config_kernel_names_unique(struct kernel_spec *ks, size_t n)
{
	json_t *given = json_object(), *taken = json_object();	/* name -> true */
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(given, ks[i].name, json_true());
	for (i = 0; i < n; i++) {
		char *name = NULL;
		unsigned k;

		if (json_object_get(taken, ks[i].name)) {
			for (k = 1;; k++) {
				char suffix[16];

				if (k < 26)
					snprintf(suffix, sizeof(suffix), "-%c", 'a' + k);
				else
					snprintf(suffix, sizeof(suffix), "-%u", k + 1);
				/* the name cut so that it stays a name (64 characters at most) */
				name = xasprintf("%.*s%s", (int)(64 - strlen(suffix)), ks[i].name,
						 suffix);
				if (!json_object_get(given, name) && !json_object_get(taken, name))
					break;
				free(name);
			}
			free(ks[i].name);
			ks[i].name = name;
		}
		json_object_set_new(taken, ks[i].name, json_true());
	}
	json_decref(given);
	json_decref(taken);
}

/* @ks, a kernel built from git, at revision @rev (NAME@REV): a copy in @k, named NAME-REV. */
static int select_rev(const struct kernel_spec *ks, const char *rev, struct kernel_spec *k,
		      struct kf_error *e)
{
	char name[65], *p;

	if (!ks->build || !ks->build->git)
		return error_set(e, ks->origin, 0, 0, "kernel '%s@%s': '%s' is not built from a git "
				 "repository (\"build\": {\"git\": DIR}), so it has no revisions",
				 ks->name, rev, ks->name);
	if (!config_rev_ok(rev))
		return error_set(e, ks->origin, 0, 0, "kernel '%s@%s': '%s' is not a git revision "
				 "(1-200 characters, none a space or control, not starting with '-')",
				 ks->name, rev, rev);
	config_kernel_copy(k, ks);
	free(k->build->rev);
	k->build->rev = xstrdup(rev);
	snprintf(name, sizeof(name), "%s-%s", ks->name, rev);
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '+' || *p == '-'))
			*p = '_';
	free(k->name);
	k->name = xstrdup(name);
	return 0;
}

int config_select_kernel(const struct config *c, const char *what,
			 struct kernel_spec *k, struct kf_error *e)
{
	char known[512] = "";
	size_t i;

	for (i = 0; i < c->nkernels; i++) {
		if (strcmp(c->kernels[i].name, what) == 0) {
			config_kernel_copy(k, &c->kernels[i]);
			return 0;
		}
	}
	if (strrchr(what, '@')) {
		const char *at = strrchr(what, '@');

		for (i = 0; i < c->nkernels; i++)
			if (strlen(c->kernels[i].name) == (size_t)(at - what) &&
			    !strncmp(c->kernels[i].name, what, (size_t)(at - what)))
				return select_rev(&c->kernels[i], at + 1, k, e);
	}
	if (strchr(what, ':')) {
		if (config_kernel_parse(what, k, e) < 0)
			return -1;
		if (c->cache_dir)
			k->cache_dir = xstrdup(c->cache_dir);
		return 0;
	}
	for (i = 0; i < c->nkernels; i++) {
		size_t len = strlen(known);

		snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "", c->kernels[i].name);
	}
	return error_set(e, c->source, 0, 0,
			 "unknown kernel '%s' (the config names: %s; or give path:FILE, deb:PACKAGE "
			 "or url:URL)",
			 what, c->nkernels ? known : "none");
}

