/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cells.h"
#include "console.h"
#include "history.h"
#include "lifecycle.h"
#include "log.h"
#include "proc.h"
#include "report.h"
#include "results.h"
#include "run.h"
#include "util.h"
#include "vm.h"

/* How long the VM may take to power off once the guest said "end". */
#define POWEROFF_GRACE_MS 30000
/* Slack on top of reps × timeout for one scenario's cell. */
#define CELL_SLACK_MS 30000


/*
 * One guest: boot @boot (1, 2, ...) of kernel @k at @smp, in block @block (the
 * guests of every kernel for one (smp, boot), started together and running
 * their scenarios in the order @order_seed gives).
 */
struct guest {
	struct kernel *k;
	int smp;
	int boot;
	int block;
	int followup;			/* replicates a cell that showed two outcomes */
	int examined;			/* its cells were looked at for two outcomes */
	json_t *retried;		/* the attempt that failed to boot, when retried */
	json_t *requeued;		/* the attempts whose host went away (NULL: none) */
	unsigned long long order_seed;
	char **scen;			/* the cells it runs (ids borrowed from run_opts) */
	int *racy;			/* whether each is racy */
	int *variant;			/* whether each varies an axis */
	int *reps;			/* repetitions of each */
	int *reps_max;			/* its scenario's cap (0: none) */
	size_t nscen;
	json_t *index;			/* cell id -> its position in scen[] */
	int max_reps;
	enum lc_state state;
	struct vm vm;
	struct results *res;
	struct console *con;
	struct util_out con_log, res_log;	/* its console and results logs */
	char *con_name, *res_name;
	int64_t started_ms, hello_ms, finished_ms, deadline_ms;
	size_t seen_records;
	enum lc_kill kill;		/* why we stopped it (or it never ran) */
	char kill_text[192];		/* the same for people, with the details */
	int wait_status;
	int open_streams;
	int exited;
	const char *accel;
	int tcg_single;			/* under TCG, its vCPUs in one host thread */
	int qboot;			/* boots with qboot */
	const char *host;		/* the host it must run on (a canary); NULL: any */
	char *append;
	json_t *cells;			/* the finished guest's cells, one per scen[] */
	json_t *report;			/* its entry in "guests" */
	int kept;			/* finished in the run resumed: not booted again */
	size_t planned;			/* kept: how many of scen[] the plan gave it */
	int joined;			/* its block's joins are settled: none at its start */
	json_t *overlap;		/* kept: who ran alongside it then */
};

/* epoll tags */
enum wkind { W_CONSOLE, W_RESULTS, W_DIAG, W_PID };
struct watch {
	struct guest *g;
	enum wkind kind;
};

/* The backend guests run on (backend_select()): libvirt on the config's hosts, else the default. */
static const struct vm_backend *chosen_backend;

static const struct vm_backend *backend(void)
{
	return chosen_backend ? chosen_backend : vm_backend_default();
}

static int backend_select(const struct config *cfg, struct kf_error *e)
{
	chosen_backend = vm_backend_default();
	if (!cfg->hosts)
		return 0;
	if (vm_libvirt_hosts(cfg->hosts, e) < 0)
		return -1;
	chosen_backend = vm_backend_libvirt();
	return 0;
}

/*
 * @name as `make install` puts it: in lib/kfarm/ beside the bin/ that holds
 * this binary (PREFIX/bin/kfarm, PREFIX/lib/kfarm/NAME), resolved into @buf
 * (PATH_MAX bytes); NULL when it is not there (a build tree: the paths
 * compiled in).
 */
static const char *installed(const char *name, char *buf)
{
	char self[PATH_MAX], *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int ok;

	if (n <= 0)
		return NULL;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	path = xasprintf("%s/../lib/kfarm/%s", self, name);
	ok = realpath(path, buf) && access(buf, R_OK) == 0;
	free(path);
	return ok ? buf : NULL;
}

const char *run_guest_binary(void)
{
	static char buf[PATH_MAX];
	const char *s = getenv("KFARM_GUEST");

	if (s && *s)
		return s;
	return installed("kfarm-guest", buf) ?: KFARM_TOP "/build/kfarm-guest";
}

static const char *initramfs_path(void)
{
	static char buf[PATH_MAX];
	const char *s = getenv("KFARM_INITRAMFS");

	if (s && *s)
		return s;
	return installed("initramfs.cpio", buf) ?: KFARM_INITRAMFS;
}

/*
 * The lists run_list_scenarios() made, a space each, with the guest binary
 * they came from as it was (path, size, mtime): a process that selects cells
 * again (kfarmd, a request with "scenarios" each) runs the binary once a
 * space, and again when it was replaced. kfarm and kfarmd are one thread.
 */
static struct listed {
	char *space, *binary;
	off_t size;
	struct timespec mtime;
	json_t *list;
} listed[4];

json_t *run_list_scenarios(const char *space, struct kf_error *e)
{
	const char *argv[] = { run_guest_binary(), "--list", space ? "--space" : NULL, space, NULL };
	char *out = NULL, *line, *save = NULL;
	struct listed *l = NULL;
	struct stat st;
	json_t *list;
	size_t i;
	int known = stat(argv[0], &st) == 0;

	for (i = 0; known && i < sizeof(listed) / sizeof(listed[0]); i++)
		if (listed[i].space && !strcmp(listed[i].space, space ? space : "") &&
		    !strcmp(listed[i].binary, argv[0]) && listed[i].size == st.st_size &&
		    listed[i].mtime.tv_sec == st.st_mtim.tv_sec &&
		    listed[i].mtime.tv_nsec == st.st_mtim.tv_nsec)
			return json_incref(listed[i].list);
	if (proc_run(argv, NULL, 30000, &out, NULL, e) < 0)
		return NULL;
	list = json_array();
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *col[7] = { line };
		size_t k;
		char *base;
		json_t *ent;

		/* id, group, description, deterministic|racy, the racy repetition
		 * multiplier, base|variant, the repetition cap: tab-separated; older
		 * runners print fewer. */
		for (k = 1; k < 7; k++) {
			col[k] = col[k - 1] ? strchr(col[k - 1], '\t') : NULL;
			if (col[k])
				*col[k]++ = '\0';
		}
		if (!col[1])
			continue;
		base = strndup(line, cells_base_len(line));
		ent = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:i}", "id", line, "scenario", base,
				"group", col[1], "description", col[2] ? col[2] : "",
				"kind", col[3] ? col[3] : "deterministic",
				"reps_mult", col[4] && atoi(col[4]) > 0 ? atoi(col[4]) : 1,
				"variant", col[5] ? !strcmp(col[5], "variant") : cells_is_variant(line),
				"reps_max", col[6] && atoi(col[6]) > 0 ? atoi(col[6]) : 0);
		free(base);
		json_array_append_new(list, ent);
	}
	free(out);
	if (!known)
		return list;
	/* kept for the next call: the slot of this space, else an empty one, else the first */
	for (i = 0; i < sizeof(listed) / sizeof(listed[0]) && !l; i++)
		if (!listed[i].space || !strcmp(listed[i].space, space ? space : ""))
			l = &listed[i];
	l = l ? l : &listed[0];
	free(l->space);
	free(l->binary);
	json_decref(l->list);
	l->space = xstrdup(space ? space : "");
	l->binary = xstrdup(argv[0]);
	l->size = st.st_size;
	l->mtime = st.st_mtim;
	l->list = json_incref(list);
	return list;
}

/* Whether the guests at @smp run variant cells. */
static int smp_runs_variants(const struct run_opts *o, int smp)
{
	int i;

	for (i = 0; i < o->nvariant_smp; i++)
		if (o->variant_smp[i] == smp)
			return 1;
	return 0;
}

/* Whether cell @i of @o runs at @smp. */
static int cell_runs_at(const struct run_opts *o, size_t i, int smp)
{
	return !o->variant[i] || smp_runs_variants(o, smp);
}

/*
 * kfarm.run= for guest @g into @f: "all" when it runs every non-selftest cell
 * of its space, "ID[*]" for a scenario whose every cell in its space it runs,
 * and the other cells by id. Its space is cfg->space at the SMP sizes that run
 * variant cells, else base (the plain cells).
 */
static void put_run_list(FILE *f, const struct run_opts *o, const struct guest *g)
{
	int variants = smp_runs_variants(o, g->smp);
	json_t *covered = json_object(), *ent;
	size_t i, j, nall = 0, have_all = 0;
	int first = 1;

	if (o->catalog) {
		json_array_foreach(o->catalog, i, ent) {
			const char *id = json_string_value(json_object_get(ent, "id"));

			if ((!variants && json_is_true(json_object_get(ent, "variant"))) ||
			    !strcmp(json_string_value(json_object_get(ent, "group")), "selftest"))
				continue;
			nall++;
			have_all += json_object_get(g->index, id) != NULL;
		}
	}
	if (nall && have_all == nall) {
		fputs("all", f);
		first = 0;
		json_array_foreach(o->catalog, i, ent)
			if (strcmp(json_string_value(json_object_get(ent, "group")), "selftest") &&
			    (variants || !json_is_true(json_object_get(ent, "variant"))))
				json_object_set_new(covered, json_string_value(json_object_get(ent, "id")),
						    json_true());
	} else if (o->catalog && variants) {
		/* Scenarios whose cells come one after the other in the catalog. */
		for (i = 0; i < json_array_size(o->catalog); i = j) {
			const char *sc = json_string_value(json_object_get(
				json_array_get(o->catalog, i), "scenario"));
			size_t in = 0;

			for (j = i; j < json_array_size(o->catalog); j++) {
				ent = json_array_get(o->catalog, j);
				if (strcmp(json_string_value(json_object_get(ent, "scenario")), sc))
					break;
				in += json_object_get(g->index, json_string_value(
					json_object_get(ent, "id"))) != NULL;
			}
			if (in < 2 || in != j - i)
				continue;
			fprintf(f, "%s%s[*]", first ? "" : ",", sc);
			first = 0;
			for (in = i; in < j; in++)
				json_object_set_new(covered, json_string_value(json_object_get(
					json_array_get(o->catalog, in), "id")), json_true());
		}
	}
	for (i = 0; i < g->nscen; i++) {
		if (json_object_get(covered, g->scen[i]))
			continue;
		fprintf(f, "%s%s", first ? "" : ",", g->scen[i]);
		first = 0;
	}
	json_decref(covered);
}

/*
 * The repetitions a guest gives by itself a cell it is not told a count for:
 * @vreps for a variant cell, else cfg->reps; at most the scenario's cap.
 */
static int own_reps(const struct config *cfg, int variant, int reps_max, int vreps)
{
	int n = variant ? vreps : cfg->reps;

	return reps_max > 0 && n > reps_max ? reps_max : n;
}

/*
 * The repetitions the guest gives a variant cell that kfarm.reps_for= does
 * not name: the count most of @g's variant cells have (cfg->variant_reps on a
 * tie or when it has none).
 */
static int guest_variant_reps(const struct run_opts *o, const struct guest *g)
{
	int val[16], cnt[16], best = o->cfg->variant_reps, nbest = 0;
	size_t i, k, nv = 0;

	for (i = 0; i < g->nscen; i++) {
		if (!g->variant[i] || g->racy[i])
			continue;
		for (k = 0; k < nv && val[k] != g->reps[i]; k++)
			;
		if (k == nv) {
			if (nv == sizeof(val) / sizeof(val[0]))
				continue;
			val[nv] = g->reps[i];
			cnt[nv++] = 0;
		}
		cnt[k]++;
	}
	for (k = 0; k < nv; k++)
		if (cnt[k] > nbest || (cnt[k] == nbest && val[k] == o->cfg->variant_reps)) {
			best = val[k];
			nbest = cnt[k];
		}
	return best;
}

/*
 * The kernel command line of guest @g: kfarm.run= its cells (put_run_list()),
 * kfarm.space= its space and, where variant cells run, kfarm.variant_reps=;
 * kfarm.reps_for= every count the guest would not give by itself and every
 * racy scenario's (the host decides every count, so the guest multiplies
 * nothing), kfarm.order= its block's seed. @reps_for_len: the length of
 * kfarm.reps_for='s value.
 */
static char *make_append(const struct run_opts *o, const struct guest *g, size_t *reps_for_len)
{
	const struct config *cfg = o->cfg;
	int variants = smp_runs_variants(o, g->smp), vreps = guest_variant_reps(o, g);
	char *buf = NULL;
	size_t len = 0, i;
	long at = -1;
	FILE *f = open_memstream(&buf, &len);
	int nfor = 0;

	if (!f)
		abort();
	fprintf(f, "%s %s kfarm.run=", backend()->console_arg, run_boot_args());
	put_run_list(f, o, g);
	fprintf(f, " kfarm.space=%s", variants ? cfg->space : "base");
	if (variants)
		fprintf(f, " kfarm.variant_reps=%d", vreps);
	fprintf(f, " kfarm.reps=%d kfarm.timeout_ms=%d", cfg->reps, cfg->timeout_ms);
	for (i = 0; i < g->nscen; i++) {
		if (!g->racy[i] && g->reps[i] == own_reps(cfg, g->variant[i], g->reps_max[i], vreps))
			continue;
		if (!nfor++) {
			fputs(" kfarm.reps_for=", f);
			fflush(f);
			at = (long)len;
		} else {
			fputc(',', f);
		}
		fprintf(f, "%s:%d", g->scen[i], g->reps[i]);
	}
	fflush(f);
	if (reps_for_len)
		*reps_for_len = at >= 0 ? len - (size_t)at : 0;
	fprintf(f, " kfarm.order=%llu%s%s", g->order_seed, cfg->cmdline[0] ? " " : "",
		cfg->cmdline);
	fclose(f);
	return buf;
}

/* Whether guest @g's command line fits (in the kernel's and the runner's limits). */
static int append_fits(const struct run_opts *o, const struct guest *g)
{
	size_t rf;
	char *a = make_append(o, g, &rf);
	int ok = strlen(a) <= RUN_MAX_CMDLINE && rf <= RUN_MAX_REPS_FOR;

	free(a);
	return ok;
}

/*
 * A guest's log that cannot be written (a full disk) is said once, naming the
 * file and why; what the guest reports is still read from its streams, so its
 * cells are not lost with the log.
 */
static void guest_log_failed(const struct guest *g, const struct kf_error *e)
{
	log_warnx("%s: %s; the rest of this log of %s smp%d boot %d is lost (its cells are "
		  "still read from the guest)", e->source, e->text, g->k->spec.name, g->smp,
		  g->boot);
}

/* "NAME: cannot write: ERROR" of each log of @g the disk refused ("; " between), or NULL (owned). */
static char *guest_log_errors(const struct guest *g)
{
	const struct util_out *o[2] = { &g->con_log, &g->res_log };
	const char *name[2] = { g->con_name, g->res_name };
	char *s = NULL, *t;
	int i;

	for (i = 0; i < 2; i++) {
		if (!o[i]->err)
			continue;
		t = xasprintf("%s%s%s: cannot write: %s", s ? s : "", s ? "; " : "", name[i],
			      strerror(o[i]->err));
		free(s);
		s = t;
	}
	return s;
}

/* Appends to a log of @g (bounded: RUN_*_LOG_MAX), saying when it reaches its bound. */
static void guest_log_write(const struct guest *g, struct util_out *o, const void *buf, size_t n)
{
	struct kf_error e;
	int r = util_out_write(o, buf, n, &e);

	if (r < 0)
		guest_log_failed(g, &e);
	else if (r > 0)
		log_warn("%s smp%d boot %d: %s reached its bound (%zu bytes): the rest is not kept",
			 g->k->spec.name, g->smp, g->boot, o->path, o->max);
}

static void guest_log_flush(const struct guest *g, struct util_out *o)
{
	struct kf_error e;

	if (util_out_flush(o, &e) < 0)
		guest_log_failed(g, &e);
}

static void guest_log_close(const struct guest *g, struct util_out *o)
{
	struct kf_error e;

	if (util_out_close(o, &e) < 0)
		guest_log_failed(g, &e);
}

/* Free what one attempt of guest @g gathered: parsers, logs, cells, report. */
static void guest_release_attempt(struct guest *g)
{
	results_free(g->res);
	console_free(g->con);
	guest_log_close(g, &g->con_log);
	guest_log_close(g, &g->res_log);
	json_decref(g->cells);
	json_decref(g->report);
	g->res = NULL;
	g->con = NULL;
	g->cells = g->report = NULL;
}

/* Free the cell lists guest_add_scenario() built in @g. */
static void guest_cells_release(struct guest *g)
{
	free(g->scen);
	free(g->racy);
	free(g->variant);
	free(g->reps);
	free(g->reps_max);
	json_decref(g->index);
}

static void guest_free(struct guest *g)
{
	if (!g)
		return;
	guest_release_attempt(g);
	free(g->con_name);
	free(g->res_name);
	free(g->append);
	guest_cells_release(g);
	json_decref(g->retried);
	json_decref(g->requeued);
	json_decref(g->overlap);
}

static void guest_finish(struct guest *g);

/* Why @g was stopped, for people (g->kill says it for the code). */
static void kill_describe(struct guest *g, const struct config *cfg, int64_t now)
{
	switch (g->kill) {
	case LC_KILL_BOOT:
		snprintf(g->kill_text, sizeof(g->kill_text),
			 "no sign of life from the guest within the %d s boot deadline",
			 cfg->boot_timeout_s);
		break;
	case LC_KILL_PROGRESS:
		snprintf(g->kill_text, sizeof(g->kill_text),
			 "the guest made no progress before its deadline (%s, %.0f s into the run)",
			 results_current(g->res) ? results_current(g->res) : "between scenarios",
			 (now - g->started_ms) / 1000.0);
		break;
	case LC_KILL_POWEROFF:
		snprintf(g->kill_text, sizeof(g->kill_text),
			 "the guest did not power off within %d s of its last record",
			 POWEROFF_GRACE_MS / 1000);
		break;
	case LC_KILL_INTERRUPTED:
		snprintf(g->kill_text, sizeof(g->kill_text), "interrupted");
		break;
	case LC_KILL_CANARY:
		snprintf(g->kill_text, sizeof(g->kill_text), "canary done");
		break;
	default:
		break; /* LC_KILL_START_FAILED: its caller said why */
	}
}

/*
 * Feed @ev to @g's lifecycle (lifecycle.c): take the row's state, set that
 * state's deadline, stop the VM when the row says why, finish a guest that
 * is done. An event the table does not list for the state changes nothing.
 */
static void guest_event(struct guest *g, enum lc_event ev, const struct config *cfg)
{
	const struct lc_row *r = lifecycle_step(g->state, ev);
	int64_t now = util_now_ms();

	if (!r)
		return;
	g->state = r->to;
	if (r->kill != LC_KILL_NONE) {
		g->kill = r->kill;
		kill_describe(g, cfg, now);
		if (r->kill != LC_KILL_START_FAILED) {
			log_debug("%s smp%d: %s: stopping it", g->k->spec.name, g->smp, g->kill_text);
			backend()->stop(&g->vm);
		}
	}
	switch (lifecycle_deadline(r->to)) {
	case LC_DL_BOOT:
		g->deadline_ms = g->started_ms + (int64_t)cfg->boot_timeout_s * 1000;
		break;
	case LC_DL_PROGRESS:
		g->deadline_ms = now + (int64_t)g->max_reps * cfg->timeout_ms + CELL_SLACK_MS;
		break;
	case LC_DL_POWEROFF:
		g->deadline_ms = now + POWEROFF_GRACE_MS;
		break;
	case LC_DL_NONE:
		g->deadline_ms = INT64_MAX;
		break;
	}
	if (r->to == LC_DONE)
		guest_finish(g);
}

static int guest_start(struct guest *g, const struct config *cfg, const char *dir,
		       int epfd, struct kf_error *e)
{
	char name[160];
	const char *run;
	struct vm_params p = {
		.binary = cfg->vm_binary, .kernel = g->k->boot_path ? g->k->boot_path : g->k->path,
		.initrd = initramfs_path(),
		.append = g->append, .accel = g->accel, .smp = g->smp,
		.memory_mb = cfg->memory_mb, .name = name, .host = g->host,
		.tcg_single = g->tcg_single, .qboot = g->qboot,
	};
	int fds[3], i;

	/*
	 * KERNEL-smpN-bB-RUN, the run being the run directory's name: last, as
	 * libvirt shortens a domain's name to its first 20 characters in places
	 */
	run = dir ? strrchr(dir, '/') : NULL;
	run = run ? run + 1 : dir;
	snprintf(name, sizeof(name), "%s-smp%d-b%d%s%s", g->k->spec.name, g->smp, g->boot,
		 run && *run ? "-" : "", run ? run : "");

	g->res = results_new();
	g->con = console_new();
	if (dir) {
		char *path = xasprintf("%s/%s", dir, g->con_name);

		int r = util_out_open(&g->con_log, path, e);

		free(path);
		if (r < 0)
			return -1;
		g->con_log.max = RUN_CONSOLE_LOG_MAX;
		path = xasprintf("%s/%s", dir, g->res_name);
		r = util_out_open(&g->res_log, path, e);
		free(path);
		if (r < 0)
			return -1;
		g->res_log.max = RUN_RESULTS_LOG_MAX;
	}
	g->started_ms = util_now_ms();
	if (backend()->start(&g->vm, &p, e) < 0)
		return -1;
	if (g->vm.accel)
		g->accel = g->vm.accel;	/* its host's, with several */
	guest_event(g, LC_START, cfg);
	fds[0] = g->vm.console_fd;
	fds[1] = g->vm.results_fd;
	fds[2] = g->vm.diag_fd;
	g->open_streams = 3;
	for (i = 0; i < 4; i++) {
		struct watch *w = xmalloc(sizeof(*w));
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = i < 3 ? fds[i] : g->vm.proc.pidfd;

		if (fd < 0) {
			free(w);
			continue;
		}
		w->g = g;
		w->kind = (enum wkind)i;
		ev.data.ptr = w;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(w);
			return error_set(e, "epoll", 0, 0, "%s", strerror(errno));
		}
	}
	log_debug("started %s smp%d: %s%s%s, accelerator %s", g->k->spec.name, g->smp,
		  backend()->name, g->vm.host[0] ? " on " : "", g->vm.host, g->accel);
	return 0;
}

const char *run_boot_args(void)
{
	const char *a = getenv("KFARM_BOOT_ARGS");

	return a && *a ? a : RUN_BOOT_ARGS;
}

/* Reads what is there on one stream; returns 0 at EOF. */
static int guest_read(struct guest *g, enum wkind kind, const struct config *cfg)
{
	char buf[16384];
	int fd = kind == W_CONSOLE ? g->vm.console_fd :
		 kind == W_RESULTS ? g->vm.results_fd : g->vm.diag_fd;

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		if (kind == W_CONSOLE) {
			console_feed(g->con, buf, (size_t)n);
			guest_log_write(g, &g->con_log, buf, (size_t)n);
		} else if (kind == W_RESULTS) {
			size_t before = results_nrecords(g->res);

			results_feed(g->res, buf, (size_t)n);
			guest_log_write(g, &g->res_log, buf, (size_t)n);
			if (results_nrecords(g->res) != before) {
				if (!g->hello_ms && results_have_hello(g->res))
					g->hello_ms = util_now_ms();
				guest_event(g, results_ended(g->res) ? LC_END :
					       g->state == LC_BOOTING && g->hello_ms ? LC_HELLO :
					       LC_RECORD, cfg);
			}
		} else {
			vm_diag_feed(&g->vm, buf, (size_t)n);
		}
	}
}

static void close_stream(struct guest *g, enum wkind kind, int epfd)
{
	int *fd = kind == W_CONSOLE ? &g->vm.console_fd :
		  kind == W_RESULTS ? &g->vm.results_fd : &g->vm.diag_fd;

	if (*fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
	g->open_streams--;
}

static json_t *excerpt_for(struct guest *g)
{
	json_t *ev = console_events(g->con);
	size_t i;

	for (i = 0; i < json_array_size(ev); i++) {
		json_t *x = json_array_get(ev, i);

		if (report_event_excerpt(x))
			return json_copy(report_event_excerpt(x));
	}
	return console_tail(g->con, 20);
}

/* The message of outcome @o of finished guest @g, in @buf (or NULL: ok). */
static const char *outcome_text(struct guest *g, const struct lc_outcome *o, char *buf, size_t n)
{
	const char *vm = backend()->name, *diag = vm_diag_line(&g->vm);
	char st[64];

	switch (o->why) {
	case LC_WHY_NONE:
		return NULL;
	case LC_WHY_KILL:
		snprintf(buf, n, "%s", g->kill_text);
		break;
	case LC_WHY_RESET:
		snprintf(buf, n, "the guest reset or powered off after %.1f s, before it reported",
			 (g->finished_ms - g->started_ms) / 1000.0);
		break;
	case LC_WHY_VM_EXIT:
		snprintf(buf, n, "%s %s before the guest reported%s%.300s", vm,
			 proc_status_str(g->wait_status, st, sizeof(st)), diag[0] ? ": " : "", diag);
		break;
	case LC_WHY_PANIC:
	case LC_WHY_SILENT:
		snprintf(buf, n, "%s%s%s%s", o->why == LC_WHY_PANIC ? "kernel panic" :
			 "guest stopped reporting", o->vm_abnormal ? " (" : "",
			 o->vm_abnormal ? vm : "", o->vm_abnormal ? " exited abnormally)" : "");
		break;
	}
	return buf;
}

/*
 * @g's cells, one per planned cell: as the guest reported it, else failed
 * with @status (an error when the guest finished fine) and why: @why, or
 * that it was not run because of what happened while running @current.
 */
static void guest_cells(struct guest *g, json_t *got, const char *current, const char *status,
			const char *why)
{
	json_t *byid, *c;
	size_t i;

	/* The cells the guest reported, by id (the last one of an id counts). */
	byid = json_object();
	json_array_foreach(got, i, c)
		json_object_set(byid, results_cell_scenario(c), c);
	g->cells = json_array();
	for (i = 0; i < g->nscen; i++) {
		json_t *cell = json_object_get(byid, g->scen[i]);

		if (cell) {
			json_array_append_new(g->cells, report_cell_new(
				g->k->spec.name, g->smp, g->scen[i], results_cell_status(cell),
				results_cell_outcomes(cell), results_cell_duration_ms(cell),
				results_cell_error(cell), results_cell_racy(cell), NULL));
		} else {
			const char *cs = strcmp(status, "ok") == 0 ? "error" : status;
			char *err;
			json_t *ex;

			if (strcmp(status, "ok") == 0)
				err = xasprintf("the guest did not report this scenario");
			else if (current && strcmp(current, g->scen[i]) == 0)
				err = xasprintf("%s", why);
			else if (!results_have_hello(g->res))
				err = xasprintf("%s", why);
			else
				err = xasprintf("not run: %s while running %s", why,
						current ? current : "(between scenarios)");
			ex = !current || strcmp(current, g->scen[i]) == 0 ||
			     !results_have_hello(g->res) ? excerpt_for(g) : NULL;
			json_array_append_new(g->cells, report_cell_new(g->k->spec.name, g->smp,
					      g->scen[i], cs, NULL, 0, err, 0, ex));
			json_decref(ex);
			free(err);
		}
	}
	json_decref(byid);
}

/*
 * @g's entry in run.json's "guests": how it went (@status, @why), the order
 * it ran its cells in, what it ran unplanned, its protocol errors.
 */
static void guest_report(struct guest *g, json_t *got, json_t *hello, const char *status,
			 const char *why)
{
	struct report_guest_info gi = {
		.kernel = g->k->spec.name, .smp = g->smp, .boot = g->boot, .status = status,
		.accel = g->accel, .boot_ms = g->hello_ms ? g->hello_ms - g->started_ms : 0,
		.duration_ms = g->finished_ms - g->started_ms,
		.console = g->con_name, .results = g->res_name, .events = console_events(g->con),
		.block = g->block, .followup = g->followup, .order_seed = g->order_seed,
		.retried = g->retried, .requeued = g->requeued, .release = g->k->release,
		.error = why,
		.rejected = results_rejected(g->res), .gaps = results_gaps(g->res),
		.reasons = results_reasons(g->res), .diag = vm_diag_line(&g->vm),
		.backend = backend()->name, .host = g->vm.host,
	};
	json_t *order = results_hello_order(hello), *c, *planned = NULL;
	char *log_error = NULL;
	size_t i;

	/* A log the disk refused: run.json says so, as kfarm's warning did. */
	gi.log_error = log_error = guest_log_errors(g);
	/* What the guest ran that the host did not plan: the plan is wrong. */
	gi.unplanned = json_array();
	json_array_foreach(got, i, c) {
		const char *id = results_cell_scenario(c);

		if (id && !json_object_get(g->index, id))
			json_array_append_new(gi.unplanned, json_string(id));
	}
	if (json_array_size(gi.unplanned))
		log_warnx("%s smp%d boot %d: the guest ran %zu cells kfarm did not plan (%s...)",
			  g->k->spec.name, g->smp, g->boot, json_array_size(gi.unplanned),
			  json_string_value(json_array_get(gi.unplanned, 0)));
	/*
	 * The order the guest ran its cells in, as it said; else (no hello, or
	 * a list too long for one record) the plan's.
	 */
	if (order) {
		gi.scenarios = order;
	} else {
		gi.scenarios = planned = json_array();
		for (i = 0; i < g->nscen; i++)
			json_array_append_new(planned, json_string(g->scen[i]));
		gi.scenarios_planned = results_hello_order_cut(hello);
	}
	g->report = report_guest_new(&gi);
	json_decref(gi.unplanned);
	free(log_error);
	json_decref(planned);
}

/* Turns what the guest said (or did not say) into cells and its report entry. */
static void guest_finish(struct guest *g)
{
	json_t *got = results_cells(g->res), *hello = results_hello(g->res);
	const char *current = results_current(g->res);
	const char *status, *why;
	char buf[512];
	int exited_ok = WIFEXITED(g->wait_status) && WEXITSTATUS(g->wait_status) == 0;
	struct lc_seen seen;
	struct lc_outcome oc;

	results_finish(g->res);
	console_finish(g->con);
	g->finished_ms = util_now_ms();
	guest_log_flush(g, &g->con_log);
	guest_log_flush(g, &g->res_log);
	if (!g->k->release && results_hello_uname(hello))
		g->k->release = xstrdup(results_hello_uname(hello));

	seen.complete = results_complete(g->res);
	seen.hello = results_have_hello(g->res);
	seen.panicked = console_panicked(g->con);
	seen.kill = g->kill;
	seen.exited_ok = exited_ok;
	seen.has_diag = vm_diag_line(&g->vm)[0] != '\0';
	oc = lifecycle_outcome(&seen);
	status = oc.status;
	why = outcome_text(g, &oc, buf, sizeof(buf));

	guest_cells(g, got, current, status, why);
	guest_report(g, got, hello, status, why);
	if (g->nscen == 0)
		return; /* the accelerator's canary: its caller reports */
	if (!strcmp(status, "ok"))
		log_info("%s smp%d boot %d: ok, booted in %.1f s, %zu cells in %.1f s",
			 g->k->spec.name, g->smp, g->boot, (g->hello_ms - g->started_ms) / 1000.0,
			 json_array_size(got), (g->finished_ms - g->started_ms) / 1000.0);
	else
		log_info("%s smp%d boot %d: %s: %s", g->k->spec.name, g->smp, g->boot, status, why);
}

/*
 * Whether finished guest @g gets a second attempt: it never reported (its
 * kernel crashed or hung while booting: seen under TCG at SMP 8, once in a
 * few dozen boots of a kernel that otherwise boots), it was not stopped by a
 * signal or unable to start at all, and it had no second attempt yet.
 * The failed attempt stays in the report ("retried").
 */
static int guest_retryable(const struct guest *g, int interrupted)
{
	const char *st = report_guest_status(g->report);

	return !interrupted && !g->retried && g->nscen && st && !strcmp(st, "boot-failed") &&
	       g->kill != LC_KILL_START_FAILED;
}

/* "console-k-smp1.log" -> "console-k-smp1-@tag.log" (owned). */
static char *attempt_name(const char *name, const char *tag)
{
	size_t n = strlen(name);

	return n > 4 && !strcmp(name + n - 4, ".log") ?
	       xasprintf("%.*s-%s.log", (int)(n - 4), name, tag) : xasprintf("%s-%s", name, tag);
}

/*
 * Finished guest @g's attempt set aside, to boot it again: its logs renamed
 * NAME-@tag.log, its entry returned (new) for the report, the guest pending.
 */
static json_t *guest_set_aside(struct guest *g, const char *dir, const char *tag)
{
	char *names[2] = { g->con_name, g->res_name }, *to[2];
	json_t *attempt;
	int i;

	for (i = 0; i < 2; i++) {
		to[i] = attempt_name(names[i], tag);

		if (dir) {
			char *a = xasprintf("%s/%s", dir, names[i]), *b = xasprintf("%s/%s", dir, to[i]);

			if (rename(a, b) < 0)
				log_warnx("%s: %s", a, strerror(errno));
			free(a);
			free(b);
		}
	}
	attempt = report_guest_first_try(g->report, to[0], to[1]);
	free(to[0]);
	free(to[1]);
	guest_release_attempt(g);
	g->kill = LC_KILL_NONE;
	g->kill_text[0] = '\0';
	g->hello_ms = g->finished_ms = 0;
	g->seen_records = 0;
	vm_diag_clear(&g->vm);
	g->wait_status = g->open_streams = g->exited = 0;
	g->state = LC_PENDING;
	return attempt;
}

/* Keep finished guest @g's failed attempt (its logs renamed) and boot it again. */
static int guest_retry(struct guest *g, const struct config *cfg, const char *dir, int epfd,
		       struct kf_error *e)
{
	log_warnx("%s smp%d boot %d: %s; booting it once more", g->k->spec.name, g->smp, g->boot,
		  report_guest_error(g->report));
	g->retried = guest_set_aside(g, dir, "try1");
	return guest_start(g, cfg, dir, epfd, e);
}

/* How often a guest goes elsewhere because its host went away, at most. */
#define MAX_REQUEUES 3

/* Whether @g ended because its host went away (the backend says), and may go elsewhere. */
static int guest_requeueable(const struct guest *g, int interrupted)
{
	return !interrupted && g->nscen && backend()->host_lost &&
	       backend()->host_lost(g->wait_status) && json_array_size(g->requeued) < MAX_REQUEUES;
}

/* Boot @g again on another host: its attempt stays in the report ("requeued"). */
static int guest_requeue(struct guest *g, const struct config *cfg, const char *dir, int epfd,
			 struct kf_error *e)
{
	char tag[16];

	if (!g->requeued)
		g->requeued = json_array();
	snprintf(tag, sizeof(tag), "lost%zu", json_array_size(g->requeued) + 1);
	log_warnx("%s smp%d boot %d: its host %s went away (%s); requeued", g->k->spec.name,
		  g->smp, g->boot, g->vm.host[0] ? g->vm.host : "?", report_guest_error(g->report));
	json_array_append_new(g->requeued, guest_set_aside(g, dir, tag));
	return guest_start(g, cfg, dir, epfd, e);
}

/* A guest the backend could not start (@e says why) is a result too: boot-failed. */
static void guest_start_failed(struct guest *g, const struct kf_error *e)
{
	log_warnx("%s smp%d boot %d: %s", g->k->spec.name, g->smp, g->boot, e->text);
	snprintf(g->kill_text, sizeof(g->kill_text), "%s could not start: %.150s",
		 backend()->name, e->text);
	guest_event(g, LC_START_FAILED, NULL);	/* to LC_DONE: guest_finish() */
}

struct loop {
	int epfd, sigfd;
	int interrupted;
};

static int loop_init(struct loop *l, struct kf_error *e)
{
	sigset_t set;

	l->interrupted = 0;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return error_set(e, "epoll", 0, 0, "%s", strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sigfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev);
	}
	return 0;
}

static void loop_release(struct loop *l)
{
	sigset_t set;

	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/*
 * One step of the event loop over the running guests: reads streams, reaps a
 * guest whose pidfd fired, kills guests past their deadline. Returns the
 * number of guests that finished in this step.
 */
static int loop_step(struct loop *l, struct guest **gs, size_t n, const struct config *cfg)
{
	struct epoll_event evs[32];
	int64_t now = util_now_ms(), next = now + 1000;
	int i, nev, done = 0;
	size_t k;

	for (k = 0; k < n; k++)
		if (lifecycle_live(gs[k]->state) && gs[k]->deadline_ms < next)
			next = gs[k]->deadline_ms;
	nev = epoll_wait(l->epfd, evs, 32, next > now ? (int)(next - now) : 0);
	for (i = 0; i < nev; i++) {
		struct watch *w = evs[i].data.ptr;

		if (!w) {
			struct signalfd_siginfo si;

			while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				l->interrupted = (int)si.ssi_signo;
			continue;
		}
		if (!lifecycle_live(w->g->state))
			continue;
		if (w->kind == W_PID) {
			w->g->exited = 1;
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->g->vm.proc.pidfd, NULL);
			free(w);
			continue;
		}
		if (!guest_read(w->g, w->kind, cfg)) {
			close_stream(w->g, w->kind, l->epfd);
			free(w);
		}
	}
	now = util_now_ms();
	for (k = 0; k < n; k++) {
		struct guest *g = gs[k];

		if (!lifecycle_live(g->state))
			continue;
		if (l->interrupted)
			guest_event(g, LC_INTERRUPT, cfg);
		else if (now >= g->deadline_ms)
			guest_event(g, LC_DEADLINE, cfg);
		/* The guest is done when its VM is gone and every stream hit EOF. */
		if ((g->exited || g->vm.proc.pidfd < 0) && g->open_streams == 0) {
			g->wait_status = backend()->release(&g->vm);
			guest_event(g, LC_GONE, cfg);
			done++;
		}
	}
	return done;
}

/* @accel in capitals, for messages ("KVM"). */
static void upcase(char *out, size_t n, const char *accel)
{
	size_t i;

	for (i = 0; i + 1 < n && accel[i]; i++)
		out[i] = (char)toupper((unsigned char)accel[i]);
	out[i] = 0;
}

const char *run_choose_accel(const struct config *cfg, const struct kernel *k,
			     const char *host, char *reason, size_t n)
{
	const struct vm_backend *b = backend();
	struct guest g;
	struct guest *gs[1] = { &g };
	struct config c = *cfg;
	struct kf_error e;
	struct loop l;
	const char *accel = b->accel_safe;
	char fast[16], safe[16], why[256];

	if (strcmp(cfg->accel, "auto") != 0) {
		snprintf(reason, n, "set to %s by the config or command line", cfg->accel);
		return strcmp(cfg->accel, b->accel_fast) == 0 ? b->accel_fast : b->accel_safe;
	}
	upcase(fast, sizeof(fast), b->accel_fast);
	upcase(safe, sizeof(safe), b->accel_safe);
	if (b->probe(host, b->accel_fast, why, sizeof(why)) < 0) {
		snprintf(reason, n, "%s: %s", why, safe);
		return b->accel_safe;
	}
	memset(&g, 0, sizeof(g));
	g.k = (struct kernel *)k;
	g.smp = 1;
	g.accel = b->accel_fast;
	g.host = host;
	g.boot = 1;
	/* Only its hello counts: it is stopped as soon as that arrives. */
	g.append = xasprintf("%s %s kfarm.run=all "
			     "kfarm.reps=1 kfarm.timeout_ms=1000%s%s", b->console_arg, run_boot_args(),
			     cfg->cmdline[0] ? " " : "", cfg->cmdline);
	g.con_name = xstrdup("-");
	g.res_name = xstrdup("-");
	c.boot_timeout_s = cfg->canary_timeout_s;
	if (loop_init(&l, &e) < 0) {
		snprintf(reason, n, "canary not run (%s): %s", e.text, safe);
		guest_free(&g);
		return b->accel_safe;
	}
	if (guest_start(&g, &c, NULL, l.epfd, &e) < 0) {
		snprintf(reason, n, "%s canary could not start (%s): %s", fast, e.text, safe);
	} else {
		while (g.state != LC_DONE) {
			if (results_have_hello(g.res))
				guest_event(&g, LC_CANARY_DONE, &c);
			loop_step(&l, gs, 1, &c);
		}
		if (g.hello_ms) {
			accel = b->accel_fast;
			snprintf(reason, n, "%s canary guest (%s) reported after %.1f s", fast,
				 k->spec.name, (g.hello_ms - g.started_ms) / 1000.0);
		} else {
			snprintf(reason, n, "%s canary guest (%s) gave no sign of life within %d s "
				 "(nested virtualisation?): %s", fast, k->spec.name,
				 cfg->canary_timeout_s, safe);
		}
	}
	loop_release(&l);
	guest_free(&g);
	return accel;
}

/* Host @h of the backend runs its guests with @a (@r says why): told to the backend, noted in @hosts. */
static void host_accel_set(json_t *hosts, const char *h, const char *a, const char *r)
{
	backend()->host_accel(h, a);
	report_host_accel(hosts, h, a, r);
}

/*
 * The accelerator of each host of the backend (a canary on each, for
 * "auto"), told to the backend and noted in *@hosts (report_host_accel();
 * NULL when guests run on this machine). The run's: the hosts' when they
 * agree, else "mixed".
 */
static const char *choose_accels(const struct run_opts *o, char *reason, size_t n, json_t **hosts)
{
	const struct vm_backend *b = backend();
	const char *h, *a, *accel = NULL;
	char r[512];
	size_t i;

	*hosts = NULL;
	if (!b->host)
		return run_choose_accel(o->cfg, &o->kernels[0], NULL, reason, n);
	*hosts = json_array();
	for (i = 0; (h = b->host(i)); i++) {
		a = run_choose_accel(o->cfg, &o->kernels[0], h, r, sizeof(r));
		host_accel_set(*hosts, h, a, r);
		if (i == 0)
			snprintf(reason, n, "%s", r);
		if (b->host(1))
			log_info("%s: accelerator %s (%s)", h, a, r);
		accel = !accel || !strcmp(accel, a) ? a : "mixed";
	}
	if (i > 1 && !strcmp(o->cfg->accel, "auto"))
		snprintf(reason, n, "%s (a canary on each host)",
			 strcmp(accel, "mixed") ? "the same on every host" : "the hosts differ");
	return accel ? accel : b->accel_safe;
}

/* ---------------------------------------------------------------- the plan */

static int smp_index(const struct config *cfg, int smp);

/* SplitMix64's finaliser: seeds for blocks and their shuffles. */
static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A block: the guests of every kernel for one (smp, boot), with the scenarios
 * (indices into run_opts) and repetitions each of them runs.
 */
struct block {
	int smp, boot, followup, all;
	size_t *idx;
	int *reps;
	size_t n;
};

/*
 * Every guest of the run, in the order their blocks start, and the
 * deterministic cells that showed two outcomes: @want[smp index * n + i] is
 * set once scenario i did at that SMP size on some kernel's boot 1, and
 * @covered counts the boots > 1 that have run or will run it since.
 */
/*
 * The run whose guests of some kernels this one takes (reuse by content):
 * @copy its report_side_copy(), @d/@nd its finished guests there, @placed
 * which of them are kept (a follow-up may be kept once planned), @from_id
 * and @from_dir that run and its folder as the index has it, @prefix the
 * way from this run's folder to its one, @kernels this run's kernel names
 * it gives -> report_reused_ref() (a resumed run: from its run.json only,
 * nothing else set).
 */
struct side {
	json_t *copy;
	struct report_done_guest *d;
	size_t nd;
	unsigned char *placed;
	char *from_id, *from_dir;
	char *prefix;
	char *file;
	json_t *kernels;
};

struct sched {
	struct guest **gs;
	size_t ng, cap;
	int nblocks;
	uint64_t seed;
	unsigned char *want;
	int *covered;
	char initramfs_sha256[65];	/* "" until run_execute() reads it */
	json_t *hosts;			/* the backend's hosts and their accelerators (NULL: this machine) */
	int tcg_single;			/* TCG guests run their vCPUs in one host thread */
	int qboot;			/* guests boot with qboot */
	struct side side;		/* guests taken from another run (reuse by content) */
};

/*
 * The repetitions cell @i gets over all boots of one (kernel, smp): its
 * scenario_reps, else cfg->variant_reps for a variant cell, else cfg->reps
 * (times the multiplier of a racy one); a deterministic one at most its
 * scenario's cap.
 */
static int total_reps(const struct run_opts *o, size_t i)
{
	const struct config *cfg = o->cfg;
	long long n = cfg->reps;
	size_t j;

	for (j = 0; j < cfg->nscenario_reps; j++)
		if (!strcmp(cfg->scenario_reps[j].id, o->scenarios[i]))
			return cfg->scenario_reps[j].reps;
	if (!o->racy[i])
		return own_reps(cfg, o->variant[i], o->reps_max ? o->reps_max[i] : 0,
				cfg->variant_reps);
	if (o->racy[i] > 1)
		n *= o->racy[i];
	return n > 1000000 ? 1000000 : (int)n;
}

/* Boot @b's share (1-based) of @n repetitions split as evenly as can be over @nb. */
static int boot_share(int n, int nb, int b)
{
	return b > nb ? 0 : n / nb + (b <= n % nb);
}

/*
 * The repetitions a deterministic scenario that showed two outcomes gets in
 * its extra boot @b (2..cfg->boots): its share, as a racy scenario's are
 * split (boot 1 already ran them all), at least one.
 */
static int extra_share(const struct run_opts *o, size_t i, int b)
{
	int n = boot_share(total_reps(o, i), o->cfg->boots, b);

	return n > 0 ? n : 1;
}

static void block_add(struct block *b, size_t i, int reps)
{
	b->idx = xrealloc(b->idx, (b->n + 1) * sizeof(*b->idx));
	b->reps = xrealloc(b->reps, (b->n + 1) * sizeof(*b->reps));
	b->idx[b->n] = i;
	b->reps[b->n++] = reps;
}

/* Give guest @g cell @i of @o with @reps repetitions (at the end of its list). */
static void guest_add_scenario(struct guest *g, const struct run_opts *o, size_t i, int reps)
{
	g->scen = xrealloc(g->scen, (g->nscen + 1) * sizeof(*g->scen));
	g->racy = xrealloc(g->racy, (g->nscen + 1) * sizeof(*g->racy));
	g->variant = xrealloc(g->variant, (g->nscen + 1) * sizeof(*g->variant));
	g->reps = xrealloc(g->reps, (g->nscen + 1) * sizeof(*g->reps));
	g->reps_max = xrealloc(g->reps_max, (g->nscen + 1) * sizeof(*g->reps_max));
	if (!g->index)
		g->index = json_object();
	json_object_set_new(g->index, o->scenarios[i], json_integer((json_int_t)g->nscen));
	g->scen[g->nscen] = o->scenarios[i];
	g->racy[g->nscen] = o->racy[i] > 0;
	g->variant[g->nscen] = o->variant[i];
	g->reps_max[g->nscen] = o->reps_max ? o->reps_max[i] : 0;
	g->reps[g->nscen++] = reps;
	if (reps > g->max_reps)
		g->max_reps = reps;
}

/* Take the last cell guest_add_scenario() gave @g back. */
static void guest_drop_last(struct guest *g)
{
	size_t i;

	json_object_del(g->index, g->scen[--g->nscen]);
	g->max_reps = 0;
	for (i = 0; i < g->nscen; i++)
		if (g->reps[i] > g->max_reps)
			g->max_reps = g->reps[i];
}

/* A block's expected duration, to order by: the repetitions its guests run each. */
static long block_work(const struct block *b)
{
	long n = 0;
	size_t j;

	for (j = 0; j < b->n; j++)
		n += b->reps[j];
	return n;
}

/* Whether block @x goes before @y: more repetitions, then more vCPUs (they take longer). */
static int block_longer(const struct block *x, const struct block *y)
{
	long wx = block_work(x), wy = block_work(y);

	return wx != wy ? wx > wy : x->smp > y->smp;
}

/*
 * Order @bl longest first (block_longer()), blocks alike in a shuffle of the
 * run's seed (and @salt, so each phase has its own order), and add a guest
 * of every kernel for each block to @s, in that order: the last guests to
 * finish are short ones, not one long guest alone on an idle host.
 */
static void sched_add_blocks(struct sched *s, const struct run_opts *o, struct block *bl,
			     size_t nb, uint64_t salt)
{
	uint64_t st = mix64(s->seed ^ salt);
	size_t i, j, k;

	for (i = nb; i > 1; i--) {
		struct block t;

		st = mix64(st);
		j = (size_t)(st % i);
		t = bl[i - 1];
		bl[i - 1] = bl[j];
		bl[j] = t;
	}
	/* stable, so that the shuffle orders the alike */
	for (i = 1; i < nb; i++) {
		struct block t = bl[i];

		for (j = i; j > 0 && block_longer(&t, &bl[j - 1]); j--)
			bl[j] = bl[j - 1];
		bl[j] = t;
	}
	for (i = 0; i < nb; i++) {
		/* 53 bits: exact in any JSON reader; odd: never 0 ("no shuffle"). */
		uint64_t order = (mix64(s->seed ^ (salt << 32) ^ ((uint64_t)bl[i].smp << 16) ^
					(uint64_t)bl[i].boot) & ((1ULL << 53) - 1)) | 1;

		s->nblocks++;
		for (k = 0; k < o->nkernels; k++) {
			struct guest *g = xcalloc(1, sizeof(*g));
			const char *sfx = bl[i].boot > 1 ? "-boot" : "";
			char num[16] = "";

			if (bl[i].boot > 1)
				snprintf(num, sizeof(num), "%d", bl[i].boot);
			g->k = &o->kernels[k];
			g->smp = bl[i].smp;
			g->boot = bl[i].boot;
			g->block = s->nblocks;
			g->followup = bl[i].followup;
			g->order_seed = order;
			for (j = 0; j < bl[i].n; j++)
				guest_add_scenario(g, o, bl[i].idx[j], bl[i].reps[j]);
			g->append = make_append(o, g, NULL);
			g->con_name = xasprintf("console-%s-smp%d%s%s.log", g->k->spec.name, g->smp,
						sfx, num);
			g->res_name = xasprintf("results-%s-smp%d%s%s.log", g->k->spec.name, g->smp,
						sfx, num);
			if (s->ng == s->cap) {
				s->cap = s->cap ? 2 * s->cap : 16;
				s->gs = xrealloc(s->gs, s->cap * sizeof(*s->gs));
			}
			s->gs[s->ng++] = g;
		}
		free(bl[i].idx);
		free(bl[i].reps);
	}
	free(bl);
}

/*
 * The first phase: for each SMP size, boot 1 runs every cell that runs there
 * (variant cells only at o->variant_smp; a racy one its first share), boots
 * 2..cfg->boots the racy scenarios' other shares. Every boot-1 block comes
 * first, so that by the time the other boots start it is known which
 * deterministic cells showed two outcomes (they join them).
 */
static void plan_first(struct sched *s, const struct run_opts *o)
{
	const struct config *cfg = o->cfg;
	struct block *first = xcalloc((size_t)cfg->nsmp, sizeof(*first));
	struct block *rest = xcalloc((size_t)cfg->nsmp * (size_t)cfg->boots, sizeof(*rest));
	size_t nf = 0, nr = 0, i;
	int si, b;

	s->want = xcalloc((size_t)cfg->nsmp * o->nscenarios + 1, 1);
	s->covered = xcalloc((size_t)cfg->nsmp * o->nscenarios + 1, sizeof(*s->covered));
	for (si = 0; si < cfg->nsmp; si++) {
		for (b = 1; b <= cfg->boots; b++) {
			struct block *x = b == 1 ? &first[nf] : &rest[nr];

			x->smp = cfg->smp[si];
			x->boot = b;
			for (i = 0; i < o->nscenarios; i++) {
				int n = total_reps(o, i), used = n < cfg->boots ? n : cfg->boots;

				if (!cell_runs_at(o, i, x->smp))
					continue;
				if (o->racy[i])
					n = boot_share(n, used, b);
				else if (b > 1)
					n = 0;
				if (n > 0)
					block_add(x, i, n);
			}
			if (x->n)
				b == 1 ? nf++ : nr++;
		}
	}
	sched_add_blocks(s, o, first, nf, 1);
	sched_add_blocks(s, o, rest, nr, 3);
}

/*
 * That every guest's command line fits; else an error that says whose, how
 * long and what to do.
 */
static int plan_check(const struct sched *s, const struct run_opts *o, size_t from,
		      struct kf_error *e)
{
	size_t i;

	for (i = from; i < s->ng; i++) {
		const struct guest *g = s->gs[i];
		size_t rf;
		char *a = make_append(o, g, &rf);
		size_t len = strlen(a);

		free(a);
		if (len > RUN_MAX_CMDLINE)
			return error_set(e, "scenarios", 0, 0,
					 "the kernel command line of %s's boot %d at SMP %d would be %zu "
					 "bytes (%zu cells), more than the %d kfarm allows (the kernel's "
					 "limit is 2048): select fewer cells, or whole scenarios with "
					 "ID[*] or all, or a shorter cmdline",
					 g->k->spec.name, g->boot, g->smp, len, g->nscen, RUN_MAX_CMDLINE);
		if (rf > RUN_MAX_REPS_FOR)
			return error_set(e, "scenario_reps", 0, 0,
					 "kfarm.reps_for= of %s's boot %d at SMP %d would be %zu bytes, "
					 "more than the %d the guest runner reads: give fewer cells "
					 "their own repetitions", g->k->spec.name, g->boot, g->smp, rf,
					 RUN_MAX_REPS_FOR);
	}
	return 0;
}

/* The cell guest @g reported for id @id, or NULL. */
static json_t *guest_cell(const struct guest *g, const char *id)
{
	json_t *at;

	if (g->state != LC_DONE)
		return NULL;
	at = json_object_get(g->index, id);
	return at ? json_array_get(g->cells, (size_t)json_integer_value(at)) : NULL;
}

/*
 * Note the deterministic cells whose cell showed more than one outcome on
 * boot-1 guest @g (done): they are to get boots of their own.
 */
static void sched_examine(struct sched *s, const struct run_opts *o, struct guest *g)
{
	int si = smp_index(o->cfg, g->smp);
	size_t i;

	g->examined = 1;
	if (g->boot != 1 || g->followup)
		return;
	for (i = 0; i < o->nscenarios; i++) {
		json_t *c = o->racy[i] ? NULL : guest_cell(g, o->scenarios[i]);
		const char *st = report_cell_status(c);

		if (st && !strcmp(st, "ok") && json_array_size(report_cell_outcomes(c)) > 1)
			s->want[(size_t)si * o->nscenarios + i] = 1;
	}
}

/*
 * Before the block at @next starts: when it is a boot > 1, every wanted
 * cell at its SMP size that it lacks joins each of its guests, with its
 * share of the repetitions (unless the command line would grow too long:
 * then a follow-up guest runs it).
 */
static void sched_join_wanted(struct sched *s, const struct run_opts *o, size_t next, size_t n)
{
	int si = smp_index(o->cfg, s->gs[next]->smp);
	size_t i, k;

	if (s->gs[next]->boot == 1)
		return;
	for (i = 0; i < o->nscenarios; i++) {
		size_t w = (size_t)si * o->nscenarios + i;
		int fits = 1;

		if (!s->want[w] || s->covered[w] >= o->cfg->boots - 1)
			continue;
		if (json_object_get(s->gs[next]->index, o->scenarios[i]))
			continue;
		for (k = next; k < next + n; k++) {
			guest_add_scenario(s->gs[k], o, i, extra_share(o, i, s->gs[k]->boot));
			fits &= append_fits(o, s->gs[k]);
		}
		if (fits) {
			s->covered[w]++;
			continue;
		}
		for (k = next; k < next + n; k++)
			guest_drop_last(s->gs[k]);
	}
	for (k = next; k < next + n; k++) {
		free(s->gs[k]->append);
		s->gs[k]->append = make_append(o, s->gs[k], NULL);
	}
}

/*
 * Append @x to @bl (@nb of @cap) split into blocks whose guests' command
 * lines fit, each with the next boot number at its SMP size (@boot).
 */
static void block_fit(const struct run_opts *o, struct block *x, struct block **bl, size_t *nb,
		      size_t *cap, int *boot)
{
	struct guest t;
	struct block cur = { .smp = x->smp, .followup = x->followup };
	size_t j;

	memset(&t, 0, sizeof(t));
	t.smp = x->smp;
	t.order_seed = (1ULL << 53) - 1; /* the longest */
	for (j = 0; j <= x->n; j++) {
		int full = 0;

		if (j < x->n) {
			guest_add_scenario(&t, o, x->idx[j], x->reps[j]);
			full = t.nscen > 1 && !append_fits(o, &t);
		}
		if ((j == x->n && cur.n) || full) {
			if (*nb == *cap) {
				*cap = *cap ? 2 * *cap : 8;
				*bl = xrealloc(*bl, *cap * sizeof(**bl));
			}
			cur.boot = (*boot)++;
			(*bl)[(*nb)++] = cur;
			memset(&cur, 0, sizeof(cur));
			cur.smp = x->smp;
			cur.followup = x->followup;
			/* the cell that did not fit starts the next one */
			guest_cells_release(&t);
			memset(&t, 0, sizeof(t));
			t.smp = x->smp;
			t.order_seed = (1ULL << 53) - 1;
			if (j < x->n)
				guest_add_scenario(&t, o, x->idx[j], x->reps[j]);
		}
		if (j < x->n)
			block_add(&cur, x->idx[j], x->reps[j]);
	}
	guest_cells_release(&t);
	free(x->idx);
	free(x->reps);
}

/*
 * Once every other guest is done: the wanted cells that joined fewer than
 * cfg->boots - 1 boots get follow-up blocks of their own ("followup"), each
 * with the cell's share of the repetitions; a block whose command line would
 * be too long is split into several. Returns the number of guests added.
 */
static size_t plan_followups(struct sched *s, const struct run_opts *o)
{
	const struct config *cfg = o->cfg;
	struct block *bl = NULL;
	size_t nb = 0, cap = 0, before = s->ng, i, j;
	int si, b;

	for (si = 0; si < cfg->nsmp && cfg->boots > 1; si++) {
		int smp = cfg->smp[si], next = 1;

		for (j = 0; j < s->ng; j++)
			if (s->gs[j]->smp == smp && s->gs[j]->boot >= next)
				next = s->gs[j]->boot + 1;
		for (b = 1; b < cfg->boots; b++) {
			struct block x = { .smp = smp, .followup = 1 };

			for (i = 0; i < o->nscenarios; i++) {
				size_t w = (size_t)si * o->nscenarios + i;

				if (s->want[w] && s->covered[w] + b <= cfg->boots - 1)
					block_add(&x, i, extra_share(o, i, b + 1));
			}
			if (x.n)
				block_fit(o, &x, &bl, &nb, &cap, &next);
		}
	}
	if (nb)
		sched_add_blocks(s, o, bl, nb, 2);
	else
		free(bl);
	return s->ng - before;
}

/* ---------------------------------------------------------------- the report */

static int kernel_index(const struct run_opts *o, const struct kernel *k)
{
	return (int)(k - o->kernels);
}

static int smp_index(const struct config *cfg, int smp)
{
	int i;

	for (i = 0; i < cfg->nsmp; i++)
		if (cfg->smp[i] == smp)
			return i;
	return cfg->nsmp;
}

/*
 * The cell of (@k, @smp, @id) over every finished guest that ran it, in boot
 * order, merged by report_cell_merge().
 */
static json_t *merged_cell(const struct sched *s, const struct kernel *k, int smp,
			   const char *id)
{
	json_t *parts[CONFIG_BOOTS_MAX * 2 + 2];
	int bootno[CONFIG_BOOTS_MAX * 2 + 2];
	size_t n = 0, i, j;

	for (i = 0; i < s->ng && n < sizeof(parts) / sizeof(parts[0]); i++) {
		json_t *c = s->gs[i]->k == k && s->gs[i]->smp == smp ? guest_cell(s->gs[i], id) : NULL;

		if (!c)
			continue;
		/* In boot order. */
		for (j = n; j > 0 && bootno[j - 1] > s->gs[i]->boot; j--) {
			parts[j] = parts[j - 1];
			bootno[j] = bootno[j - 1];
		}
		parts[j] = c;
		bootno[j] = s->gs[i]->boot;
		n++;
	}
	return report_cell_merge(parts, bootno, n, k->spec.name, smp, id);
}

/* How long @g ran alongside each other guest that had started (ms). */
static json_t *guest_overlap(const struct sched *s, const struct guest *g, int64_t now)
{
	json_t *ov = json_array();
	size_t i;

	for (i = 0; i < s->ng; i++) {
		const struct guest *h = s->gs[i];
		int64_t from, to;

		if (h == g || h->state == LC_PENDING || !h->started_ms)
			continue;
		from = g->started_ms > h->started_ms ? g->started_ms : h->started_ms;
		to = g->finished_ms < (h->finished_ms ? h->finished_ms : now) ?
		     g->finished_ms : (h->finished_ms ? h->finished_ms : now);
		if (to > from)
			report_overlap_add(ov, h->k->spec.name, h->smp, h->boot, to - from);
	}
	return ov;
}

static int cmp_guest(const void *x, const void *y, void *arg)
{
	const struct guest *a = *(struct guest *const *)x, *b = *(struct guest *const *)y;
	const struct run_opts *o = arg;
	int d = kernel_index(o, a->k) - kernel_index(o, b->k);

	if (!d)
		d = smp_index(o->cfg, a->smp) - smp_index(o->cfg, b->smp);
	return d ? d : a->boot - b->boot;
}

static json_t *build_report(const struct run_opts *o, const struct sched *s, const char *id,
			    const char *started, const char *finished, const char *accel,
			    const char *reason, const char *vm_version)
{
	const struct config *cfg = o->cfg;
	struct guest **byplace = xmalloc((s->ng + 1) * sizeof(*byplace));
	int64_t now = util_now_ms();
	struct utsname un;
	char host[256] = "";
	struct report_meta m = {
		.id = id, .started = started, .config = cfg->source, .hostname = host,
		.host_cpus = util_ncpus(), .vm_binary = cfg->vm_binary, .vm_version = vm_version,
		.accel = accel, .accel_reason = reason, .reps = cfg->reps, .boots = cfg->boots,
		.timeout_ms = cfg->timeout_ms, .variant_reps = cfg->variant_reps,
		.seed = (long long)s->seed, .space = cfg->space, .variant_smp = o->variant_smp,
		.nvariant_smp = o->nvariant_smp, .hosts = s->hosts,
		.tcg_threads = !strcmp(accel, "kvm") ? NULL : s->tcg_single ? "single" : "multi",
		.firmware = s->qboot ? "qboot" : "seabios",
	};
	json_t *run;
	size_t i, j;
	int si;

	uname(&un);
	gethostname(host, sizeof(host) - 1);
	m.host_kernel = un.release;
	run = report_new(&m);
	for (i = 0; i < o->nkernels; i++) {
		const struct kernel *k = &o->kernels[i];

		report_add_kernel(run, k->spec.name, k->source, k->spec.arg, k->path, k->sha256,
				  k->boot, k->release);
		report_kernel_set_reused(run, k->spec.name,
					 json_object_get(s->side.kernels, k->spec.name));
	}
	for (si = 0; si < cfg->nsmp; si++)
		report_add_smp(run, cfg->smp[si]);
	for (i = 0; i < o->nscenarios; i++)
		report_add_scenario(run, o->scenarios[i]);
	/* Cells in a stable order: kernel, smp, scenario, as the matrix was laid. */
	for (i = 0; i < o->nkernels; i++)
		for (si = 0; si < cfg->nsmp; si++)
			for (j = 0; j < o->nscenarios; j++) {
				json_t *c = cell_runs_at(o, j, cfg->smp[si]) ?
					    merged_cell(s, &o->kernels[i], cfg->smp[si],
							o->scenarios[j]) : NULL;

				if (c)
					report_add_cell(run, c);
			}
	memcpy(byplace, s->gs, s->ng * sizeof(*byplace));
	qsort_r(byplace, s->ng, sizeof(*byplace), cmp_guest, (void *)o);
	for (i = 0; i < s->ng; i++)
		if (byplace[i]->state == LC_DONE)
			report_add_guest(run, json_copy(byplace[i]->report),
					 byplace[i]->kept ? json_deep_copy(byplace[i]->overlap) :
					 guest_overlap(s, byplace[i], now));
	free(byplace);
	if (finished)
		report_set_finished(run, finished);
	for (i = 0; i < cfg->nscenario_reps; i++)
		report_set_scenario_reps(run, cfg->scenario_reps[i].id, cfg->scenario_reps[i].reps);
	if (s->initramfs_sha256[0])
		report_set_inputs(run, s->initramfs_sha256, cfg->memory_mb, run_boot_args(),
				  cfg->cmdline);
	if (o->nightly)
		report_set_nightly(run);
	return run;
}

/*
 * Progress for a supervisor (o->progress_fd > 0): a JSON line whenever a count
 * changes (@last: the counts last written). A supervisor that went away is
 * not an error: the run goes on and keeps its report.
 */
static void write_progress(const struct run_opts *o, const struct sched *s, size_t done,
			   long long last[4])
{
	long long now[4] = { (long long)done, (long long)s->ng, 0, 0 };
	size_t i;

	if (o->progress_fd <= 0)
		return;
	for (i = 0; i < s->ng; i++) {
		const struct guest *g = s->gs[i];

		now[2] += g->kept ? (long long)g->nscen :
			  g->res ? (long long)json_array_size(results_cells(g->res)) : 0;
		now[3] += (long long)g->nscen;
	}
	if (!memcmp(now, last, sizeof(now)))
		return;
	memcpy(last, now, sizeof(now));
	signal(SIGPIPE, SIG_IGN);
	if (dprintf(o->progress_fd, "{\"guests_done\": %lld, \"guests_total\": %lld, "
		    "\"cells_done\": %lld, \"cells_total\": %lld}\n",
		    now[0], now[1], now[2], now[3]) < 0)
		log_debug("progress fd %d: %s", o->progress_fd, strerror(errno));
}

static void show_progress(const struct sched *s, size_t done)
{
	char line[512];
	size_t i, len;

	if (!log_is_tty())
		return;
	len = (size_t)snprintf(line, sizeof(line), "[%zu/%zu guests]", done, s->ng);
	for (i = 0; i < s->ng && len < sizeof(line) - 80; i++) {
		const struct guest *g = s->gs[i];
		const char *cur;

		if (!lifecycle_live(g->state))
			continue;
		cur = results_current(g->res);
		if (!results_have_hello(g->res))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s/smp%d#%d: booting",
						g->k->spec.name, g->smp, g->boot);
		else
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" %s/smp%d#%d: %s (%zu/%zu)", g->k->spec.name, g->smp,
						g->boot, cur ? cur : "...",
						json_array_size(results_cells(g->res)) + 1, g->nscen);
	}
	log_progress("%s", line);
}

/* How many guests from @next on belong to the same block. */
static size_t block_size(const struct sched *s, size_t next)
{
	size_t n = 0;

	while (next + n < s->ng && s->gs[next + n]->block == s->gs[next]->block)
		n++;
	return n;
}

static size_t count_variants(const struct run_opts *o)
{
	size_t i, n = 0;

	for (i = 0; i < o->nscenarios; i++)
		n += o->variant[i] != 0;
	return n;
}

/* A new run seed: 31 bits, never 0. */
static int new_seed(void)
{
	return (int)(mix64((uint64_t)getpid() << 32 ^ (uint64_t)util_now_ms() ^
			   (uint64_t)time(NULL)) & 0x7fffffff) | 1;
}

/* ---------------------------------------------------------------- resuming */

/*
 * The id, start time and seed of the run to resume (o->resume, read from
 * @file) into @id, @started and s->seed: a resumed run is that run, its
 * blocks in the same order. A seed given now must be that one.
 */
static int resume_identity(const struct run_opts *o, struct sched *s, char *id, size_t nid,
			   char *started, size_t nstarted, const char *file, struct kf_error *e)
{
	struct report_run_info ri;
	long long seed;

	if (report_resume_info(o->resume, file, &ri, &seed, e) < 0)
		return -1;
	if (o->cfg->seed && o->cfg->seed != seed)
		return error_set(e, file, 0, 0, "seed was %lld in the run to resume, %d now "
				 "(--seed, or the config's seed): --resume takes the options of "
				 "that run's command line", seed, o->cfg->seed);
	snprintf(id, nid, "%s", ri.id);
	snprintf(started, nstarted, "%s", ri.started);
	s->seed = (uint64_t)seed;
	/* as that run ran its TCG guests (multi before it said) */
	s->tcg_single = ri.tcg_threads && !strcmp(ri.tcg_threads, "single");
	s->qboot = ri.firmware && !strcmp(ri.firmware, "qboot");
	return 0;
}

/*
 * That the run asked for plans the guests the run to resume planned: its
 * report as this plan would start it, compared key by key (report.c).
 */
static int resume_same_plan(const struct run_opts *o, const struct sched *s, const char *id,
			    const char *file, struct kf_error *e)
{
	json_t *now = build_report(o, s, id, "", NULL, "", "", NULL);
	int ret = report_same_plan(o->resume, now, file, e);

	json_decref(now);
	return ret;
}

/* Every host of the backend runs its guests with @a (the run resumed used it), noted in *@hosts. */
static const char *hosts_all(const char *a, const char *reason, json_t **hosts)
{
	const char *h;
	size_t i;

	if (backend()->host) {
		*hosts = json_array();
		for (i = 0; (h = backend()->host(i)); i++)
			host_accel_set(*hosts, h, a, reason);
	}
	return a;
}

/*
 * The accelerator of a resumed run: the one the run to resume used (left to
 * auto, no canary boots), which one given now must name; hosts that had
 * different ones ("mixed") each get their canary again. *@hosts as
 * choose_accels().
 */
static const char *resume_accel(const struct run_opts *o, const char *file, char *reason,
				size_t n, json_t **hosts, struct kf_error *e)
{
	const struct vm_backend *b = backend();
	struct report_run_info ri;
	const char *first;

	*hosts = NULL;
	report_run_info(o->resume, &ri);
	if (!strcmp(ri.accel, "mixed") && b->host && !strcmp(o->cfg->accel, "auto")) {
		log_info("the run to resume had hosts of different accelerators: a canary on each again");
		return choose_accels(o, reason, n, hosts);
	}
	first = !strcmp(ri.accel, b->accel_fast) ? b->accel_fast :
		!strcmp(ri.accel, b->accel_safe) ? b->accel_safe : NULL;
	if (!first) {
		error_set(e, file, 0, 0, "the run to resume used the accelerator %s, which %s does "
			  "not offer here", ri.accel, b->name);
		return NULL;
	}
	if (strcmp(o->cfg->accel, "auto")) {
		const char *now = run_choose_accel(o->cfg, &o->kernels[0], NULL, reason, n);

		if (strcmp(now, first)) {
			error_set(e, file, 0, 0, "the accelerator was %s in the run to resume, %s now "
				  "(--accel): --resume takes the options of that run's "
				  "command line", first, now);
			return NULL;
		}
		return hosts_all(now, reason, hosts);
	}
	snprintf(reason, n, "%s", ri.accel_reason ? ri.accel_reason : "the run resumed used it");
	return hosts_all(first, reason, hosts);
}

/* The planned guest of @s that is (kernel, smp, boot) of finished guest @d, or NULL. */
static struct guest *sched_find(const struct sched *s, const struct report_done_guest *d)
{
	size_t i;

	for (i = 0; i < s->ng; i++)
		if (!strcmp(s->gs[i]->k->spec.name, d->kernel) && s->gs[i]->smp == d->smp &&
		    s->gs[i]->boot == d->boot)
			return s->gs[i];
	return NULL;
}

/*
 * Keep finished guest @d as planned guest @g: its entry, overlap and cells,
 * with the cells it ran beyond its plan (deterministic cells that joined a
 * boot > 1: sched_join_wanted()) given to @g too. @ids: cell id -> its index
 * in @o. 0, or -1 with @e when @d is not what @g plans.
 */
static int guest_keep(struct guest *g, const struct run_opts *o, json_t *ids,
		      const struct report_done_guest *d, const char *file, struct kf_error *e)
{
	const char *id;
	json_t *c;
	size_t i;

	if (g->block != d->block || g->followup != d->followup || g->order_seed != d->order_seed)
		return error_set(e, file, 0, 0, "guests[%zu] (kernel %s, SMP %d, boot %d) was block "
				 "%d%s, order seed %llu; this plan has it as block %d%s, order seed "
				 "%llu", d->index, d->kernel, d->smp, d->boot, d->block,
				 d->followup ? " (a follow-up)" : "", d->order_seed, g->block,
				 g->followup ? " (a follow-up)" : "", g->order_seed);
	for (i = 0; i < g->nscen; i++)
		if (!json_object_get(d->cells, g->scen[i]))
			return error_set(e, file, 0, 0, "guests[%zu] (kernel %s, SMP %d, boot %d) did "
					 "not run %s, which this plan gives it", d->index, d->kernel,
					 d->smp, d->boot, g->scen[i]);
	g->planned = g->nscen;
	json_object_foreach(d->cells, id, c) {
		json_t *at = json_object_get(ids, id);

		if (json_object_get(g->index, id))
			continue;
		i = at ? (size_t)json_integer_value(at) : 0;
		if (!at || o->racy[i] || g->boot == 1 || !cell_runs_at(o, i, g->smp))
			return error_set(e, file, 0, 0, "guests[%zu] (kernel %s, SMP %d, boot %d) ran "
					 "%s, which this plan does not give it", d->index, d->kernel,
					 d->smp, d->boot, id);
		guest_add_scenario(g, o, i, extra_share(o, i, g->boot));
	}
	g->cells = json_array();
	for (i = 0; i < g->nscen; i++)
		json_array_append(g->cells, json_object_get(d->cells, g->scen[i]));
	g->report = json_incref(d->entry);
	g->overlap = json_incref(d->overlap);
	g->state = LC_DONE;
	g->kept = 1;
	return 0;
}

/*
 * Keep every finished guest of @d (@nd) not yet @placed that is a guest of
 * @s. 0, or -1 with @e.
 */
static int sched_keep(struct sched *s, const struct run_opts *o, json_t *ids,
		      const struct report_done_guest *d, size_t nd, unsigned char *placed,
		      const char *file, struct kf_error *e)
{
	size_t i;

	for (i = 0; i < nd; i++) {
		struct guest *g = placed[i] ? NULL : sched_find(s, &d[i]);

		if (!g)
			continue;
		if (guest_keep(g, o, ids, &d[i], file, e) < 0)
			return -1;
		placed[i] = 1;
	}
	return 0;
}

/*
 * The cells that joined the kept guests of a boot > 1 block when it started
 * (those past the plan's): each counts as a boot of its cell, as it did, and
 * is given to the block's guests that boot again, so that the block runs one
 * list; such a block takes no new joins. Blocks settled before are skipped.
 */
static void sched_keep_joins(struct sched *s, const struct run_opts *o)
{
	unsigned char *in = xcalloc(o->nscenarios + 1, 1);
	size_t next, n, k, i, j;

	for (next = 0; next < s->ng; next += n) {
		struct guest *first = s->gs[next];
		int si = smp_index(o->cfg, first->smp), kept = 0;

		n = block_size(s, next);
		for (k = next; k < next + n; k++)
			kept |= s->gs[k]->kept;
		if (!kept || first->joined || first->boot == 1)
			continue;
		memset(in, 0, o->nscenarios);
		for (k = next; k < next + n; k++)
			for (j = s->gs[k]->kept ? s->gs[k]->planned : s->gs[k]->nscen;
			     j < s->gs[k]->nscen; j++)
				for (i = 0; i < o->nscenarios; i++)
					in[i] |= o->scenarios[i] == s->gs[k]->scen[j];
		for (i = 0; i < o->nscenarios; i++) {
			if (!in[i])
				continue;
			s->covered[(size_t)si * o->nscenarios + i]++;
			for (k = next; k < next + n; k++)
				if (!json_object_get(s->gs[k]->index, o->scenarios[i]))
					guest_add_scenario(s->gs[k], o, i,
							   extra_share(o, i, s->gs[k]->boot));
		}
		for (k = next; k < next + n; k++) {
			s->gs[k]->joined = 1;
			if (!s->gs[k]->kept) {
				free(s->gs[k]->append);
				s->gs[k]->append = make_append(o, s->gs[k], NULL);
			}
		}
	}
	free(in);
}

/* How many of the first @n guests of @s are kept. */
static size_t count_kept(const struct sched *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += s->gs[i]->kept;
	return k;
}

/*
 * Keep in @s (planned from the same seed) the finished guests of the run to
 * resume (o->resume, read from @file): each must be a guest of the plan that
 * ran what the plan gives it. Kept boot-1 guests are examined for cells with
 * two outcomes and the joins of kept blocks counted, as the run had done;
 * when the whole first phase is kept, the follow-ups are planned now
 * (*@followups_planned) for kept follow-up guests to find their place.
 * Returns how many guests are kept, or -1 with @e.
 */
static long sched_resume(struct sched *s, const struct run_opts *o, const char *file,
			 int *followups_planned, struct kf_error *e)
{
	struct report_done_guest *d = NULL;
	size_t nd = 0, i, first_phase = s->ng;
	unsigned char *placed = NULL;
	json_t *ids = json_object();
	long ret = -1;

	if (report_done_guests(o->resume, file, &d, &nd, e) < 0)
		goto cleanup;
	for (i = 0; i < o->nscenarios; i++)
		json_object_set_new(ids, o->scenarios[i], json_integer((json_int_t)i));
	placed = xcalloc(nd + 1, 1);
	if (sched_keep(s, o, ids, d, nd, placed, file, e) < 0)
		goto cleanup;
	for (i = 0; i < s->ng; i++)
		if (s->gs[i]->kept)
			sched_examine(s, o, s->gs[i]);
	sched_keep_joins(s, o);
	if (count_kept(s, first_phase) == first_phase) {
		*followups_planned = 1;
		plan_followups(s, o);
		if (sched_keep(s, o, ids, d, nd, placed, file, e) < 0)
			goto cleanup;
		for (i = first_phase; i < s->ng; i++)
			if (s->gs[i]->kept)
				sched_examine(s, o, s->gs[i]);
		sched_keep_joins(s, o);
	}
	for (i = 0; i < nd; i++) {
		if (placed[i])
			continue;
		error_set(e, file, 0, 0, "guests[%zu] (kernel %s, SMP %d, boot %d%s) is not a guest "
			  "of this plan%s", d[i].index, d[i].kernel, d[i].smp, d[i].boot,
			  d[i].followup ? ", a follow-up" : "",
			  d[i].followup && !*followups_planned ?
			  ", and follow-ups come only once every other guest has finished" : "");
		goto cleanup;
	}
	ret = (long)count_kept(s, s->ng);
cleanup:
	report_done_guests_free(d, nd);
	free(placed);
	json_decref(ids);
	return ret;
}

/* The kernels' releases as the run to resume learnt them (kept guests say no hello now). */
static void resume_releases(const struct run_opts *o)
{
	struct report_kernel_info ki;
	size_t i;

	for (i = 0; i < o->nkernels; i++) {
		json_t *k = report_kernel(o->resume, o->kernels[i].spec.name, NULL);

		if (!k || o->kernels[i].release)
			continue;
		report_kernel_info(k, &ki);
		if (ki.release)
			o->kernels[i].release = xstrdup(ki.release);
	}
}

/* A resumed run: the kernels whose guests its run.json says were taken from another run. */
static void sides_resumed(const struct run_opts *o, struct sched *s)
{
	size_t i;

	for (i = 0; i < o->nkernels; i++) {
		json_t *r = report_kernel_reused(report_kernel(o->resume, o->kernels[i].spec.name,
							       NULL));

		if (!r)
			continue;
		if (!s->side.kernels)
			s->side.kernels = json_object();
		json_object_set(s->side.kernels, o->kernels[i].spec.name, r);
	}
}

/*
 * Resume o->resume in @s: its identity, its plan checked against this one
 * (planned here, the first phase), its finished guests kept. The number
 * kept, or -1 with @e.
 */
static long resume_prepare(const struct run_opts *o, struct sched *s, char *id, size_t nid,
			   char *started, size_t nstarted, const char *file,
			   int *followups_planned, struct kf_error *e)
{
	long kept;

	if (resume_identity(o, s, id, nid, started, nstarted, file, e) < 0)
		return -1;
	plan_first(s, o);
	if (plan_check(s, o, 0, e) < 0 || resume_same_plan(o, s, id, file, e) < 0)
		return -1;
	kept = sched_resume(s, o, file, followups_planned, e);
	if (kept < 0 || plan_check(s, o, 0, e) < 0)
		return -1;
	resume_releases(o);
	sides_resumed(o, s);
	return kept;
}

/* The guests of @s as run_plan() and run_resume_plan() show them. */
static json_t *plan_json(const struct sched *s, int with_kept)
{
	json_t *out = json_array();
	size_t i, j;

	for (i = 0; i < s->ng; i++) {
		const struct guest *g = s->gs[i];
		json_t *sc = json_array(), *reps = json_array(), *ent;

		for (j = 0; j < g->nscen; j++) {
			json_array_append_new(sc, json_string(g->scen[j]));
			json_array_append_new(reps, json_integer(g->reps[j]));
		}
		ent = json_pack("{s:s, s:i, s:i, s:i, s:b, s:o, s:o, s:s}", "kernel", g->k->spec.name,
				"smp", g->smp, "boot", g->boot, "block", g->block,
				"followup", g->followup, "scenarios", sc, "reps", reps,
				"append", g->append);
		if (with_kept)
			json_object_set_new(ent, "kept", json_boolean(g->kept));
		json_array_append_new(out, ent);
	}
	return out;
}

static void side_release(struct side *sd)
{
	report_done_guests_free(sd->d, sd->nd);
	free(sd->placed);
	json_decref(sd->copy);
	free(sd->from_id);
	free(sd->from_dir);
	free(sd->prefix);
	free(sd->file);
	json_decref(sd->kernels);
	memset(sd, 0, sizeof(*sd));
}

/* Free the guests of @s and its tables. */
static void sched_release(struct sched *s)
{
	size_t i;

	for (i = 0; i < s->ng; i++) {
		guest_free(s->gs[i]);
		free(s->gs[i]);
	}
	free(s->gs);
	free(s->want);
	free(s->covered);
	json_decref(s->hosts);
	side_release(&s->side);
}

json_t *run_resume_plan(const struct run_opts *o, const char *file, struct kf_error *e)
{
	char id[256], started[64];
	int followups_planned = 0;
	json_t *out = NULL;
	struct sched s;

	memset(&s, 0, sizeof(s));
	if (resume_prepare(o, &s, id, sizeof(id), started, sizeof(started), file,
			   &followups_planned, e) >= 0)
		out = plan_json(&s, 1);
	sched_release(&s);
	return out;
}

json_t *run_plan(const struct run_opts *o, char *const *want, size_t nwant,
		 struct kf_error *e)
{
	const struct config *cfg = o->cfg;
	json_t *out = NULL;
	struct sched s;
	size_t i, j, next;
	int si;

	memset(&s, 0, sizeof(s));
	s.seed = (uint64_t)(cfg->seed ? cfg->seed : 1);
	plan_first(&s, o);
	if (plan_check(&s, o, 0, e) < 0)
		goto cleanup;
	for (i = 0; i < nwant; i++)
		for (j = 0; j < o->nscenarios; j++)
			for (si = 0; si < cfg->nsmp; si++)
				if (!strcmp(o->scenarios[j], want[i]) && !o->racy[j] &&
				    cell_runs_at(o, j, cfg->smp[si]))
					s.want[(size_t)si * o->nscenarios + j] = 1;
	for (next = 0; next < s.ng; next += block_size(&s, next))
		sched_join_wanted(&s, o, next, block_size(&s, next));
	plan_followups(&s, o);
	if (plan_check(&s, o, 0, e) < 0)
		goto cleanup;
	out = plan_json(&s, 0);
cleanup:
	sched_release(&s);
	return out;
}

/* A run id: the UTC time and 16 random-ish bits, "20261202T012004Z-6d75". */
static void new_run_id(char *id, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	size_t len;

	gmtime_r(&t, &tm);
	len = strftime(id, n, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(id + len, n - len, "-%04x",
		 (unsigned)(getpid() ^ (unsigned)util_now_ms()) & 0xffff);
}

/* OUTPUT/latest -> @id, the run just written. */
static void link_latest(const char *output_dir, const char *id)
{
	char *latest = xasprintf("%s/latest", output_dir);

	unlink(latest);
	if (symlink(id, latest) < 0)
		log_debug("cannot link %s: %s", latest, strerror(errno));
	free(latest);
}

/* How many guests of the block at @next are to boot (not kept from a resumed run). */
static size_t block_to_boot(const struct sched *s, size_t next)
{
	size_t n = block_size(s, next), k, m = 0;

	for (k = next; k < next + n; k++)
		m += !s->gs[k]->kept;
	return m;
}

/*
 * The host cores a guest of @smp vCPUs keeps busy with @accel: one when TCG
 * runs its vCPUs in one thread, else a core a vCPU, up to all of them.
 */
static int guest_weight(const struct sched *s, const char *accel, int smp)
{
	int ncpus = util_ncpus();

	if (s->tcg_single && !strcmp(accel, "tcg"))
		return 1;
	return smp < ncpus ? smp : ncpus;
}

/*
 * Whether the block at @next, of @n guests to boot, fits now beside the
 * @running ones: within @parallel guests at once (0: no cap), and then where
 * the backend has hosts, with room on them for its vCPUs, else within this
 * machine's cores, each guest weighing guest_weight().
 */
static int block_fits(const struct sched *s, size_t next, size_t n, size_t running, int parallel,
		      const char *accel)
{
	const struct vm_backend *b = backend();
	int *vcpus;
	size_t k, m = 0;
	int ok, w = 0;

	if (parallel > 0 && running + n > (size_t)parallel)
		return 0;
	if (!b->room) {
		if (parallel > 0)
			return 1;
		for (k = 0; k < next + block_size(s, next); k++)
			if (k < next ? lifecycle_live(s->gs[k]->state) : !s->gs[k]->kept)
				w += guest_weight(s, accel, s->gs[k]->smp);
		return w <= util_ncpus();
	}
	vcpus = xcalloc(n ? n : 1, sizeof(*vcpus));
	for (k = next; k < next + block_size(s, next); k++)
		if (!s->gs[k]->kept && m < n)
			vcpus[m++] = s->gs[k]->smp;
	ok = b->room(vcpus, m);
	free(vcpus);
	return ok;
}

/*
 * Start the blocks from *@next on while there is room: a block starts whole,
 * when there is room for all of it or nothing runs. A guest the backend
 * cannot start is done at once (boot-failed). Kept guests are not started; a
 * block of kept guests only is passed over.
 */
static void start_blocks(struct sched *s, const struct run_opts *o, struct loop *l,
			 const char *dir, const char *accel, int parallel, size_t *next,
			 size_t *running, size_t *done)
{
	struct kf_error e;

	while (!l->interrupted && *next < s->ng &&
	       (*running == 0 ||
		block_fits(s, *next, block_to_boot(s, *next), *running, parallel, accel))) {
		size_t end = *next + block_size(s, *next);

		if (!s->gs[*next]->joined)
			sched_join_wanted(s, o, *next, end - *next);
		for (; *next < end; (*next)++) {
			struct guest *g = s->gs[*next];

			if (g->kept)
				continue;
			g->accel = accel;
			g->tcg_single = s->tcg_single;
			g->qboot = s->qboot;
			if (guest_start(g, o->cfg, dir, l->epfd, &e) < 0) {
				guest_start_failed(g, &e);
				(*done)++;
				continue;
			}
			(*running)++;
		}
	}
}

/*
 * Look at the guests of the first @n that finished since the last call: boot
 * once more a guest that never reported, else note its cells with two
 * outcomes (sched_examine()).
 */
static void examine_finished(struct sched *s, const struct run_opts *o, struct loop *l,
			     const char *dir, size_t n, size_t *running, size_t *done)
{
	struct kf_error e;
	size_t i;

	for (i = 0; i < n; i++) {
		struct guest *g = s->gs[i];

		if (g->state != LC_DONE || g->examined)
			continue;
		if (guest_requeueable(g, l->interrupted)) {
			(*done)--;
			if (guest_requeue(g, o->cfg, dir, l->epfd, &e) == 0) {
				(*running)++;
				continue;
			}
			guest_start_failed(g, &e);
			(*done)++;
		} else if (guest_retryable(g, l->interrupted)) {
			(*done)--;
			if (guest_retry(g, o->cfg, dir, l->epfd, &e) == 0) {
				(*running)++;
				continue;
			}
			guest_start_failed(g, &e);
			(*done)++;
		}
		sched_examine(s, o, g);
	}
}

/* ------------------------------------------------------- reuse by content */

/* Plan @s again from scratch with @seed (its guests and tables dropped). */
static void sched_replan(struct sched *s, const struct run_opts *o, uint64_t seed)
{
	size_t i;

	for (i = 0; i < s->ng; i++) {
		guest_free(s->gs[i]);
		free(s->gs[i]);
	}
	s->ng = 0;
	s->nblocks = 0;
	free(s->want);
	free(s->covered);
	s->seed = seed;
	plan_first(s, o);
}

/* Whether another kernel of the run has kernel @i's image (an A/A control: both boot). */
static int kernel_twin(const struct run_opts *o, size_t i)
{
	size_t j;

	for (j = 0; j < o->nkernels; j++)
		if (j != i && !strcmp(o->kernels[j].sha256, o->kernels[i].sha256))
			return 1;
	return 0;
}

/* The inputs key of kernel @name in run @run (its kernels[].inputs_key), or NULL. */
static const char *kernel_key(json_t *run, const char *name)
{
	struct report_kernel_info ki;
	json_t *k = report_kernel(run, name, NULL);

	if (!k)
		return NULL;
	report_kernel_info(k, &ki);
	return ki.inputs_key;
}

/*
 * Whether run @x (its run.json) may give guests of a kernel whose inputs key
 * is @key: it finished, was not interrupted, has such a kernel, and its seed
 * is this run's when the config sets one (its plan is then this run's).
 */
static int side_usable(const struct run_opts *o, json_t *x, const char *key, long long *seed)
{
	struct report_run_info ri;
	struct kf_error e;

	if (!x || report_resume_info(x, "run.json", &ri, seed, &e) < 0)
		return 0;
	return ri.finished && !report_was_interrupted(x) && report_kernel_with_key(x, key) &&
	       (!o->cfg->seed || o->cfg->seed == *seed);
}

/* The way from run folder @dir to @odir (@rel in the index of o->reuse_dir), ending in '/'. */
static char *side_prefix(const struct run_opts *o, const char *dir, const char *odir,
			 const char *rel)
{
	char *parent = xasprintf("%s/..", dir);
	char *a = realpath(parent, NULL), *b = realpath(o->reuse_dir, NULL), *c, *out;

	free(parent);
	if (a && b && !strcmp(a, b) && rel && rel[0] != '/' && !strchr(rel, '/')) {
		out = xasprintf("../%s/", rel);
	} else {
		c = realpath(odir, NULL);
		out = xasprintf("%s/", c ? c : odir);
		free(c);
	}
	free(a);
	free(b);
	return out;
}

/*
 * The newest run in o->reuse_dir that can give the guests of some kernel of
 * this run (@now: its report as planned, with the kernels' inputs keys),
 * the kernels first to last; NULL when none (an index that cannot be read
 * is said). *@entry: its index entry.
 */
static json_t *side_find(const struct run_opts *o, json_t *now, const char *id, json_t **entry,
			 long long *seed)
{
	struct kf_error e;
	char buf[1024];
	size_t i, j;

	for (i = 0; i < o->nkernels; i++) {
		const char *key = kernel_key(now, o->kernels[i].spec.name);
		json_t *same, *ent;

		if (!key || kernel_twin(o, i))
			continue;
		same = history_same_side(o->reuse_dir, key, id, &e);
		if (!same) {
			log_warnx("no reuse, every guest boots: %s", error_format(&e, buf, sizeof(buf)));
			return NULL;
		}
		json_array_foreach(same, j, ent) {
			char *odir = history_dir_of(o->reuse_dir, ent);
			json_t *x = odir ? report_load(odir, NULL) : NULL;

			free(odir);
			if (side_usable(o, x, key, seed)) {
				*entry = json_incref(ent);
				json_decref(same);
				return x;
			}
			json_decref(x);
		}
		json_decref(same);
	}
	return NULL;
}

/*
 * Whether finished guest @d may be taken into another run: none of its
 * cells timed out or failed. Those say nothing of the kernel that a busy
 * host could not have caused, so a guest with one boots again rather than
 * carry it into every later run with the same inputs (a bisection's steps).
 */
static int side_clean(const struct report_done_guest *d)
{
	const char *id;
	json_t *c;

	json_object_foreach(d->cells, id, c) {
		const char *st = report_cell_status(c);

		if (!st || (strcmp(st, "ok") && strcmp(st, "unsupported")))
			return 0;
	}
	return 1;
}

/*
 * Keep in @s the guests of the side not yet placed that are guests of its
 * plan and side_clean(): each examined for two outcomes, its entry marked "reused", the
 * joins of kept blocks counted. How many; -1 when one is not what the plan
 * gives it (@s is then to be planned afresh).
 */
static long side_keep(struct sched *s, const struct run_opts *o)
{
	struct side *sd = &s->side;
	json_t *ids = json_object();
	struct kf_error e;
	char buf[1024];
	long n = 0;
	size_t i;

	for (i = 0; i < o->nscenarios; i++)
		json_object_set_new(ids, o->scenarios[i], json_integer((json_int_t)i));
	for (i = 0; i < sd->nd && n >= 0; i++) {
		struct guest *g = sd->placed[i] ? NULL : sched_find(s, &sd->d[i]);

		if (!g || g->kept || !side_clean(&sd->d[i]))
			continue;
		if (guest_keep(g, o, ids, &sd->d[i], sd->file, &e) < 0) {
			log_warnx("no reuse, every guest boots: %s", error_format(&e, buf, sizeof(buf)));
			n = -1;
			break;
		}
		json_decref(g->report);
		g->report = report_guest_reused(sd->d[i].entry, sd->from_id, sd->from_dir, sd->prefix);
		sd->placed[i] = 1;
		sched_examine(s, o, g);
		n++;
	}
	json_decref(ids);
	if (n > 0)
		sched_keep_joins(s, o);
	return n;
}

/*
 * Reuse by content (o->reuse_sides): the kernels whose own inputs match a
 * kernel of a finished run in o->reuse_dir (the newest for the first
 * kernel that has one; a kernel whose image another kernel of this run has
 * never: an A/A control boots both) take that run's guests that ended ok
 * with no cell timed out or failed (side_clean()), with its seed (the plan is then that run's, so its guests are this plan's
 * guests); what it lacks boots. Returns how many guests are kept.
 */
static long sides_reuse(const struct run_opts *o, struct sched *s, const char *id,
			const char *dir, const char *accel, const char *reason, const char *qver)
{
	json_t *now = build_report(o, s, id, "", NULL, accel, reason, qver);
	json_t *entry = NULL, *x, *names;
	struct side *sd = &s->side;
	struct kf_error e;
	char buf[1024];
	long long seed = 0;
	long kept = 0;
	char *odir;
	size_t i;

	x = side_find(o, now, id, &entry, &seed);
	if (!x) {
		json_decref(now);
		return 0;
	}
	names = json_object();
	sd->kernels = json_object();
	odir = history_dir_of(o->reuse_dir, entry);
	sd->from_id = xstrdup(report_id(x));
	sd->from_dir = xstrdup(history_entry_dir(entry));
	for (i = 0; i < o->nkernels; i++) {
		const char *key = kernel_key(now, o->kernels[i].spec.name);
		const char *old = key && !kernel_twin(o, i) ? report_kernel_with_key(x, key) : NULL;

		if (!old || json_object_get(names, old))
			continue;
		json_object_set_new(names, old, json_string(o->kernels[i].spec.name));
		json_object_set_new(sd->kernels, o->kernels[i].spec.name,
				    report_reused_ref(sd->from_id, sd->from_dir));
	}
	sd->file = xasprintf("%s/run.json", odir);
	sd->prefix = side_prefix(o, dir, odir, sd->from_dir);
	sd->copy = report_side_copy(x, names);
	if ((uint64_t)seed != s->seed)
		sched_replan(s, o, (uint64_t)seed);
	if (report_done_guests(sd->copy, sd->file, &sd->d, &sd->nd, &e) < 0) {
		log_warnx("no reuse, every guest boots: %s", error_format(&e, buf, sizeof(buf)));
		kept = -1;
	} else {
		sd->placed = xcalloc(sd->nd + 1, 1);
		kept = side_keep(s, o);
	}
	if (kept <= 0) {	/* none kept (those guests all failed), or a guest not this plan's */
		side_release(sd);
		if (kept < 0)
			sched_replan(s, o, s->seed);
		kept = 0;
	}
	for (i = 0; kept > 0 && i < o->nkernels; i++) {
		struct kernel *k = &o->kernels[i];
		struct report_kernel_info ki;
		size_t j, n = 0;

		if (!json_object_get(sd->kernels, k->spec.name))
			continue;
		for (j = 0; j < s->ng; j++)
			n += s->gs[j]->kept && s->gs[j]->k == k;
		if (!n) {	/* its guests there all failed: it boots */
			json_object_del(sd->kernels, k->spec.name);
			continue;
		}
		report_kernel_info(report_kernel(sd->copy, k->spec.name, NULL), &ki);
		if (!k->release && ki.release)
			k->release = xstrdup(ki.release);
		log_info("kernel %s: %zu of its guests taken from run %s (%s), whose inputs for it "
			 "are the same (--fresh boots them)", k->spec.name, n, report_id(x), odir);
	}
	free(odir);
	json_decref(names);
	json_decref(entry);
	json_decref(x);
	json_decref(now);
	return kept;
}

/*
 * o->reuse_dir: the newest finished run there with this run's inputs, taken
 * whole into *@out (report_unchanged()) so that no guest boots. 1 when there
 * is one, else 0: an index that cannot be read is said and every guest boots.
 */
static int run_unchanged(const struct run_opts *o, const struct sched *s, const char *id,
			 const char *started, const char *accel, const char *reason,
			 const char *qver, json_t **out)
{
	json_t *now = build_report(o, s, id, started, NULL, accel, reason, qver);
	const char *key = report_inputs_key(now);
	json_t *same, *entry;
	struct kf_error e;
	char buf[1024], finished[32];
	size_t i;

	same = key ? history_same_inputs(o->reuse_dir, key, id, &e) : json_array();
	if (!same)
		log_warnx("no reuse, every guest boots: %s", error_format(&e, buf, sizeof(buf)));
	json_array_foreach(same, i, entry) {
		char *odir = history_dir_of(o->reuse_dir, entry);
		json_t *orig = odir ? report_load(odir, &e) : NULL;
		const char *rel = json_string_value(json_object_get(entry, "dir"));

		if (orig && !strcmp(report_inputs_key(orig) ?: "", key) &&
		    report_all_answered(orig) && !report_was_interrupted(orig)) {
			util_iso8601(finished);
			*out = report_unchanged(orig, rel, id, started, finished);
			log_info("run %s: inputs unchanged since run %s (%s): no guest booted", id,
				 report_unchanged_from(*out, NULL), odir);
			json_decref(orig);
			free(odir);
			break;
		}
		json_decref(orig);
		free(odir);
	}
	json_decref(same);
	json_decref(now);
	return *out != NULL;
}

int run_dir_check(const char *dir, int resuming, struct kf_error *e)
{
	char *file;
	int taken;

	if (!dir)
		return 0;
	if (!*dir)
		return error_set(e, NULL, 0, 0, "the run directory is an empty path: give a folder "
				 "(-o DIR), or none for a new one in the config's output");
	if (resuming)
		return 0;
	file = xasprintf("%s/run.json", dir);
	taken = access(file, F_OK) == 0;
	free(file);
	if (taken)
		return error_set(e, dir, 0, 0, "already holds a run (its run.json): a new run there "
				 "would replace that report and mix the two runs' logs; give another "
				 "-o, or --resume %s to finish that run", dir);
	return 0;
}

int run_execute(const struct run_opts *o, char **dir_out, json_t **run_out,
		struct kf_error *e)
{
	const struct config *cfg = o->cfg;
	struct sched s;
	size_t i, next = 0, done = 0, running = 0;
	char id[256], started[32], finished[32], reason[512], vsmp_text[128] = "", at_once[96];
	char *dir = NULL, *qver = NULL, *file = NULL;
	const char *accel;
	long kept = 0;
	/* the config's parallel caps; under it, the hosts' slots or this machine's cores decide */
	int parallel = cfg->parallel;
	int followups_planned = 0;
	struct loop l = { -1, -1, 0 };
	json_t *run = NULL;
	int ret = -1;
	struct kf_error qe;
	long long last_progress[4] = { -1, -1, -1, -1 };

	memset(&s, 0, sizeof(s));
	new_run_id(id, sizeof(id));
	util_iso8601(started);
	s.seed = (uint64_t)(cfg->seed ? cfg->seed : new_seed());
	dir = o->dir ? xstrdup(o->dir) : xasprintf("%s/%s", cfg->output_dir, id);
	file = xasprintf("%s/run.json", dir);
	if (o->resume) {
		kept = resume_prepare(o, &s, id, sizeof(id), started, sizeof(started), file,
				      &followups_planned, e);
		if (kept < 0)
			goto cleanup;
		done = (size_t)kept;
	}
	if (run_dir_check(o->dir, o->resume != NULL, e) < 0 || util_mkdir_p(dir, e) < 0)
		goto cleanup;
	if (access(initramfs_path(), R_OK) < 0) {
		error_set(e, initramfs_path(), 0, 0, "guest initramfs missing (run 'make'): %s",
			  strerror(errno));
		goto cleanup;
	}
	if (util_sha256_file(initramfs_path(), s.initramfs_sha256, e) < 0)
		goto cleanup;
	for (i = 0; i < (size_t)o->nvariant_smp; i++)
		snprintf(vsmp_text + strlen(vsmp_text), sizeof(vsmp_text) - strlen(vsmp_text),
			 "%s%d", i ? "," : "", o->variant_smp[i]);
	if (backend_select(cfg, e) < 0)
		goto cleanup;
	if (!o->resume) {
		s.tcg_single = !strcmp(cfg->tcg_threads, "single");
		s.qboot = !strcmp(cfg->firmware, "qboot");
	}
	s.tcg_single = s.tcg_single && backend()->tcg_single;
	s.qboot = s.qboot && backend()->qboot;
	qver = backend()->version(cfg->vm_binary, &qe);
	if (!qver) {
		if (cfg->hosts)
			error_set(e, "hosts", 0, 0, "%s is not usable: %s (images/libvirt-setup.sh "
				  "prepares a host)", backend()->name, qe.text);
		else
			error_set(e, cfg->vm_binary, 0, 0, "%s is not usable: %s (run 'make deps')",
				  backend()->name, qe.text);
		goto cleanup;
	}
	if (backend()->check && backend()->check(cfg->vm_binary, s.qboot, e) < 0)
		goto cleanup;
	if (!o->resume) {
		plan_first(&s, o);
		if (plan_check(&s, o, 0, e) < 0)
			goto cleanup;
	}
	accel = o->resume ? resume_accel(o, file, reason, sizeof(reason), &s.hosts, e) :
		choose_accels(o, reason, sizeof(reason), &s.hosts);
	if (!accel)
		goto cleanup;
	log_info("accelerator: %s (%s)", accel, reason);
	if (o->nightly && o->reuse_dir && !o->resume) {
		int same = run_unchanged(o, &s, id, started, accel, reason, qver, &run);

		if (same && report_write(dir, run, e) < 0)
			goto cleanup;
		if (same) {
			if (!o->dir)
				link_latest(cfg->output_dir, id);
			ret = 0;
			*dir_out = dir;
			dir = NULL;
			*run_out = run;
			run = NULL;
			goto cleanup;
		}
	}
	if (o->reuse_sides && o->reuse_dir && !o->resume) {
		kept = sides_reuse(o, &s, id, dir, accel, reason, qver);
		done = (size_t)kept;
		if (plan_check(&s, o, 0, e) < 0)
			goto cleanup;
	}
	if (loop_init(&l, e) < 0)
		goto cleanup;
	if (!cfg->hosts && parallel > 0)
		snprintf(at_once, sizeof(at_once), "up to %d at once", parallel);
	else if (!cfg->hosts)
		snprintf(at_once, sizeof(at_once), "as %d cores take them (a guest weighs %s)",
			 util_ncpus(), s.tcg_single && !strcmp(accel, "tcg") ?
			 "one: TCG runs its vCPUs in one thread" : "its vCPUs");
	else if (parallel > 0)
		snprintf(at_once, sizeof(at_once), "as the slots (vCPUs) of %zu host(s) take them, at "
			 "most %d at once", json_array_size(cfg->hosts), parallel);
	else
		snprintf(at_once, sizeof(at_once), "as the slots (vCPUs) of %zu host(s) take them",
			 json_array_size(cfg->hosts));
	log_info("run %s: %zu kernels x %d SMP sizes, up to %d boots each = %zu guests, "
		 "%zu cells (%zu vary an axis: %d reps, at SMP %s) x %d reps, %s, "
		 "seed %llu, in %s", id, o->nkernels, cfg->nsmp, cfg->boots, s.ng, o->nscenarios,
		 count_variants(o), cfg->variant_reps, vsmp_text, cfg->reps, at_once,
		 (unsigned long long)s.seed, dir);
	if (o->resume)
		log_info("resuming run %s: %ld of its %zu guests so far had finished and are kept, "
			 "%zu to boot", id, kept, s.ng, s.ng - (size_t)kept);
	else if (kept)
		log_info("run %s: %ld of its %zu guests taken from run %s, %zu to boot", id, kept,
			 s.ng, s.side.from_id,
			 s.ng - (size_t)kept);
	run = build_report(o, &s, id, started, NULL, accel, reason, qver);
	if (report_write(dir, run, e) < 0)
		goto cleanup;
	for (;;) {
		int fin;

		start_blocks(&s, o, &l, dir, accel, parallel, &next, &running, &done);
		if (done == s.ng && !l.interrupted && !followups_planned) {
			followups_planned = 1;
			if (plan_followups(&s, o) > 0) {
				long more = s.side.d ? side_keep(&s, o) : 0;

				log_info("%zu more guests: deterministic cells that showed more "
					 "than one outcome get boots of their own%s", s.ng - done,
					 more > 0 ? " (some taken from the run reused)" : "");
				/* one that is not this plan's is booted, as the others */
				done += more > 0 ? (size_t)more : 0;
				continue;
			}
		}
		if (done == s.ng || (l.interrupted && running == 0))
			break;
		fin = loop_step(&l, s.gs, next, cfg);
		if (fin > 0) {
			running -= (size_t)fin;
			done += (size_t)fin;
			examine_finished(&s, o, &l, dir, next, &running, &done);
			json_decref(run);
			run = build_report(o, &s, id, started, NULL, accel, reason, qver);
			/* a guest the signal stopped is no result: --resume boots it again */
			if (l.interrupted)
				report_set_interrupted(run);
			if (report_write(dir, run, e) < 0)
				goto cleanup;
		}
		show_progress(&s, done);
		write_progress(o, &s, done, last_progress);
	}
	write_progress(o, &s, done, last_progress);
	log_progress_done();
	util_iso8601(finished);
	json_decref(run);
	run = build_report(o, &s, id, started, finished, accel, reason, qver);
	if (l.interrupted)
		report_set_interrupted(run);
	if (report_write(dir, run, e) < 0)
		goto cleanup;
	if (!o->dir)
		link_latest(cfg->output_dir, id);
	if (l.interrupted) {
		error_set(e, "run", 0, 0, "interrupted by signal %d; the report so far is in %s",
			  l.interrupted, dir);
		goto cleanup;
	}
	ret = 0;
	*dir_out = dir;
	dir = NULL;
	*run_out = run;
	run = NULL;
cleanup:
	if (l.epfd >= 0)
		loop_release(&l);
	for (i = 0; i < s.ng; i++) {
		if (lifecycle_live(s.gs[i]->state)) {
			backend()->stop(&s.gs[i]->vm);
			backend()->release(&s.gs[i]->vm);
		}
	}
	sched_release(&s);
	free(dir);
	free(file);
	free(qver);
	json_decref(run);
	return ret;
}
