// SPDX-License-Identifier: MIT
/*
 * kfarm-guest.c - the in-guest runner.
 *
 *   kfarm-guest --list          (id, group, description, deterministic|racy, the
 *                                racy repetition multiplier: tab-separated)
 *   kfarm-guest --catalog       (the catalog as Markdown: guest-tests/CATALOG.md)
 *   kfarm-guest --run all|ID[,ID...] [--reps N] [--reps-for ID=N,...] [--timeout-ms T]
 *               [--order-seed S] [--framed] [--output PATH]
 *               [--strict]
 *   kfarm-guest --from-cmdline     (the guest payload: kfarm.run=, kfarm.reps=,
 *                                   kfarm.reps_for=, kfarm.timeout_ms=,
 *                                   kfarm.order= from /proc/cmdline; framed
 *                                   records to /dev/ttyS1)
 *
 * Each repetition runs in a forked child in its own process group, watched with
 * a pidfd (or its result pipe on kernels without pidfd_open) and killed with its
 * whole group on timeout. The runner is a child subreaper, so tracees orphaned by
 * a repetition come back to it; after every repetition it kills and reaps by pid
 * whatever the repetition left (its group, and any child of the runner).
 *
 * A racy scenario runs reps_mult times the repetitions asked for. A nonzero
 * order seed shuffles the selected scenarios (the host gives both guests of a
 * block the same seed, so they run the same scenario at the same time). --strict makes
 * the exit status 1 when a cell is neither ok nor unsupported, or when a
 * deterministic scenario shows more than one distinct observation.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "guest.h"
#include "lab.h"
#include "scenarios.h"

#define DEFAULT_REPS 20
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_REPS 1000000

enum rep_kind { K_OK, K_UNSUPPORTED, K_ERROR, K_CRASHED, K_TIMEOUT };

struct outcome {
	char *obs;
	int count;
};

struct cell {
	const struct scenario *sc;
	struct outcome *out;
	size_t nout;
	int reps;
	int n[K_TIMEOUT + 1];
	long long duration_ms;
	char first_error[128];
};

struct runner {
	const struct scenario **list;
	size_t nlist;
	int reps;
	char reps_for[1024]; /* "ID:N,ID:N": exact repetitions for these scenarios */
	int timeout_ms;
	int framed;
	int strict;        /* --strict: see above */
	unsigned long long order_seed; /* 0: the order given; else a seeded shuffle */
	int fd;            /* where records / the summary go */
	unsigned long seq; /* next frame */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kfarm-guest --list | --catalog\n"
		"       kfarm-guest --run all|ID[,ID...] [--reps N] [--reps-for ID=N,...] [--timeout-ms T]\n"
		"                   [--order-seed S] [--framed] [--output PATH]\n"
		"                   [--strict]\n"
		"       kfarm-guest --from-cmdline\n");
}

/* ---------------------------------------------------------------- output */

static int emit(struct runner *R, const char *payload)
{
	size_t len = strlen(payload);

	if (R->framed) {
		if (frame_write(R->fd, R->seq, payload, len) < 0) {
			fprintf(stderr, "kfarm-guest: write results: %s\n", strerror(errno));
			return -1;
		}
		R->seq++;
	}
	return 0;
}

static void emit_hello(struct runner *R)
{
	struct sbuf sb = { 0 };
	struct utsname u;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	sbuf_puts(&sb, "{\"t\":\"hello\",\"proto\":1,\"uname\":");
	sbuf_json_str(&sb, u.release);
	sbuf_printf(&sb, ",\"nproc\":%ld,\"reps\":%d,\"timeout_ms\":%d,\"scenarios\":[",
		    ncpu > 0 ? ncpu : 1, R->reps, R->timeout_ms);
	for (i = 0; i < R->nlist; i++) {
		if (i)
			sbuf_puts(&sb, ",");
		sbuf_json_str(&sb, R->list[i]->id);
	}
	sbuf_puts(&sb, "]}");
	emit(R, sb.buf);
	sbuf_release(&sb);
}

static void emit_start(struct runner *R, const struct scenario *sc)
{
	struct sbuf sb = { 0 };

	sbuf_puts(&sb, "{\"t\":\"start\",\"scenario\":");
	sbuf_json_str(&sb, sc->id);
	sbuf_puts(&sb, "}");
	emit(R, sb.buf);
	sbuf_release(&sb);
}

static const char *cell_status(const struct cell *c)
{
	if (c->n[K_TIMEOUT])
		return "timeout";
	if (c->n[K_ERROR] || c->n[K_CRASHED])
		return "error";
	if (c->n[K_UNSUPPORTED])
		return "unsupported";
	return "ok";
}

static void cell_error_text(const struct cell *c, char *out, size_t n)
{
	out[0] = '\0';
	if (c->n[K_TIMEOUT])
		snprintf(out, n, "%d of %d repetitions timed out", c->n[K_TIMEOUT], c->reps);
	else if (c->n[K_ERROR] || c->n[K_CRASHED])
		snprintf(out, n, "%d of %d repetitions failed: %s", c->n[K_ERROR] + c->n[K_CRASHED],
			 c->reps, c->first_error);
	else if (c->n[K_UNSUPPORTED])
		snprintf(out, n, "unsupported: %s", c->first_error);
}

static void emit_cell(struct runner *R, const struct cell *c)
{
	struct sbuf sb = { 0 };
	char err[256];
	size_t i;
	int rest = 0;

	sbuf_puts(&sb, "{\"t\":\"cell\",\"scenario\":");
	sbuf_json_str(&sb, c->sc->id);
	sbuf_printf(&sb, ",\"status\":\"%s\",\"reps\":%d,\"duration_ms\":%lld", cell_status(c),
		    c->reps, c->duration_ms);
	if (c->sc->racy)
		sbuf_puts(&sb, ",\"racy\":true");
	cell_error_text(c, err, sizeof(err));
	if (err[0]) {
		sbuf_puts(&sb, ",\"error\":");
		sbuf_json_str(&sb, err);
	}
	sbuf_puts(&sb, ",\"outcomes\":[");
	for (i = 0; i < c->nout; i++) {
		/* Keep the record under the frame limit: fold the tail into one outcome. */
		if (rest || sb.len + strlen(c->out[i].obs) + 64 > KF1_MAX_PAYLOAD - 256) {
			rest += c->out[i].count;
			continue;
		}
		sbuf_printf(&sb, "%s{\"observation\":%s,\"count\":%d}", i ? "," : "", c->out[i].obs,
			    c->out[i].count);
	}
	if (rest)
		sbuf_printf(&sb, "%s{\"observation\":{\"rep\":\"truncated\"},\"count\":%d}",
			    c->nout ? "," : "", rest);
	sbuf_puts(&sb, "]}");
	emit(R, sb.buf);
	sbuf_release(&sb);
}

static void print_cell(struct runner *R, const struct cell *c)
{
	struct sbuf sb = { 0 };
	char err[256];
	size_t i;

	sbuf_printf(&sb, "%-32s %-11s %d reps, %lld ms%s\n", c->sc->id, cell_status(c), c->reps,
		    c->duration_ms, c->sc->racy ? ", \"racy\":true" : "");
	cell_error_text(c, err, sizeof(err));
	if (err[0])
		sbuf_printf(&sb, "    error: %s\n", err);
	for (i = 0; i < c->nout; i++)
		sbuf_printf(&sb, "    %6d  %s\n", c->out[i].count, c->out[i].obs);
	write_all(R->fd, sb.buf, sb.len);
	sbuf_release(&sb);
}

/* ---------------------------------------------------------------- repetitions */

static void rep_child(const struct scenario *sc, int wfd, int timeout_ms)
{
	struct sbuf sb = { 0 };
	struct obs o;
	sigset_t none;
	char *text;
	int rc, sig;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	g_private_fd = wfd;
	/* Room for a few sequential guarded waits inside one repetition. */
	/*
	 * Each bounded wait inside a repetition gets a quarter of its timeout:
	 * what it waits for takes milliseconds on a healthy kernel, but a TCG
	 * guest sharing two host cores with other guests can take seconds, and
	 * a wait that runs out is recorded as an observation, so it must not run
	 * out merely because the host is busy.
	 */
	g_wait_ms = timeout_ms / 4;
	if (g_wait_ms < 50)
		g_wait_ms = 50;

	obs_init(&o);
	rc = sc->run(&o);
	if (rc != REP_OK && rc != REP_UNSUPPORTED) {
		rc = REP_ERROR;
		obs_str(&o, "rep", "error");
		if (!obs_get(&o, "error"))
			obs_str(&o, "error", "scenario-failed");
	}
	text = obs_render(&o);
	sbuf_printf(&sb, "%s %s\n", rc == REP_OK ? "ok" : rc == REP_UNSUPPORTED ? "unsupported" : "error",
		    text);
	write_all(wfd, sb.buf, sb.len);
	_exit(0);
}

/* Read ppid and pgrp from /proc/PID/stat; -1 if gone. */
static int proc_ids(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char buf[1024], *p;
	int pp, pg;

	if (read_proc_file(pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %d", &pp, &pg) != 2)
		return -1;
	*ppid = pp;
	*pgrp = pg;
	return 0;
}

/*
 * Kill what a repetition left: its process group, and any child of ours
 * (orphans come back to the subreaper). Reap our children by pid. Loops until
 * nothing is left, for at most a few seconds.
 */
static void reap_leftovers(pid_t pgid)
{
	long long end = monotonic_ms() + 5000;
	pid_t self = getpid(), pid, ppid, pgrp;
	struct dirent *de;
	int left, st;
	DIR *d;

	if (pgid > 0)
		kill(-pgid, SIGKILL);
	do {
		left = 0;
		d = opendir("/proc");
		if (!d)
			return;
		while ((de = readdir(d))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = (pid_t)atoi(de->d_name);
			if (pid == self || proc_ids(pid, &ppid, &pgrp) < 0)
				continue;
			if (ppid != self && !(pgid > 0 && pgrp == pgid))
				continue;
			kill(pid, SIGKILL);
			if (ppid == self && waitpid(pid, &st, WNOHANG | __WALL) == pid)
				continue;
			left++;
		}
		closedir(d);
		if (left)
			g_sleep_ms(1);
	} while (left && monotonic_ms() < end);
}

/* One repetition: its kind, and its observation text (owned) in *obs. */
static enum rep_kind run_rep(const struct scenario *sc, int timeout_ms, char **obs)
{
	long long deadline = monotonic_ms() + timeout_ms, left;
	struct sbuf sb = { 0 };
	struct pollfd pfd[2];
	int p[2], pidfd, eof = 0, exited = 0, st = 0, npfd;
	enum rep_kind kind;
	char buf[4096], *nl, *sp;
	ssize_t n;
	pid_t pid;

	*obs = NULL;
	if (pipe2(p, O_CLOEXEC) < 0) {
		*obs = strdup("{\"error\":\"runner-pipe\",\"rep\":\"error\"}");
		return K_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		*obs = strdup("{\"error\":\"runner-fork\",\"rep\":\"error\"}");
		return K_ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		rep_child(sc, p[1], timeout_ms);
	}
	close(p[1]);
	setpgid(pid, pid); /* also done by the child: whichever runs first */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	while (!(eof && (exited || pidfd < 0))) {
		left = deadline - monotonic_ms();
		if (left <= 0)
			break;
		npfd = 0;
		if (!eof) {
			pfd[npfd].fd = p[0];
			pfd[npfd++].events = POLLIN;
		}
		if (pidfd >= 0 && !exited) {
			pfd[npfd].fd = pidfd;
			pfd[npfd++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)npfd, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pidfd >= 0 && !exited && (pfd[npfd - 1].revents & (POLLIN | POLLHUP)))
			exited = 1;
		if (!eof && (pfd[0].revents & (POLLIN | POLLHUP))) {
			n = read(p[0], buf, sizeof(buf));
			if (n > 0)
				sbuf_add(&sb, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				eof = 1;
		}
	}
	close(p[0]);
	if (pidfd >= 0)
		close(pidfd);

	if (!(eof && (exited || pidfd < 0))) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		reap_leftovers(pid);
		sbuf_release(&sb);
		*obs = strdup("{\"rep\":\"timeout\"}");
		return K_TIMEOUT;
	}
	/* The pipe is at EOF: the child is exiting if it has not exited yet. */
	if (g_waitpid(pid, &st, 0, timeout_ms) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	reap_leftovers(pid);

	nl = sb.buf ? strchr(sb.buf, '\n') : NULL;
	sp = sb.buf ? strchr(sb.buf, ' ') : NULL;
	if (WIFSIGNALED(st) && !nl) {
		snprintf(buf, sizeof(buf), "{\"rep\":\"crashed:%s\"}", sig_name(WTERMSIG(st)));
		*obs = strdup(buf);
		kind = K_CRASHED;
	} else if (!nl || !sp || sp > nl) {
		*obs = strdup("{\"error\":\"no-observation\",\"rep\":\"error\"}");
		kind = K_ERROR;
	} else {
		*nl = '\0';
		*sp = '\0';
		*obs = strdup(sp + 1);
		kind = !strcmp(sb.buf, "ok") ? K_OK : !strcmp(sb.buf, "unsupported") ? K_UNSUPPORTED : K_ERROR;
	}
	sbuf_release(&sb);
	if (!*obs)
		abort();
	return kind;
}

static void cell_add(struct cell *c, char *obs)
{
	struct outcome *o;
	size_t i;

	for (i = 0; i < c->nout; i++)
		if (!strcmp(c->out[i].obs, obs)) {
			c->out[i].count++;
			free(obs);
			return;
		}
	o = realloc(c->out, (c->nout + 1) * sizeof(*c->out));
	if (!o)
		abort();
	c->out = o;
	c->out[c->nout].obs = obs;
	c->out[c->nout++].count = 1;
}

static void cell_release(struct cell *c)
{
	size_t i;

	for (i = 0; i < c->nout; i++)
		free(c->out[i].obs);
	free(c->out);
	c->out = NULL;
	c->nout = 0;
}

/* The short reason of an error/unsupported observation, for the cell's text. */
static void note_error(struct cell *c, enum rep_kind k, const char *obs)
{
	if (c->first_error[0] || k == K_OK || k == K_TIMEOUT)
		return;
	snprintf(c->first_error, sizeof(c->first_error), "%s", obs);
}

static int parse_int(const char *s, int min, int max, int *out);

/* "ID:N" or "ID=N" entries of @list: N for @id, or 0 when it is not named. */
static int reps_for_lookup(const char *list, const char *id)
{
	size_t idlen = strlen(id);
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n > idlen && !strncmp(p, id, idlen) && (p[idlen] == ':' || p[idlen] == '='))
			return atoi(p + idlen + 1);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Checks a --reps-for / kfarm.reps_for= list: ID:N entries, N in 1..MAX_REPS. */
static int reps_for_valid(const char *list)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ","), k = strcspn(p, ":=");
		int v;
		char num[16];

		if (k == 0 || k >= n || n - k - 1 == 0 || n - k - 1 >= sizeof(num))
			return 0;
		memcpy(num, p + k + 1, n - k - 1);
		num[n - k - 1] = '\0';
		if (parse_int(num, 1, MAX_REPS, &v) < 0)
			return 0;
		p += n;
		if (*p == ',')
			p++;
	}
	return 1;
}

/*
 * The repetitions of @sc: exactly what --reps-for names for it, else --reps,
 * which racy scenarios may multiply.
 */
static int cell_reps(const struct runner *R, const struct scenario *sc)
{
	long long n = R->reps;
	int exact = reps_for_lookup(R->reps_for, sc->id);

	if (exact > 0)
		return exact;

	if (sc->racy && sc->reps_mult > 1)
		n *= sc->reps_mult;
	return n > MAX_REPS ? MAX_REPS : (int)n;
}

/* --strict: 1 (with a line on stderr per violation) if @c breaks the rules. */
static int strict_check(const struct cell *c)
{
	const char *st = cell_status(c);
	int bad = 0;

	if (strcmp(st, "ok") && strcmp(st, "unsupported")) {
		fprintf(stderr, "strict: %s: status %s\n", c->sc->id, st);
		bad = 1;
	}
	if (!c->sc->racy && c->nout > 1) {
		fprintf(stderr, "strict: %s: deterministic but %zu observations\n", c->sc->id,
			c->nout);
		bad = 1;
	}
	return bad;
}

/*
 * Shuffle the selected scenarios with @seed (splitmix64 driving Fisher-Yates):
 * the same seed gives the same order on every guest and every kernel.
 */
static void shuffle_scenarios(struct runner *R, unsigned long long seed)
{
	size_t i, j;

	for (i = R->nlist; i > 1; i--) {
		unsigned long long z = (seed += 0x9e3779b97f4a7c15ULL);
		const struct scenario *t;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		j = (size_t)(z % i);
		t = R->list[i - 1];
		R->list[i - 1] = R->list[j];
		R->list[j] = t;
	}
}

static int run_all(struct runner *R)
{
	struct cell c;
	enum rep_kind k;
	long long t0;
	size_t i;
	int r, nreps, bad = 0, violations = 0;
	char *obs;

	if (R->order_seed)
		shuffle_scenarios(R, R->order_seed);
	if (R->framed)
		emit_hello(R);
	for (i = 0; i < R->nlist; i++) {
		memset(&c, 0, sizeof(c));
		c.sc = R->list[i];
		if (R->framed)
			emit_start(R, c.sc);
		t0 = monotonic_ms();
		nreps = cell_reps(R, c.sc);
		for (r = 0; r < nreps; r++) {
			k = run_rep(c.sc, R->timeout_ms, &obs);
			c.n[k]++;
			c.reps++;
			note_error(&c, k, obs);
			cell_add(&c, obs);
		}
		c.duration_ms = monotonic_ms() - t0;
		if (R->framed)
			emit_cell(R, &c);
		else
			print_cell(R, &c);
		if (strcmp(cell_status(&c), "ok") && strcmp(cell_status(&c), "unsupported"))
			bad = 1;
		if (R->strict)
			violations += strict_check(&c);
		cell_release(&c);
	}
	if (R->framed) {
		char end[64];

		snprintf(end, sizeof(end), "{\"t\":\"end\",\"count\":%lu}", R->seq);
		emit(R, end);
	}
	if (R->strict && violations)
		fprintf(stderr, "strict: %d violation%s\n", violations, violations == 1 ? "" : "s");
	return bad || violations;
}

/* ---------------------------------------------------------------- arguments */

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Resolve "all" / "ID,ID"; -1 with a message on stderr for an unknown id. */
static int select_scenarios(struct runner *R, const char *spec)
{
	char *copy = strdup(spec), *tok, *save = NULL;
	const struct scenario *sc;
	size_t i;
	int rc = 0;

	if (!copy)
		return -1;
	R->list = calloc(nscenarios * 4 + 64, sizeof(*R->list));
	if (!R->list) {
		free(copy);
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (i = 0; i < nscenarios; i++)
				if (strcmp(scenarios[i]->group, "selftest") && R->nlist < nscenarios * 4 + 64)
					R->list[R->nlist++] = scenarios[i];
			continue;
		}
		sc = scenario_find(tok);
		if (!sc) {
			fprintf(stderr, "kfarm-guest: unknown scenario '%s' (see --list)\n", tok);
			rc = -1;
			break;
		}
		if (R->nlist < nscenarios * 4 + 64)
			R->list[R->nlist++] = sc;
	}
	if (!rc && !R->nlist) {
		fprintf(stderr, "kfarm-guest: no scenario selected\n");
		rc = -1;
	}
	free(copy);
	return rc;
}

static void list_scenarios(void)
{
	size_t i;

	for (i = 0; i < nscenarios; i++)
		printf("%s\t%s\t%s\t%s\t%d\n", scenarios[i]->id, scenarios[i]->group,
		       scenarios[i]->desc, scenarios[i]->racy ? "racy" : "deterministic",
		       scenarios[i]->racy && scenarios[i]->reps_mult > 1 ? scenarios[i]->reps_mult : 1);
}

/* A table cell: '|' escaped, so a description cannot break the Markdown row. */
static void md_cell(const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", stdout);
		else
			putchar(*s);
	}
}

/* The catalog as Markdown; guest-tests/CATALOG.md is this output, kept in sync. */
static void print_catalog(void)
{
	const struct scenario *sc;
	size_t i;

	printf("# Scenario catalog\n\n"
	       "Generated by `build/kfarm-guest --catalog` from the scenario registry\n"
	       "(guest-tests/scenarios.c); each scenario's source header says what it sets up,\n"
	       "the action, what it observes and where the behaviour is documented.\n"
	       "`racy` scenarios run a multiple of the repetitions asked for (shown as xN)\n"
	       "and may show more than one outcome;\n"
	       "`deterministic` ones must show exactly one. Selftests are not part of `all`.\n\n"
	       "| id | group | kind | description | expected on 6.x (documented) |\n"
	       "|---|---|---|---|---|\n");
	for (i = 0; i < nscenarios; i++) {
		sc = scenarios[i];
		printf("| `%s` | %s | ", sc->id, sc->group);
		if (sc->racy && sc->reps_mult > 1)
			printf("racy (x%d)", sc->reps_mult);
		else
			printf("%s", sc->racy ? "racy" : "deterministic");
		printf(" | ");
		md_cell(sc->desc);
		printf(" | ");
		md_cell(sc->expect ? sc->expect : "");
		printf(" |\n");
	}
}

static int parse_seed(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

/*
 * kfarm.run=, kfarm.reps=, kfarm.reps_for=, kfarm.timeout_ms=, kfarm.order=
 * from /proc/cmdline.
 */
static int read_cmdline(char *run, size_t nrun, int *reps, int *timeout_ms, char *reps_for,
			size_t nreps_for, unsigned long long *order_seed)
{
	char buf[4096], *tok, *save = NULL;
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kfarm-guest: /proc/cmdline: %s\n", strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(tok, "kfarm.run=", 10)) {
			snprintf(run, nrun, "%s", tok + 10);
		} else if (!strncmp(tok, "kfarm.reps=", 11)) {
			if (parse_int(tok + 11, 1, MAX_REPS, reps) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		} else if (!strncmp(tok, "kfarm.reps_for=", 15)) {
			if (!reps_for_valid(tok + 15) || strlen(tok + 15) >= nreps_for) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
			snprintf(reps_for, nreps_for, "%s", tok + 15);
		} else if (!strncmp(tok, "kfarm.order=", 12)) {
			if (parse_seed(tok + 12, order_seed) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		} else if (!strncmp(tok, "kfarm.timeout_ms=", 17)) {
			if (parse_int(tok + 17, 1, INT_MAX / 2, timeout_ms) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		}
	}
	return 0;
}

static int open_results_tty(void)
{
	struct termios t;
	int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "kfarm-guest: /dev/ttyS1: %s\n", strerror(errno));
		return -1;
	}
	/* Raw: no \r added, no other output processing. */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct runner R = { .reps = DEFAULT_REPS, .timeout_ms = DEFAULT_TIMEOUT_MS, .fd = 1 };
	const char *run = NULL, *output = NULL;
	char cmdrun[1024] = "all";
	int i, from_cmdline = 0, rc;

	/* The exec helper of event-stop-detach-sig-exec: exit with the given code. */
	if (argc == 3 && !strcmp(argv[1], "--kfarm-helper"))
		_exit(atoi(argv[2]));

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list")) {
			list_scenarios();
			return 0;
		} else if (!strcmp(argv[i], "--catalog")) {
			print_catalog();
			return 0;
		} else if (!strcmp(argv[i], "--strict")) {
			R.strict = 1;
		} else if (!strcmp(argv[i], "--run") && i + 1 < argc) {
			run = argv[++i];
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			if (parse_int(argv[++i], 1, MAX_REPS, &R.reps) < 0) {
				fprintf(stderr, "kfarm-guest: bad --reps '%s' (1..%d)\n", argv[i], MAX_REPS);
				return 2;
			}
		} else if (!strcmp(argv[i], "--reps-for") && i + 1 < argc) {
			if (!reps_for_valid(argv[++i]) || strlen(argv[i]) >= sizeof(R.reps_for)) {
				fprintf(stderr, "kfarm-guest: bad --reps-for '%s' (ID=N[,ID=N...], N in 1..%d)\n",
					argv[i], MAX_REPS);
				return 2;
			}
			snprintf(R.reps_for, sizeof(R.reps_for), "%s", argv[i]);
		} else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
			if (parse_int(argv[++i], 1, INT_MAX / 2, &R.timeout_ms) < 0) {
				fprintf(stderr, "kfarm-guest: bad --timeout-ms '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--order-seed") && i + 1 < argc) {
			if (parse_seed(argv[++i], &R.order_seed) < 0) {
				fprintf(stderr, "kfarm-guest: bad --order-seed '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--framed")) {
			R.framed = 1;
		} else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			output = argv[++i];
		} else if (!strcmp(argv[i], "--from-cmdline")) {
			from_cmdline = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "kfarm-guest: bad argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}

	if (from_cmdline) {
		if (read_cmdline(cmdrun, sizeof(cmdrun), &R.reps, &R.timeout_ms, R.reps_for,
				 sizeof(R.reps_for), &R.order_seed) < 0)
			return 2;
		run = cmdrun;
		R.framed = 1;
	} else if (!run) {
		usage(stderr);
		return 2;
	}
	if (select_scenarios(&R, run) < 0)
		return 2;

	if (from_cmdline) {
		R.fd = open_results_tty();
		if (R.fd < 0)
			return 1;
	} else if (output) {
		R.fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (R.fd < 0) {
			fprintf(stderr, "kfarm-guest: %s: %s\n", output, strerror(errno));
			return 1;
		}
	}

	/* Orphaned tracees come back to us, not to init: we kill and reap them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "kfarm-guest: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	guard_install();

	rc = run_all(&R);
	if (R.fd > 2)
		close(R.fd);
	free(R.list);
	return rc;
}
