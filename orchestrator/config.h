/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CONFIG_H
#define KFARM_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* The most SMP sizes a run has, and the most vCPUs a guest has (config, command line, API). */
#define CONFIG_MAX_SMP 16
#define CONFIG_SMP_MAX 64
/*
 * The largest config file kfarm reads: far above any real farm's (a kernel
 * entry is about 60 bytes, so some 900,000 kernels), and a bound on what a
 * mistaken -c (a disk image, a log) costs before it is refused.
 */
#define CONFIG_FILE_MAX (64u << 20)
/*
 * Guests per (kernel, SMP) for nondeterministic cells: their repetitions are
 * split over this many boots, the unit the diff's test replicates over.
 */
#define CONFIG_BOOTS_DEFAULT 5
#define CONFIG_BOOTS_MAX 64
/* Repetitions of a cell that varies an axis (a "variant" cell): enough to show
 * a deterministic change, and a second outcome. */
#define CONFIG_VARIANT_REPS_DEFAULT 2

enum kernel_kind {
	KERNEL_PATH,	/* a local bzImage or vmlinux */
	KERNEL_DEB,	/* a Debian kernel image package, fetched with apt-get download */
	KERNEL_URL,	/* a bzImage or a .deb over http, https or file */
	KERNEL_BUILD,	/* built from a source tree, patches and config fragments */
};

/*
 * struct build_spec - how to build a kernel ("build" in the config).
 * @source: a tarball (URL or file) or a directory; local paths absolute;
 *          NULL for a git source
 * @git: a git repository's folder (absolute), its commit @rev the source;
 *       NULL for a tarball or directory source
 * @rev: the revision of @git ("HEAD" when the config gives none)
 * @source_sha256: pinned digest of a source URL, or NULL
 * @patches: the series in order: URLs or absolute files
 * @base: "tinyconfig", "defconfig", "allnoconfig" or an absolute .config file
 * @fragments: config fragments (absolute files) merged in order, before
 *             configs/kfarm.config which is always merged last
 */
struct build_spec {
	char *source;
	char *git;
	char *rev;
	char *source_sha256;
	char **patches;
	size_t npatches;
	char *base;
	char **fragments;
	size_t nfragments;
};

/*
 * struct kernel_spec - one kernel as the config or the command line names it.
 * @name: short name used in reports and file names
 * @kind, @arg: where it comes from (a path, a package name, a URL, the build's source)
 * @origin: where it was defined ("configs/default.json:4:5" or "command line")
 * @sha256: for a URL, its pinned digest (NULL: recorded on first fetch)
 * @build: for a build, what to build; NULL otherwise
 * @cache_dir: the config's "cache" folder; NULL for the default (util_cache_dir())
 */
struct kernel_spec {
	char *name;
	enum kernel_kind kind;
	char *arg;
	char *origin;
	char *sha256;
	struct build_spec *build;
	char *cache_dir;
};

/* struct scenario_reps - repetitions for one scenario, overriding "reps". */
struct scenario_reps {
	char *id;
	int reps;
};

struct config {
	char *source;			/* file name, or "<embedded default>" */
	struct kernel_spec *kernels;
	size_t nkernels;
	int smp[CONFIG_MAX_SMP];
	int nsmp;
	int reps;
	int boots;			/* guests per (kernel, smp) for racy cells */
	int seed;			/* block and scenario order; 0: a new one per run */
	int timeout_ms;			/* per repetition, enforced in the guest */
	char **scenarios;		/* cells, "ID[*]" or "all"; NULL: all */
	size_t nscenarios;
	struct scenario_reps *scenario_reps; /* "scenario_reps": more reps for some */
	size_t nscenario_reps;
	char *space;			/* "base", "sample" (default) or "full": what all and ID[*] take */
	int variant_reps;		/* repetitions of a variant cell */
	int variant_smp[CONFIG_MAX_SMP];	/* SMP sizes that run variant cells */
	int nvariant_smp;		/* 0: the run's two smallest SMP sizes */
	int memory_mb;
	int parallel;			/* guests at once; 0: the host's cores */
	char *accel;			/* auto, kvm, tcg */
	char *tcg_threads;		/* "single" (default) or "multi": a TCG guest's vCPU threads */
	char *firmware;			/* "qboot" (default) or "seabios": the guests' BIOS */
	int boot_timeout_s;		/* no hello from the guest by then: boot-failed */
	int canary_timeout_s;		/* the KVM canary's deadline */
	char *vm_binary;		/* config "qemu": the hypervisor's program */
	char *output_dir;		/* runs go to <output_dir>/<run-id> */
	char *cmdline;			/* extra kernel command line */
	char *cache_dir;		/* "cache": fetched and built kernels; NULL: default */
	json_t *hosts;			/* "hosts": libvirt hosts (vm-libvirt.c); NULL: QEMU here */
	json_t *nightly;		/* "nightly": kfarmd's schedule (nightly.h); NULL: none */
};

/**
 * config_init() - every field at its default: no kernels, and the defaults of
 * config.c's field table (config_doc_markdown() lists them).
 */
void config_init(struct config *c);

/** config_release() - free what @c owns; @c may be reused after config_init(). */
void config_release(struct config *c);

/**
 * config_load_file() - parse a JSON config file into @c (initialised).
 * Errors name the file, line, column and what is wrong.
 */
int config_load_file(struct config *c, const char *path, struct kf_error *e);

/** config_load_string() - as config_load_file() on @text, errors naming @source. */
int config_load_string(struct config *c, const char *text, const char *source,
		       struct kf_error *e);

/** config_load_default() - the embedded default config (configs/default.json). */
int config_load_default(struct config *c, struct kf_error *e);

/**
 * config_kernel_parse() - an inline kernel: "path:/file/bzImage", "deb:PACKAGE"
 * or "url:URL" (the URL may also be given bare: "https://host/bzImage").
 * The name is derived from the package or file name.
 */
int config_kernel_parse(const char *spec, struct kernel_spec *k, struct kf_error *e);

/** config_kernel_release() - free what @k owns. */
void config_kernel_release(struct kernel_spec *k);

/** config_kernel_kind_name() - "path", "deb", "url" or "build". */
const char *config_kernel_kind_name(enum kernel_kind kind);

/** config_build_free() - free @b and what it owns (may be NULL). */
void config_build_free(struct build_spec *b);

/** config_kernel_copy() - deep copy of @src into @dst. */
void config_kernel_copy(struct kernel_spec *dst, const struct kernel_spec *src);

/**
 * config_rev_ok() - whether @rev may be a git revision of a build: 1-200
 * characters, none a space or a control character, not starting with '-'.
 */
int config_rev_ok(const char *rev);

/**
 * config_select_kernel() - @what is a kernel name from @c or an inline spec;
 * fills @k (a copy). NAME@REV is the config's kernel NAME, built from a git
 * repository, at revision REV (named NAME-REV, its characters outside
 * config_name_ok()'s set as '_', cut to 64). Unknown names give an error
 * listing the known ones.
 */
int config_select_kernel(const struct config *c, const char *what,
			 struct kernel_spec *k, struct kf_error *e);

/**
 * config_add_scenario_reps() - "CELL=N[,CELL=N...]" (from --reps-for; ':' may
 * stand for '=') on top of the config's "scenario_reps"; CELL is a cell id
 * ("ID" or "ID[axis=value,...]": the separator is the first '=' or ':' after
 * its ']'). Errors name @what ("--reps-for").
 */
int config_add_scenario_reps(struct config *c, const char *list, const char *what,
			     struct kf_error *e);

/** config_space_ok() - whether @s is "base", "sample" or "full". */
int config_space_ok(const char *s);

/**
 * config_variant_smp() - the SMP sizes of the run at which variant cells run,
 * in the order of c->smp: c->variant_smp, each of which must be one of
 * c->smp (an error names it), else the two smallest of c->smp.
 */
int config_variant_smp(const struct config *c, int *out, int *n, struct kf_error *e);

/** config_max_reps() - the most repetitions any scenario gets. */
int config_max_reps(const struct config *c);

/**
 * config_set_text() - set the field @name of @c from command-line text @text
 * (an integer, a string, a ','-separated list of SMP sizes, or "CELL=N,..."
 * added to "scenario_reps"), checked against the same bounds and choices as
 * the config's value. Errors name @what ("--reps").
 */
int config_set_text(struct config *c, const char *name, const char *text, const char *what,
		    struct kf_error *e);

/**
 * config_to_json() - the effective config (owned): every field kfarm keeps, in
 * the field table's order, with defaults filled in; loading it gives @c again.
 */
json_t *config_to_json(const struct config *c);

/** config_dump() - config_to_json() as indented text (owned), for `kfarm config`. */
char *config_dump(const struct config *c);

/*
 * struct config_doc - what the field table says of a top-level field.
 * @takes: its type and bounds, "an integer from 1 to 100000"
 * @def: its default as JSON, or NULL
 * @absent: without a default, what leaving it out means; both NULL: required
 * @help: what it is for
 */
struct config_doc {
	const char *name;
	char takes[160];
	const char *def;
	const char *absent;
	const char *help;
};

/** config_field_name() - the @i-th top-level field's name; NULL past the last. */
const char *config_field_name(size_t i);

/** config_field_doc() - fill @d for the field @name; -1 if there is no such field. */
int config_field_doc(const char *name, struct config_doc *d);

/**
 * config_doc_markdown() - the fields as a Markdown table (owned): name, what
 * it takes, default, what for. README.md's config section carries it.
 */
char *config_doc_markdown(void);

/** config_name_ok() - a kernel name usable in file names: [A-Za-z0-9._+-], 1-64. */
int config_name_ok(const char *name);

/**
 * config_kernel_names_unique() - make the names of the run's kernels @ks (@n,
 * in the order given) distinct: a name that an earlier kernel has already
 * taken gets the first of "-b", "-c", ... "-z", then "-27", "-28"... that no
 * kernel of @ks is named (as given) and no earlier one has taken. The same
 * kernel twice (an A/A control) is K and K-b; path:a/K-b, path:b/K, path:c/K
 * are K-b, K and K-c. A name of 64 characters is cut to make room for the
 * suffix: the names stay config_name_ok().
 */
void config_kernel_names_unique(struct kernel_spec *ks, size_t n);

/**
 * config_scan_steps() - how many bytes the scanner that finds a value's line
 * and column has stepped over in this process: what a test measures to know
 * that a config's positions cost a pass over its text, not one per kernel.
 */
unsigned long long config_scan_steps(void);

#endif
