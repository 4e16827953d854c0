/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cells.h"
#include "config.h"
#include "util.h"

/* Generated from configs/default.json by the Makefile. */
extern const char config_default_json[];

void config_init(struct config *c)
{
	static const int smp[] = { 1, 2, 4, 8 };

	memset(c, 0, sizeof(*c));
	c->source = xstrdup("<defaults>");
	memcpy(c->smp, smp, sizeof(smp));
	c->nsmp = 4;
	c->reps = 20;
	c->boots = CONFIG_BOOTS_DEFAULT;
	c->timeout_ms = 10000;
	c->memory_mb = 256;
	c->parallel = 0;
	c->accel = xstrdup("auto");
	c->boot_timeout_s = 120;
	c->canary_timeout_s = 5;
	c->qemu = xstrdup("qemu-system-x86_64");
	c->output_dir = xstrdup(KFARM_TOP "/reports");
	c->cmdline = xstrdup("");
	c->space = xstrdup("sample");
	c->variant_reps = CONFIG_VARIANT_REPS_DEFAULT;
}

const char *config_kernel_kind_name(enum kernel_kind kind)
{
	switch (kind) {
	case KERNEL_PATH: return "path";
	case KERNEL_DEB: return "deb";
	case KERNEL_URL: return "url";
	case KERNEL_BUILD: return "build";
	}
	return "?";
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
		dst->build->source = xstrdup(b->source);
		dst->build->source_sha256 = xstrdup_null(b->source_sha256);
		dst->build->patches = copy_strv(b->patches, b->npatches);
		dst->build->npatches = b->npatches;
		dst->build->base = xstrdup(b->base);
		dst->build->fragments = copy_strv(b->fragments, b->nfragments);
		dst->build->nfragments = b->nfragments;
	}
}

void config_release(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nkernels; i++)
		config_kernel_release(&c->kernels[i]);
	free(c->kernels);
	for (i = 0; i < c->nscenarios; i++)
		free(c->scenarios[i]);
	free(c->scenarios);
	for (i = 0; i < c->nscenario_reps; i++)
		free(c->scenario_reps[i].id);
	free(c->scenario_reps);
	free(c->source);
	free(c->accel);
	free(c->qemu);
	free(c->output_dir);
	free(c->cmdline);
	free(c->cache_dir);
	free(c->space);
	memset(c, 0, sizeof(*c));
}

int config_space_ok(const char *s)
{
	return s && (!strcmp(s, "base") || !strcmp(s, "sample") || !strcmp(s, "full"));
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

static void sc_adv(struct scan *s)
{
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

/*
 * An array of 1 to CONFIG_MAX_SMP vCPU counts (1..64) under @key into @out
 * (@what qualifies the error about the array itself); -1 with the error set.
 */
static int get_smp_array(struct ctx *x, json_t *v, const char *key, const char *what, int *out,
			 int *nout)
{
	char path[64];
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > CONFIG_MAX_SMP) {
		snprintf(path, sizeof(path), "/%s", key);
		return cfg_err(x, path, "'%s' must be an array of 1 to %d vCPU counts%s", key,
			       CONFIG_MAX_SMP, what);
	}
	*nout = 0;
	for (i = 0; i < json_array_size(v); i++) {
		json_t *n = json_array_get(v, i);

		snprintf(path, sizeof(path), "/%s/%zu", key, i);
		if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 64)
			return cfg_err(x, path, "%s[%zu] must be an integer from 1 to 64", key, i);
		out[(*nout)++] = (int)json_integer_value(n);
	}
	return 0;
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

static int get_int(struct ctx *x, json_t *o, const char *key, int lo, int hi, int *out)
{
	json_t *v = json_object_get(o, key);
	char path[128];

	if (!v)
		return 0;
	snprintf(path, sizeof(path), "/%s", key);
	if (!json_is_integer(v))
		return cfg_err(x, path, "'%s' must be an integer, not %s", key, type_name(v));
	if (json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cfg_err(x, path, "'%s' must be between %d and %d, not %" JSON_INTEGER_FORMAT,
			       key, lo, hi, json_integer_value(v));
	*out = (int)json_integer_value(v);
	return 0;
}

static int get_str(struct ctx *x, json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);
	char path[128];

	if (!v)
		return 0;
	snprintf(path, sizeof(path), "/%s", key);
	if (!json_is_string(v))
		return cfg_err(x, path, "'%s' must be a string, not %s", key, type_name(v));
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
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

static int parse_build(struct ctx *x, json_t *b, const char *path, const char *name,
		       struct build_spec **out)
{
	static const char *const bases[] = { "tinyconfig", "defconfig", "allnoconfig", NULL };
	struct build_spec *bs;
	char sub[200];
	const char *key;
	json_t *v;
	size_t i;

	snprintf(sub, sizeof(sub), "%s/build", path);
	if (!json_is_object(b))
		return cfg_err(x, sub, "kernel '%s': 'build' must be an object "
			       "({\"source\", \"patches\", \"config\", \"fragments\"}), not %s",
			       name, type_name(b));
	json_object_foreach(b, key, v) {
		char kp[300];

		snprintf(kp, sizeof(kp), "%s/%s", sub, key);
		if (strcmp(key, "source") && strcmp(key, "sha256") && strcmp(key, "patches") &&
		    strcmp(key, "config") && strcmp(key, "fragments"))
			return cfg_err(x, kp, "kernel '%s': build: unknown field '%s' (known: source, "
				       "sha256, patches, config, fragments)", name, key);
	}
	*out = bs = xcalloc(1, sizeof(*bs));
	v = json_object_get(b, "source");
	if (!v)
		return cfg_err(x, sub, "kernel '%s': build: missing field 'source' (a tarball's URL "
			       "or file, or a directory)", name);
	if (!json_is_string(v) || !json_string_length(v)) {
		strcat(sub, "/source");
		return cfg_err(x, sub, "kernel '%s': build.source must be a non-empty string, not %s",
			       name, type_name(v));
	}
	bs->source = input_path(x, json_string_value(v));
	v = json_object_get(b, "sha256");
	if (v) {
		if (!json_is_string(v) || !sha256_ok(json_string_value(v))) {
			strcat(sub, "/sha256");
			return cfg_err(x, sub, "kernel '%s': build.sha256 must be 64 lowercase hex digits",
				       name);
		}
		bs->source_sha256 = xstrdup(json_string_value(v));
	}
	v = json_object_get(b, "config");
	if (v && (!json_is_string(v) || !json_string_length(v))) {
		strcat(sub, "/config");
		return cfg_err(x, sub, "kernel '%s': build.config must be tinyconfig, defconfig, "
			       "allnoconfig or a .config file, not %s", name, type_name(v));
	}
	for (i = 0; v && bases[i] && strcmp(bases[i], json_string_value(v)); i++)
		;
	if (!v)
		bs->base = xstrdup("tinyconfig");
	else if (bases[i])
		bs->base = xstrdup(bases[i]);
	else
		bs->base = input_path(x, json_string_value(v));
	{
		char pp[220], fp[220];

		snprintf(pp, sizeof(pp), "%s/build/patches", path);
		snprintf(fp, sizeof(fp), "%s/build/fragments", path);
		if (get_inputs(x, json_object_get(b, "patches"), pp, "build.patches",
			       &bs->patches, &bs->npatches) < 0 ||
		    get_inputs(x, json_object_get(b, "fragments"), fp, "build.fragments",
			       &bs->fragments, &bs->nfragments) < 0)
			return -1;
	}
	for (i = 0; i < bs->nfragments; i++) {
		if (is_url(bs->fragments[i])) {
			snprintf(sub, sizeof(sub), "%s/build/fragments/%zu", path, i);
			return cfg_err(x, sub, "kernel '%s': a config fragment must be a local file",
				       name);
		}
	}
	return 0;
}

static int parse_kernel(struct ctx *x, json_t *k, size_t i, struct kernel_spec *ks)
{
	static const char *const kinds[] = { "path", "deb", "url", "build" };
	static const enum kernel_kind kind_of[] = { KERNEL_PATH, KERNEL_DEB, KERNEL_URL,
						     KERNEL_BUILD };
	char path[128], origin[600];
	const char *key, *nm;
	json_t *v, *name;
	int found = -1;
	size_t j;
	struct scan s = { x->text, 1, 1 };

	snprintf(path, sizeof(path), "/kernels/%zu", i);
	if (!json_is_object(k))
		return cfg_err(x, path, "kernels[%zu] must be an object, not %s", i, type_name(k));
	json_object_foreach(k, key, v) {
		char sub[200];

		snprintf(sub, sizeof(sub), "%s/%s", path, key);
		if (strcmp(key, "name") != 0 && strcmp(key, "path") != 0 && strcmp(key, "deb") != 0 &&
		    strcmp(key, "url") != 0 && strcmp(key, "build") != 0 &&
		    strcmp(key, "sha256") != 0)
			return cfg_err(x, sub, "kernels[%zu]: unknown field '%s' (known: name, path, "
				       "deb, url, sha256, build)", i, key);
	}
	name = json_object_get(k, "name");
	if (!name)
		return cfg_err(x, path, "kernels[%zu]: missing field 'name'", i);
	if (!json_is_string(name)) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/name");
		return cfg_err(x, path, "kernels[%zu].name must be a string, not %s", i, type_name(name));
	}
	nm = json_string_value(name);
	if (!config_name_ok(nm)) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/name");
		return cfg_err(x, path, "kernels[%zu].name '%s' must be 1-64 characters of "
			       "A-Z a-z 0-9 . _ + -", i, nm);
	}
	for (j = 0; j < 4; j++) {
		v = json_object_get(k, kinds[j]);
		if (!v)
			continue;
		if (found >= 0)
			return cfg_err(x, path, "kernel '%s': give one of 'path', 'deb', 'url' or "
				       "'build', not both '%s' and '%s'", nm, kinds[found], kinds[j]);
		found = (int)j;
		if (kind_of[j] == KERNEL_BUILD)
			continue;
		if (!json_is_string(v) || !json_string_length(v)) {
			snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", kinds[j]);
			return cfg_err(x, path, "kernel '%s': '%s' must be a non-empty string, not %s",
				       nm, kinds[j], type_name(v));
		}
	}
	if (found < 0)
		return cfg_err(x, path, "kernel '%s': missing its source: 'path', 'deb', 'url' "
			       "or 'build'", nm);
	v = json_object_get(k, "sha256");
	if (v && kind_of[found] != KERNEL_URL) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/sha256");
		return cfg_err(x, path, "kernel '%s': 'sha256' pins a 'url' kernel (for a build's "
			       "source, put it in 'build')", nm);
	}
	if (v && (!json_is_string(v) || !sha256_ok(json_string_value(v)))) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/sha256");
		return cfg_err(x, path, "kernel '%s': 'sha256' must be 64 lowercase hex digits", nm);
	}
	if (kind_of[found] == KERNEL_URL && !is_url(json_string_value(json_object_get(k, "url")))) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/url");
		return cfg_err(x, path, "kernel '%s': 'url' must start with http://, https:// or "
			       "file://", nm);
	}
	sc_locate(&s, path);
	snprintf(origin, sizeof(origin), "%s:%d:%d", x->source, s.line, s.col);
	if (kind_of[found] == KERNEL_BUILD &&
	    parse_build(x, json_object_get(k, "build"), path, nm, &ks->build) < 0) {
		config_build_free(ks->build);
		ks->build = NULL;
		return -1;
	}
	ks->name = xstrdup(nm);
	ks->kind = kind_of[found];
	ks->arg = xstrdup(ks->build ? ks->build->source :
			  json_string_value(json_object_get(k, kinds[found])));
	ks->origin = xstrdup(origin);
	if (v)
		ks->sha256 = xstrdup(json_string_value(v));
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
	if (errno || *end || end == num || v < 1 || v > 100000 || !cells_id_ok(id, 0))
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
					"100000 repetitions", v[i]);
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

static int parse_top(struct ctx *x, json_t *root, struct config *c)
{
	static const char *const known[] = {
		"kernels", "smp", "reps", "timeout_ms", "scenarios", "memory_mb", "parallel",
		"accel", "boot_timeout_s", "canary_timeout_s", "qemu", "output", "cmdline",
		"description", "cache", "scenario_reps", "boots", "seed", "space", "variant_reps",
		"variant_smp", NULL,
	};
	const char *key;
	json_t *v;
	size_t i, j;

	if (!json_is_object(root))
		return cfg_err(x, "", "the config must be a JSON object, not %s", type_name(root));
	json_object_foreach(root, key, v) {
		char path[300];

		for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
			;
		snprintf(path, sizeof(path), "/%s", key);
		if (!known[i])
			return cfg_err(x, path, "unknown field '%s'", key);
	}

	v = json_object_get(root, "kernels");
	if (!v)
		return cfg_err(x, "", "missing field 'kernels' (a list of {\"name\", \"path\" or \"deb\"})");
	if (!json_is_array(v))
		return cfg_err(x, "/kernels", "'kernels' must be an array, not %s", type_name(v));
	c->kernels = xcalloc(json_array_size(v), sizeof(*c->kernels));
	for (i = 0; i < json_array_size(v); i++) {
		if (parse_kernel(x, json_array_get(v, i), i, &c->kernels[i]) < 0)
			return -1;
		c->nkernels++;
		for (j = 0; j < i; j++) {
			if (strcmp(c->kernels[j].name, c->kernels[i].name) == 0) {
				char path[64];

				snprintf(path, sizeof(path), "/kernels/%zu/name", i);
				return cfg_err(x, path, "duplicate kernel name '%s'", c->kernels[i].name);
			}
		}
	}

	v = json_object_get(root, "smp");
	if (v && get_smp_array(x, v, "smp", "", c->smp, &c->nsmp) < 0)
		return -1;

	v = json_object_get(root, "scenarios");
	if (json_is_string(v)) {
		/* "all", or a ','-separated list (a ',' inside brackets does not separate) */
		size_t n;
		char **l = cells_split(json_string_value(v), &n);

		for (i = 0; i < n; i++)
			if (strcmp(l[i], "all") && !cells_id_ok(l[i], 1)) {
				int r = cfg_err(x, "/scenarios", "scenarios: '%s' is not a cell: expected "
						"all, ID, ID[*] or ID[axis=value,...]", l[i]);

				cells_free(l, n);
				return r;
			}
		if (n == 0) {
			cells_free(l, n);
			return cfg_err(x, "/scenarios", "'scenarios' must be \"all\", a list of "
				       "cells or an array of them");
		}
		if (n == 1 && !strcmp(l[0], "all")) {
			cells_free(l, n);
		} else {
			c->scenarios = l;
			c->nscenarios = n;
		}
	} else if (v) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			return cfg_err(x, "/scenarios",
				       "'scenarios' must be \"all\" or a non-empty array of cells "
				       "(ID, ID[*] or ID[axis=value,...])");
		c->scenarios = xcalloc(json_array_size(v), sizeof(char *));
		for (i = 0; i < json_array_size(v); i++) {
			json_t *n = json_array_get(v, i);
			char path[64];

			snprintf(path, sizeof(path), "/scenarios/%zu", i);
			if (!json_is_string(n) || (strcmp(json_string_value(n), "all") &&
						   !cells_id_ok(json_string_value(n), 1)))
				return cfg_err(x, path, "scenarios[%zu] must be all or a cell: ID, ID[*] "
					       "or ID[axis=value,...]", i);
			c->scenarios[c->nscenarios++] = xstrdup(json_string_value(n));
		}
	}

	v = json_object_get(root, "scenario_reps");
	if (json_is_string(v)) {
		struct kf_error e2;

		if (config_add_scenario_reps(c, json_string_value(v), "scenario_reps", &e2) < 0)
			return cfg_err(x, "/scenario_reps", "scenario_reps: %s", e2.text);
	} else if (v) {
		const char *id;
		json_t *n;

		if (!json_is_object(v))
			return cfg_err(x, "/scenario_reps",
				       "'scenario_reps' must be an object of cell: repetitions "
				       "(or a string \"CELL=N,...\")");
		json_object_foreach(v, id, n) {
			char path[CELLS_ID_MAX + 64];

			snprintf(path, sizeof(path), "/scenario_reps/%s", id);
			if (!cells_id_ok(id, 0))
				return cfg_err(x, path, "scenario_reps: '%s' is not a cell (ID or "
					       "ID[axis=value,...])", id);
			if (!json_is_integer(n) || json_integer_value(n) < 1 ||
			    json_integer_value(n) > 100000)
				return cfg_err(x, path, "scenario_reps.%s must be an integer from 1 to 100000",
					       id);
			scenario_reps_set(c, id, (int)json_integer_value(n));
		}
	}

	if (get_str(x, root, "space", &c->space) < 0)
		return -1;
	if (!config_space_ok(c->space))
		return cfg_err(x, "/space", "'space' must be \"base\", \"sample\" or \"full\", "
			       "not \"%s\"", c->space);
	if (get_int(x, root, "variant_reps", 1, 100000, &c->variant_reps) < 0)
		return -1;
	v = json_object_get(root, "variant_smp");
	if (v && get_smp_array(x, v, "variant_smp",
			       " (SMP sizes of the run that run variant cells)", c->variant_smp,
			       &c->nvariant_smp) < 0)
		return -1;

	if (get_int(x, root, "reps", 1, 100000, &c->reps) < 0 ||
	    get_int(x, root, "boots", 1, CONFIG_BOOTS_MAX, &c->boots) < 0 ||
	    get_int(x, root, "seed", 0, INT_MAX, &c->seed) < 0 ||
	    get_int(x, root, "timeout_ms", 100, 600000, &c->timeout_ms) < 0 ||
	    get_int(x, root, "memory_mb", 64, 65536, &c->memory_mb) < 0 ||
	    get_int(x, root, "parallel", 0, 256, &c->parallel) < 0 ||
	    get_int(x, root, "boot_timeout_s", 5, 3600, &c->boot_timeout_s) < 0 ||
	    get_int(x, root, "canary_timeout_s", 1, 120, &c->canary_timeout_s) < 0 ||
	    get_str(x, root, "accel", &c->accel) < 0 ||
	    get_str(x, root, "qemu", &c->qemu) < 0 ||
	    get_str(x, root, "output", &c->output_dir) < 0 ||
	    get_str(x, root, "cmdline", &c->cmdline) < 0 ||
	    get_str(x, root, "cache", &c->cache_dir) < 0)
		return -1;
	if (c->cache_dir) {
		char *abs = input_path(x, c->cache_dir);

		free(c->cache_dir);
		c->cache_dir = abs;
		for (i = 0; i < c->nkernels; i++)
			c->kernels[i].cache_dir = xstrdup(abs);
	}
	if (strcmp(c->accel, "auto") && strcmp(c->accel, "kvm") && strcmp(c->accel, "tcg"))
		return cfg_err(x, "/accel", "'accel' must be \"auto\", \"kvm\" or \"tcg\", not \"%s\"",
			       c->accel);
	v = json_object_get(root, "description");
	if (v && !json_is_string(v))
		return cfg_err(x, "/description", "'description' must be a string, not %s",
			       type_name(v));
	return 0;
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
	char *text = util_read_file(path, NULL, e);
	int ret;

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

char *config_dump(const struct config *c)
{
	json_t *o = json_object(), *ks = json_array(), *smp = json_array();
	char *s;
	size_t i;
	int j;

	for (i = 0; i < c->nkernels; i++) {
		const struct kernel_spec *k = &c->kernels[i];
		json_t *kj = json_pack("{s:s}", "name", k->name);

		if (k->build) {
			json_t *b = json_pack("{s:s}", "source", k->build->source), *a;
			size_t j2;

			if (k->build->source_sha256)
				json_object_set_new(b, "sha256", json_string(k->build->source_sha256));
			a = json_array();
			for (j2 = 0; j2 < k->build->npatches; j2++)
				json_array_append_new(a, json_string(k->build->patches[j2]));
			json_object_set_new(b, "patches", a);
			json_object_set_new(b, "config", json_string(k->build->base));
			a = json_array();
			for (j2 = 0; j2 < k->build->nfragments; j2++)
				json_array_append_new(a, json_string(k->build->fragments[j2]));
			json_object_set_new(b, "fragments", a);
			json_object_set_new(kj, "build", b);
		} else {
			json_object_set_new(kj, config_kernel_kind_name(k->kind), json_string(k->arg));
		}
		if (k->sha256)
			json_object_set_new(kj, "sha256", json_string(k->sha256));
		json_array_append_new(ks, kj);
	}
	for (j = 0; j < c->nsmp; j++)
		json_array_append_new(smp, json_integer(c->smp[j]));
	json_object_set_new(o, "kernels", ks);
	json_object_set_new(o, "smp", smp);
	json_object_set_new(o, "reps", json_integer(c->reps));
	json_object_set_new(o, "boots", json_integer(c->boots));
	if (c->seed)
		json_object_set_new(o, "seed", json_integer(c->seed));
	json_object_set_new(o, "timeout_ms", json_integer(c->timeout_ms));
	if (c->scenarios) {
		json_t *sc = json_array();

		for (i = 0; i < c->nscenarios; i++)
			json_array_append_new(sc, json_string(c->scenarios[i]));
		json_object_set_new(o, "scenarios", sc);
	} else {
		json_object_set_new(o, "scenarios", json_string("all"));
	}
	if (c->nscenario_reps) {
		json_t *sr = json_object();

		for (i = 0; i < c->nscenario_reps; i++)
			json_object_set_new(sr, c->scenario_reps[i].id,
					    json_integer(c->scenario_reps[i].reps));
		json_object_set_new(o, "scenario_reps", sr);
	}
	json_object_set_new(o, "space", json_string(c->space));
	json_object_set_new(o, "variant_reps", json_integer(c->variant_reps));
	if (c->nvariant_smp) {
		json_t *vs = json_array();

		for (j = 0; j < c->nvariant_smp; j++)
			json_array_append_new(vs, json_integer(c->variant_smp[j]));
		json_object_set_new(o, "variant_smp", vs);
	}
	json_object_set_new(o, "memory_mb", json_integer(c->memory_mb));
	json_object_set_new(o, "parallel", json_integer(c->parallel));
	json_object_set_new(o, "accel", json_string(c->accel));
	json_object_set_new(o, "boot_timeout_s", json_integer(c->boot_timeout_s));
	json_object_set_new(o, "canary_timeout_s", json_integer(c->canary_timeout_s));
	json_object_set_new(o, "qemu", json_string(c->qemu));
	json_object_set_new(o, "cmdline", json_string(c->cmdline));
	if (c->cache_dir)
		json_object_set_new(o, "cache", json_string(c->cache_dir));
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return s;
}
