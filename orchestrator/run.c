/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "log.h"
#include "proc.h"
#include "results.h"
#include "run.h"
#include "util.h"
#include "vm.h"

/* How long QEMU may take to power off once the guest said "end". */
#define POWEROFF_GRACE_MS 30000
/* The most a racy scenario multiplies its repetitions by, in the guest. */
#define RACY_REPS_MAX 4
/* Slack on top of reps × timeout for one scenario's cell. */
#define CELL_SLACK_MS 30000

enum gstate { G_PENDING, G_RUNNING, G_DONE };

struct guest {
	struct kernel *k;
	int smp;
	enum gstate state;
	struct vm vm;
	struct results *res;
	struct console *con;
	FILE *con_log, *res_log;
	char *con_name, *res_name;
	int64_t started_ms, hello_ms, finished_ms, deadline_ms;
	size_t seen_records;
	const char *killed;		/* why we stopped it, or NULL */
	char killed_buf[192];
	char qemu_err[2048];		/* the tail of QEMU's stderr */
	size_t qemu_err_len;
	int wait_status;
	int open_streams;
	int exited;
	const char *accel;
	const char *append;
	json_t *cells;			/* the finished guest's cells */
	json_t *report;			/* its entry in "guests" */
};

/* epoll tags */
enum wkind { W_CONSOLE, W_RESULTS, W_STDERR, W_PID };
struct watch {
	struct guest *g;
	enum wkind kind;
};

const char *run_guest_binary(void)
{
	const char *s = getenv("KFARM_GUEST");

	return s && *s ? s : KFARM_TOP "/build/kfarm-guest";
}

static const char *initramfs_path(void)
{
	const char *s = getenv("KFARM_INITRAMFS");

	return s && *s ? s : KFARM_INITRAMFS;
}

json_t *run_list_scenarios(struct kf_error *e)
{
	const char *argv[] = { run_guest_binary(), "--list", NULL };
	char *out = NULL, *line, *save = NULL;
	json_t *list;

	if (proc_run(argv, NULL, 30000, &out, NULL, e) < 0)
		return NULL;
	list = json_array();
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2, *t3;

		if (!t1)
			continue;
		*t1++ = '\0';
		t2 = strchr(t1, '\t');
		if (t2)
			*t2++ = '\0';
		/* A fourth column says whether the scenario is racy. */
		t3 = t2 ? strchr(t2, '\t') : NULL;
		if (t3)
			*t3++ = '\0';
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "id", line, "group", t1,
						      "description", t2 ? t2 : "",
						      "kind", t3 ? t3 : "deterministic"));
	}
	free(out);
	return list;
}

static char *make_append(const struct config *cfg, const char *run, int reps, int timeout_ms)
{
	char *more = xstrdup(""), *s;
	size_t i;

	/* kfarm.reps_for=ID:N,ID:N raises the repetitions of some scenarios. */
	for (i = 0; i < cfg->nscenario_reps; i++) {
		char *next = xasprintf("%s%s%s:%d", more, i ? "," : " kfarm.reps_for=",
				       cfg->scenario_reps[i].id, cfg->scenario_reps[i].reps);

		free(more);
		more = next;
	}
	s = xasprintf("console=ttyS0 loglevel=5 panic=-1 rdinit=/init kfarm.run=%s "
		      "kfarm.reps=%d kfarm.timeout_ms=%d%s%s%s", run, reps, timeout_ms, more,
		      cfg->cmdline[0] ? " " : "", cfg->cmdline);
	free(more);
	return s;
}

static void guest_free(struct guest *g)
{
	if (!g)
		return;
	results_free(g->res);
	console_free(g->con);
	if (g->con_log)
		fclose(g->con_log);
	if (g->res_log)
		fclose(g->res_log);
	free(g->con_name);
	free(g->res_name);
	json_decref(g->cells);
	json_decref(g->report);
}

static int guest_start(struct guest *g, const struct config *cfg, const char *dir,
		       int epfd, struct kf_error *e)
{
	struct vm_params p = {
		.qemu = cfg->qemu, .kernel = g->k->boot_path ? g->k->boot_path : g->k->path,
		.initrd = initramfs_path(),
		.append = g->append, .accel = g->accel, .smp = g->smp,
		.memory_mb = cfg->memory_mb,
	};
	int fds[3], i;

	g->res = results_new();
	g->con = console_new();
	if (dir) {
		char *path = xasprintf("%s/%s", dir, g->con_name);

		g->con_log = fopen(path, "w");
		free(path);
		path = xasprintf("%s/%s", dir, g->res_name);
		g->res_log = fopen(path, "w");
		free(path);
		if (!g->con_log || !g->res_log)
			return error_set(e, dir, 0, 0, "cannot create guest logs: %s",
					 strerror(errno));
	}
	g->started_ms = util_now_ms();
	g->deadline_ms = g->started_ms + (int64_t)cfg->boot_timeout_s * 1000;
	if (vm_qemu_start(&g->vm, &p, e) < 0)
		return -1;
	g->state = G_RUNNING;
	fds[0] = g->vm.console_fd;
	fds[1] = g->vm.results_fd;
	fds[2] = g->vm.stderr_fd;
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
	log_debug("started %s smp%d: %s -accel %s", g->k->spec.name, g->smp, cfg->qemu, g->accel);
	return 0;
}

/* Reads what is there on one stream; returns 0 at EOF. */
static int guest_read(struct guest *g, enum wkind kind, const struct config *cfg)
{
	char buf[16384];
	int fd = kind == W_CONSOLE ? g->vm.console_fd :
		 kind == W_RESULTS ? g->vm.results_fd : g->vm.stderr_fd;

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
			if (g->con_log)
				fwrite(buf, 1, (size_t)n, g->con_log);
		} else if (kind == W_RESULTS) {
			size_t before = results_nrecords(g->res);

			results_feed(g->res, buf, (size_t)n);
			if (g->res_log)
				fwrite(buf, 1, (size_t)n, g->res_log);
			if (results_nrecords(g->res) != before) {
				int64_t now = util_now_ms();

				if (!g->hello_ms && results_have_hello(g->res))
					g->hello_ms = now;
				if (results_ended(g->res))
					g->deadline_ms = now + POWEROFF_GRACE_MS;
				else
					g->deadline_ms = now + (int64_t)config_max_reps(cfg) *
							 RACY_REPS_MAX * cfg->timeout_ms +
							 CELL_SLACK_MS;
			}
		} else {
			size_t room = sizeof(g->qemu_err) - 1;

			if ((size_t)n >= room) {
				memcpy(g->qemu_err, buf + n - room, room);
				g->qemu_err_len = room;
			} else {
				if (g->qemu_err_len + (size_t)n > room) {
					size_t drop = g->qemu_err_len + (size_t)n - room;

					memmove(g->qemu_err, g->qemu_err + drop, g->qemu_err_len - drop);
					g->qemu_err_len -= drop;
				}
				memcpy(g->qemu_err + g->qemu_err_len, buf, (size_t)n);
				g->qemu_err_len += (size_t)n;
			}
			g->qemu_err[g->qemu_err_len] = '\0';
		}
	}
}

static void close_stream(struct guest *g, enum wkind kind, int epfd)
{
	int *fd = kind == W_CONSOLE ? &g->vm.console_fd :
		  kind == W_RESULTS ? &g->vm.results_fd : &g->vm.stderr_fd;

	if (*fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
	g->open_streams--;
}

static const char *qemu_err_line(struct guest *g)
{
	char *s = g->qemu_err;
	size_t n = g->qemu_err_len;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return n ? s : "";
}

static json_t *excerpt_for(struct guest *g)
{
	json_t *ev = console_events(g->con);
	size_t i;

	for (i = 0; i < json_array_size(ev); i++) {
		json_t *x = json_array_get(ev, i);

		if (json_object_get(x, "excerpt"))
			return json_copy(json_object_get(x, "excerpt"));
	}
	return console_tail(g->con, 20);
}

/* Turns what the guest said (or did not say) into cells and its report entry. */
static void guest_finish(struct guest *g, char **scenarios, size_t nscenarios)
{
	json_t *got = results_cells(g->res), *hello = results_hello(g->res);
	const char *current = results_current(g->res);
	const char *status, *why = NULL;
	char buf[512], st[64];
	size_t i, j;
	int exited_ok = WIFEXITED(g->wait_status) && WEXITSTATUS(g->wait_status) == 0;

	results_finish(g->res);
	console_finish(g->con);
	g->finished_ms = util_now_ms();
	if (g->con_log)
		fflush(g->con_log);
	if (g->res_log)
		fflush(g->res_log);
	if (hello && !g->k->release && json_is_string(json_object_get(hello, "uname")))
		g->k->release = xstrdup(json_string_value(json_object_get(hello, "uname")));

	if (results_complete(g->res)) {
		status = "ok";
	} else if (!results_have_hello(g->res)) {
		status = "boot-failed";
		if (g->killed)
			snprintf(buf, sizeof(buf), "%s", g->killed);
		else if (exited_ok && !qemu_err_line(g)[0])
			snprintf(buf, sizeof(buf), "the guest reset or powered off after %.1f s, "
				 "before it reported", (g->finished_ms - g->started_ms) / 1000.0);
		else
			snprintf(buf, sizeof(buf), "QEMU %s before the guest reported%s%.300s",
				 proc_status_str(g->wait_status, st, sizeof(st)),
				 qemu_err_line(g)[0] ? ": " : "", qemu_err_line(g));
		why = buf;
	} else if (console_panicked(g->con) || !g->killed) {
		status = "crashed";
		snprintf(buf, sizeof(buf), "%s%s", console_panicked(g->con) ?
			 "kernel panic" : "guest stopped reporting",
			 exited_ok ? "" : " (QEMU exited abnormally)");
		why = buf;
	} else {
		status = "timeout";
		snprintf(buf, sizeof(buf), "%s", g->killed);
		why = buf;
	}

	g->cells = json_array();
	for (i = 0; i < nscenarios; i++) {
		json_t *cell = NULL;

		for (j = 0; j < json_array_size(got); j++) {
			json_t *c = json_array_get(got, j);

			if (strcmp(json_string_value(json_object_get(c, "scenario")), scenarios[i]) == 0)
				cell = c;
		}
		if (cell) {
			json_t *out = json_pack("{s:s, s:i, s:s, s:O, s:O, s:O}",
						"kernel", g->k->spec.name, "smp", g->smp,
						"scenario", scenarios[i],
						"status", json_object_get(cell, "status"),
						"outcomes", json_object_get(cell, "outcomes"),
						"duration_ms", json_object_get(cell, "duration_ms"));

			if (json_object_get(cell, "error"))
				json_object_set(out, "error", json_object_get(cell, "error"));
			if (json_is_true(json_object_get(cell, "racy")))
				json_object_set_new(out, "racy", json_true());
			json_array_append_new(g->cells, out);
		} else {
			const char *cs = strcmp(status, "ok") == 0 ? "error" : status;
			char *err;
			json_t *out;

			if (strcmp(status, "ok") == 0)
				err = xasprintf("the guest did not report this scenario");
			else if (current && strcmp(current, scenarios[i]) == 0)
				err = xasprintf("%s", why);
			else if (!results_have_hello(g->res))
				err = xasprintf("%s", why);
			else
				err = xasprintf("not run: %s while running %s", why,
						current ? current : "(between scenarios)");
			out = json_pack("{s:s, s:i, s:s, s:s, s:[], s:i, s:s}",
					"kernel", g->k->spec.name, "smp", g->smp,
					"scenario", scenarios[i], "status", cs, "outcomes",
					"duration_ms", 0, "error", err);
			if (!current || strcmp(current, scenarios[i]) == 0 ||
			    !results_have_hello(g->res))
				json_object_set_new(out, "excerpt", excerpt_for(g));
			json_array_append_new(g->cells, out);
			free(err);
		}
	}

	g->report = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:O}",
			      "kernel", g->k->spec.name, "smp", g->smp, "status", status,
			      "accelerator", g->accel,
			      "boot_ms", (json_int_t)(g->hello_ms ? g->hello_ms - g->started_ms : 0),
			      "duration_ms", (json_int_t)(g->finished_ms - g->started_ms),
			      "console", g->con_name, "results", g->res_name,
			      "events", console_events(g->con));
	if (g->k->release)
		json_object_set_new(g->report, "release", json_string(g->k->release));
	if (why)
		json_object_set_new(g->report, "error", json_string(why));
	if (results_rejected(g->res) || results_gaps(g->res))
		json_object_set_new(g->report, "protocol",
				    json_pack("{s:I, s:I, s:O}", "rejected",
					      (json_int_t)results_rejected(g->res),
					      "gaps", (json_int_t)results_gaps(g->res),
					      "reasons", results_reasons(g->res)));
	if (qemu_err_line(g)[0])
		json_object_set_new(g->report, "qemu_stderr", json_string(qemu_err_line(g)));
	if (nscenarios == 0)
		return; /* the KVM canary: its caller reports */
	if (!strcmp(status, "ok"))
		log_info("%s smp%d: ok, booted in %.1f s, %zu cells in %.1f s", g->k->spec.name,
			 g->smp, (g->hello_ms - g->started_ms) / 1000.0, json_array_size(got),
			 (g->finished_ms - g->started_ms) / 1000.0);
	else
		log_info("%s smp%d: %s: %s", g->k->spec.name, g->smp, status, why);
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
static int loop_step(struct loop *l, struct guest **gs, size_t n, const struct config *cfg,
		     char **scenarios, size_t nscenarios)
{
	struct epoll_event evs[32];
	int64_t now = util_now_ms(), next = now + 1000;
	int i, nev, done = 0;
	size_t k;

	for (k = 0; k < n; k++)
		if (gs[k]->state == G_RUNNING && gs[k]->deadline_ms < next)
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
		if (w->g->state != G_RUNNING)
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

		if (g->state != G_RUNNING)
			continue;
		if (l->interrupted && !g->killed) {
			g->killed = "interrupted";
			vm_stop(&g->vm);
		} else if (!g->killed && now >= g->deadline_ms) {
			int64_t quiet = now - g->started_ms;

			if (!results_have_hello(g->res))
				snprintf(g->killed_buf, sizeof(g->killed_buf),
					 "no sign of life from the guest within the %d s boot deadline",
					 cfg->boot_timeout_s);
			else if (results_ended(g->res))
				snprintf(g->killed_buf, sizeof(g->killed_buf),
					 "the guest did not power off within %d s of its last record",
					 POWEROFF_GRACE_MS / 1000);
			else
				snprintf(g->killed_buf, sizeof(g->killed_buf),
					 "the guest made no progress before its deadline (%s, %.0f s into the run)",
					 results_current(g->res) ? results_current(g->res) : "between scenarios",
					 quiet / 1000.0);
			g->killed = g->killed_buf;
			log_debug("%s smp%d: %s: killing", g->k->spec.name, g->smp, g->killed);
			vm_stop(&g->vm);
		}
		/* The guest is done when QEMU is gone and every stream hit EOF. */
		if ((g->exited || g->vm.proc.pidfd < 0) && g->open_streams == 0) {
			g->wait_status = vm_release(&g->vm);
			g->state = G_DONE;
			guest_finish(g, scenarios, nscenarios);
			done++;
		}
	}
	return done;
}

const char *run_choose_accel(const struct config *cfg, const struct kernel *k,
			     char *reason, size_t n)
{
	struct guest g;
	struct guest *gs[1] = { &g };
	struct config c = *cfg;
	struct kf_error e;
	struct loop l;
	const char *accel = "tcg";

	if (strcmp(cfg->accel, "auto") != 0) {
		snprintf(reason, n, "set to %s by the config or command line", cfg->accel);
		return strcmp(cfg->accel, "kvm") == 0 ? "kvm" : "tcg";
	}
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		snprintf(reason, n, "/dev/kvm not usable (%s): TCG", strerror(errno));
		return "tcg";
	}
	memset(&g, 0, sizeof(g));
	g.k = (struct kernel *)k;
	g.smp = 1;
	g.accel = "kvm";
	/* Only its hello counts: it is stopped as soon as that arrives. */
	g.append = make_append(cfg, "all", 1, 1000);
	g.con_name = xstrdup("-");
	g.res_name = xstrdup("-");
	c.boot_timeout_s = cfg->canary_timeout_s;
	if (loop_init(&l, &e) < 0) {
		snprintf(reason, n, "canary not run (%s): TCG", e.text);
		free((char *)g.append);
		guest_free(&g);
		return "tcg";
	}
	if (guest_start(&g, &c, NULL, l.epfd, &e) < 0) {
		snprintf(reason, n, "KVM canary could not start (%s): TCG", e.text);
	} else {
		while (g.state != G_DONE) {
			if (results_have_hello(g.res) && !g.killed) {
				g.killed = "canary done";
				vm_stop(&g.vm);
			}
			loop_step(&l, gs, 1, &c, NULL, 0);
		}
		if (g.hello_ms) {
			accel = "kvm";
			snprintf(reason, n, "KVM canary guest (%s) reported after %.1f s",
				 k->spec.name, (g.hello_ms - g.started_ms) / 1000.0);
		} else {
			snprintf(reason, n, "KVM canary guest (%s) gave no sign of life within %d s "
				 "(nested virtualisation?): TCG", k->spec.name, cfg->canary_timeout_s);
		}
	}
	loop_release(&l);
	free((char *)g.append);
	guest_free(&g);
	return accel;
}

static json_t *build_report(const struct run_opts *o, const char *id, const char *started,
			    const char *finished, const char *accel, const char *reason,
			    const char *qemu_version, struct guest *gs, size_t ng)
{
	const struct config *cfg = o->cfg;
	json_t *run, *kernels = json_array(), *smp = json_array(), *sc = json_array();
	json_t *cells = json_array(), *guests = json_array();
	struct utsname un;
	char host[256] = "";
	size_t i, j;
	int s;

	uname(&un);
	gethostname(host, sizeof(host) - 1);
	for (i = 0; i < o->nkernels; i++) {
		const struct kernel *k = &o->kernels[i];
		json_t *kj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", k->spec.name,
				       "source", k->source, "spec", k->spec.arg ? k->spec.arg : "",
				       "path", k->path, "sha256", k->sha256);

		if (k->boot)
			json_object_set_new(kj, "boot", json_string(k->boot));
		if (k->release)
			json_object_set_new(kj, "release", json_string(k->release));
		json_array_append_new(kernels, kj);
	}
	for (s = 0; s < cfg->nsmp; s++)
		json_array_append_new(smp, json_integer(cfg->smp[s]));
	for (i = 0; i < o->nscenarios; i++)
		json_array_append_new(sc, json_string(o->scenarios[i]));
	/* Cells in a stable order: kernel, smp, scenario, as the matrix was laid. */
	for (i = 0; i < ng; i++) {
		if (gs[i].state != G_DONE)
			continue;
		for (j = 0; j < json_array_size(gs[i].cells); j++)
			json_array_append(cells, json_array_get(gs[i].cells, j));
		json_array_append(guests, gs[i].report);
	}
	run = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i}, s:{s:s, s:s, s:s, s:s},"
			" s:o, s:o, s:i, s:i, s:o, s:o, s:o}",
			"schema", "kfarm.run/1", "id", id, "started", started,
			"config", cfg->source,
			"host", "hostname", host, "kernel", un.release, "cpus", util_ncpus(),
			"qemu", "binary", cfg->qemu, "version", qemu_version ? qemu_version : "unknown",
			"accelerator", accel, "accelerator_reason", reason,
			"kernels", kernels, "smp", smp, "reps", cfg->reps,
			"timeout_ms", cfg->timeout_ms, "scenarios", sc, "cells", cells,
			"guests", guests);
	if (finished)
		json_object_set_new(run, "finished", json_string(finished));
	if (cfg->nscenario_reps) {
		json_t *sr = json_object();

		for (i = 0; i < cfg->nscenario_reps; i++)
			json_object_set_new(sr, cfg->scenario_reps[i].id,
					    json_integer(cfg->scenario_reps[i].reps));
		json_object_set_new(run, "scenario_reps", sr);
	}
	return run;
}

static int write_report(const char *dir, json_t *run, struct kf_error *e)
{
	char *path = xasprintf("%s/run.json", dir);
	char *text = json_dumps(run, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int ret;

	ret = util_write_atomic(path, text, strlen(text), e);
	free(text);
	free(path);
	return ret;
}

static void show_progress(struct guest *gs, size_t ng, size_t done, size_t nscen)
{
	char line[512];
	size_t i, len;

	if (!log_is_tty())
		return;
	len = (size_t)snprintf(line, sizeof(line), "[%zu/%zu guests]", done, ng);
	for (i = 0; i < ng && len < sizeof(line) - 80; i++) {
		const char *cur;

		if (gs[i].state != G_RUNNING)
			continue;
		cur = results_current(gs[i].res);
		if (!results_have_hello(gs[i].res))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s/smp%d: booting",
						gs[i].k->spec.name, gs[i].smp);
		else
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s/smp%d: %s (%zu/%zu)",
						gs[i].k->spec.name, gs[i].smp, cur ? cur : "...",
						json_array_size(results_cells(gs[i].res)) + 1, nscen);
	}
	log_progress("%s", line);
}

int run_execute(const struct run_opts *o, char **dir_out, json_t **run_out,
		struct kf_error *e)
{
	const struct config *cfg = o->cfg;
	size_t ng = o->nkernels * (size_t)cfg->nsmp, i, next = 0, done = 0, running = 0;
	struct guest *gs = xcalloc(ng, sizeof(*gs));
	struct guest **ptrs = xcalloc(ng, sizeof(*ptrs));
	char id[64], started[32], finished[32], reason[512], rnd[8];
	char *dir = NULL, *runlist = NULL, *qver = NULL, *append = NULL;
	const char *accel;
	int parallel = cfg->parallel > 0 ? cfg->parallel : util_ncpus();
	struct loop l = { -1, -1, 0 };
	json_t *run = NULL;
	int ret = -1;
	struct kf_error qe;
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(rnd, sizeof(rnd), "%04x", (unsigned)(getpid() ^ (unsigned)util_now_ms()) & 0xffff);
	strftime(id, sizeof(id), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(id + strlen(id), sizeof(id) - strlen(id), "-%s", rnd);
	util_iso8601(started);
	dir = o->dir ? xstrdup(o->dir) : xasprintf("%s/%s", cfg->output_dir, id);
	if (util_mkdir_p(dir, e) < 0)
		goto cleanup;
	if (access(initramfs_path(), R_OK) < 0) {
		error_set(e, initramfs_path(), 0, 0, "guest initramfs missing (run 'make'): %s",
			  strerror(errno));
		goto cleanup;
	}
	qver = vm_qemu_version(cfg->qemu, &qe);
	if (!qver) {
		error_set(e, cfg->qemu, 0, 0, "QEMU is not usable: %s (run 'make deps')", qe.text);
		goto cleanup;
	}
	accel = run_choose_accel(cfg, &o->kernels[0], reason, sizeof(reason));
	log_info("accelerator: %s (%s)", accel, reason);

	if (o->all) {
		runlist = xstrdup("all");
	} else {
		size_t len = 0;

		runlist = xstrdup("");
		for (i = 0; i < o->nscenarios; i++) {
			len += strlen(o->scenarios[i]) + 1;
			runlist = xrealloc(runlist, len + 1);
			if (i)
				strcat(runlist, ",");
			strcat(runlist, o->scenarios[i]);
		}
	}
	append = make_append(cfg, runlist, cfg->reps, cfg->timeout_ms);
	if (strlen(append) > 2000) {
		error_set(e, "scenarios", 0, 0, "kernel command line too long (%zu bytes)",
			  strlen(append));
		goto cleanup;
	}
	for (i = 0; i < ng; i++) {
		struct guest *g = &gs[i];

		g->k = &o->kernels[i / (size_t)cfg->nsmp];
		g->smp = cfg->smp[i % (size_t)cfg->nsmp];
		g->accel = accel;
		g->append = append;
		g->con_name = xasprintf("console-%s-smp%d.log", g->k->spec.name, g->smp);
		g->res_name = xasprintf("results-%s-smp%d.log", g->k->spec.name, g->smp);
		ptrs[i] = g;
	}
	if (loop_init(&l, e) < 0)
		goto cleanup;
	log_info("run %s: %zu kernels x %d SMP sizes = %zu guests, %zu scenarios x %d reps, "
		 "up to %d at once, in %s", id, o->nkernels, cfg->nsmp, ng, o->nscenarios,
		 cfg->reps, parallel, dir);
	run = build_report(o, id, started, NULL, accel, reason, qver, gs, ng);
	if (write_report(dir, run, e) < 0)
		goto cleanup;
	while (done < ng) {
		int fin;

		while (!l.interrupted && running < (size_t)parallel && next < ng) {
			struct guest *g = &gs[next++];

			if (guest_start(g, cfg, dir, l.epfd, e) < 0) {
				log_warnx("%s smp%d: %s", g->k->spec.name, g->smp, e->text);
				/* A guest that cannot start is a result too: boot-failed. */
				g->state = G_DONE;
				g->killed = xasprintf("QEMU could not start: %s", e->text);
				guest_finish(g, o->scenarios, o->nscenarios);
				done++;
				continue;
			}
			running++;
		}
		if (l.interrupted && running == 0)
			break;
		fin = loop_step(&l, ptrs, next, cfg, o->scenarios, o->nscenarios);
		if (fin > 0) {
			running -= (size_t)fin;
			done += (size_t)fin;
			json_decref(run);
			run = build_report(o, id, started, NULL, accel, reason, qver, gs, ng);
			if (write_report(dir, run, e) < 0)
				goto cleanup;
		}
		show_progress(gs, ng, done, o->nscenarios);
	}
	log_progress_done();
	util_iso8601(finished);
	json_decref(run);
	run = build_report(o, id, started, finished, accel, reason, qver, gs, ng);
	if (l.interrupted)
		json_object_set_new(run, "interrupted", json_true());
	if (write_report(dir, run, e) < 0)
		goto cleanup;
	{
		char *latest = xasprintf("%s/latest", cfg->output_dir);

		if (!o->dir) {
			unlink(latest);
			if (symlink(id, latest) < 0)
				log_debug("cannot link %s: %s", latest, strerror(errno));
		}
		free(latest);
	}
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
	for (i = 0; i < ng; i++) {
		if (gs[i].state == G_RUNNING) {
			vm_stop(&gs[i].vm);
			vm_release(&gs[i].vm);
		}
		if (gs[i].killed && strncmp(gs[i].killed, "QEMU could not start", 20) == 0)
			free((char *)gs[i].killed);
		guest_free(&gs[i]);
	}
	free(gs);
	free(ptrs);
	free(dir);
	free(runlist);
	free(append);
	free(qver);
	json_decref(run);
	return ret;
}
