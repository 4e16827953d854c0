// SPDX-License-Identifier: MIT
/*
 * lab.c - the P / C / R bench the detach scenarios share (see lab.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"

/*
 * What P's SIGCHLD handler saw (the handler modes of the sigchld axis): P is
 * one repetition's process, so one log per process is one per repetition.
 */
#define CHLD_LOG_MAX 32
static struct {
	volatile int n;
	siginfo_t si[CHLD_LOG_MAX];
} chld_log;

static void chld_handler(int sig, siginfo_t *si, void *uc)
{
	int n = chld_log.n;

	(void)sig;
	(void)uc;
	if (n < CHLD_LOG_MAX)
		chld_log.si[n] = *si;
	chld_log.n = n + 1;
}

/*
 * P's SIGCHLD disposition for the cell: see the sigchld axis in variant.c.
 * SIGCHLD stays blocked in P except under SIG_IGN: the handler modes let it
 * in only at P's checkpoints (lab_sigchld()), so that two SIGCHLDs sent in
 * quick succession merge or not by the order of events, not by when P got
 * to run. The kernel reads the disposition's flags (SA_NOCLDWAIT,
 * SA_NOCLDSTOP), not the mask, when it notifies P.
 */
static int chld_setup(const struct variant *v)
{
	struct sigaction sa;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	chld_log.n = 0;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	switch (v->v[AX_SIGCHLD]) {
	case SIGCHLD_DEFAULT:
		/* SIGCHLD stays pending (blocked, not ignored) so P can collect it. */
		sa.sa_handler = SIG_DFL;
		break;
	case SIGCHLD_IGN:
		sa.sa_handler = SIG_IGN;
		break;
	default:
		sa.sa_sigaction = chld_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		if (v->v[AX_SIGCHLD] == SIGCHLD_NOCLDWAIT)
			sa.sa_flags |= SA_NOCLDWAIT;
		if (v->v[AX_SIGCHLD] == SIGCHLD_NOCLDSTOP)
			sa.sa_flags |= SA_NOCLDSTOP;
		break;
	}
	sigprocmask(v->v[AX_SIGCHLD] == SIGCHLD_IGN ? SIG_UNBLOCK : SIG_BLOCK, &chld, NULL);
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return -1;
	return 0;
}

int lab_init(struct lab *L, struct obs *o, const struct variant *v)
{
	memset(L, 0, sizeof(*L));
	L->v = v ? *v : variant_default;
	L->c = L->r = -1;
	L->ready[0] = L->ready[1] = L->go[0] = L->go[1] = -1;
	L->rp[0] = L->rp[1] = L->pr[0] = L->pr[1] = -1;
	L->sh = shm_alloc(sizeof(*L->sh));
	if (!L->sh) {
		obs_str(o, "error", "mmap");
		return -1;
	}
	obs_init(&L->sh->tracer);
	if (pipe2(L->ready, O_CLOEXEC) < 0 || pipe2(L->go, O_CLOEXEC) < 0 ||
	    pipe2(L->rp, O_CLOEXEC) < 0 || pipe2(L->pr, O_CLOEXEC) < 0) {
		obs_str(o, "error", "pipe");
		lab_release(L);
		return -1;
	}
	if (chld_setup(&L->v) < 0) {
		obs_str(o, "error", "sigaction");
		lab_release(L);
		return -1;
	}
	guard_install();
	role_reset();
	role_set("parent", getpid());
	return 0;
}

pid_t lab_traced(const struct lab *L)
{
	if (L->v.v[AX_THREADS] == THREADS_NONLEADER && L->sh && L->sh->nthreads > 1)
		return L->sh->tid[1];
	return L->c;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int lab_spawn_tracee(struct lab *L, struct obs *o, void (*fn)(struct lab *L, void *arg), void *arg)
{
	sigset_t none;

	L->c = fork_child();
	if (L->c < 0) {
		obs_str(o, "error", "fork");
		return -1;
	}
	if (L->c == 0) {
		signal(SIGCHLD, SIG_DFL); /* P's disposition is P's alone */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close_fd(&L->ready[0]);
		close_fd(&L->go[1]);
		fn(L, arg);
		_exit(0);
	}
	role_set("self", L->c);
	close_fd(&L->ready[1]);
	return 0;
}

int lab_wait_ready(struct lab *L, struct obs *o)
{
	char b;

	if (g_read(L->ready[0], &b, 1, wait_limit_ms) != 1) {
		obs_str(o, "error", "tracee-not-ready");
		return -1;
	}
	return 0;
}

int lab_wait_stopped(struct lab *L, struct obs *o)
{
	siginfo_t si;

	if (g_waitid(P_PID, (id_t)L->c, &si, WSTOPPED | WNOWAIT, wait_limit_ms) < 0) {
		obs_str(o, "tracee", "wait-timeout");
		return -1;
	}
	if (si.si_code != CLD_STOPPED) {
		char d[64];

		describe_siginfo_child(&si, d, sizeof(d));
		obs_str(o, "tracee", d);
		return -1;
	}
	return 0;
}

int lab_spawn_tracer(struct lab *L, struct obs *o,
		     void (*fn)(struct lab *L, struct obs *t, void *arg), void *arg)
{
	L->r = fork_silent();
	if (L->r < 0) {
		obs_str(o, "error", "clone");
		return -1;
	}
	if (L->r == 0) {
		signal(SIGCHLD, SIG_DFL);
		role_set("tracer", getpid());
		close_fd(&L->ready[0]);
		fn(L, &L->sh->tracer, arg);
		_exit(0);
	}
	role_set("tracer", L->r);
	return 0;
}

int lab_run_spec(struct obs *o, const struct variant *v, const struct lab_spec *s)
{
	struct lab L;
	int rc, offcpu = 0;

	if (lab_init(&L, o, v) < 0)
		return REP_ERROR;
	L.handlers = s->handlers;
	L.threads = s->threads || L.v.v[AX_THREADS] != THREADS_SINGLE;
	L.settle_sleeping = s->settle_sleeping;
	if (lab_spawn_tracee(&L, o, s->tracee, s->arg) < 0 || lab_wait_ready(&L, o) < 0)
		goto fail;
	if (s->stopped_first && lab_wait_stopped(&L, o) < 0)
		return lab_finish(&L, o);
	/*
	 * C reports its stop (JOBCTL_STOPPED, what waitid saw) before it sends
	 * P the CLD_STOPPED, whose si_status it reads then: a consuming wait in
	 * between (before_tracer) would make it SIG0. C off the CPU has sent it.
	 */
	if (s->stopped_first)
		offcpu = procfs_wait_offcpu(L.c);
	if (s->before_tracer && s->before_tracer(&L, o, s->arg) < 0)
		goto fail;
	/* The stop's CLD_STOPPED, collected before R comes in. */
	if (s->stopped_first) {
		lab_sigchld(&L, offcpu < 0 ? 50 : 0);
		lab_checkpoint(&L);
	}
	if (L.v.v[AX_TRACER] == TRACER_PARENT) {
		/* P traces C itself: R's part runs here, and "R exits" is its return. */
		s->tracer(&L, &L.sh->tracer, s->arg);
	} else if (lab_spawn_tracer(&L, o, s->tracer, s->arg) < 0) {
		goto fail;
	}
	if (s->p_turn)
		s->p_turn(&L, o, s->arg);
	rc = lab_finish(&L, o);
	if (s->may_be_unsupported && rc == REP_OK && obs_get(o, "unsupported"))
		rc = REP_UNSUPPORTED;
	return rc;
fail:
	lab_release(&L);
	return REP_ERROR;
}

int lab_run(struct obs *o, const struct variant *v, void (*tracee)(struct lab *L, void *arg),
	    void (*tracer)(struct lab *L, struct obs *t, void *arg), void *arg)
{
	const struct lab_spec s = { .tracee = tracee, .tracer = tracer, .arg = arg };

	return lab_run_spec(o, v, &s);
}

void lab_sigcont_on_note(struct lab *L, struct obs *o, void *arg)
{
	(void)arg;
	if (lab_wait_note(L, o) == 0) {
		kill(L->c, SIGCONT);
		lab_reply(L);
	}
}

void lab_wait_tracer(struct lab *L, struct obs *o)
{
	char d[64];
	int st;

	if (L->r <= 0)
		return;
	if (g_waitpid(L->r, &st, __WALL, wait_limit_ms) < 0) {
		obs_str(o, "tracer", "wait-timeout");
		kill(L->r, SIGKILL);
		waitpid(L->r, &st, __WALL);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		describe_wstatus(st, d, sizeof(d));
		obs_str(o, "tracer", d);
	}
	L->r = 0;
}

void lab_go(struct lab *L)
{
	char b = 'g';

	if (write_all(L->go[1], &b, 1) < 0)
		return;
}

/* @pid as a role: C is "self", its other threads "thread1", "thread2"... */
static const char *lab_role(const struct lab *L, pid_t pid, char *buf, size_t n)
{
	int i;

	if (pid == L->c)
		return "self";
	for (i = 1; L->sh && i < L->sh->nthreads && i < LAB_MAX_THREADS; i++)
		if (L->sh->tid[i] == pid) {
			snprintf(buf, n, "thread%d", i);
			return buf;
		}
	return role_of(pid);
}

static void append(char *list, size_t size, const char *item)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len ? "," : "", item);
}

/* One SIGCHLD from C (or a thread of C) as CODE:STATUS:ROLE. */
static void sigchld_note(struct lab *L, const siginfo_t *si)
{
	char role[16], item[96];
	const char *who = lab_role(L, si->si_pid, role, sizeof(role));

	if (!strcmp(who, "other"))
		return; /* not the tracee's */
	/*
	 * A CLD_TRAPPED comes to P only when P traces (tracer=parent); its stop
	 * and status are the tracer's view (<stop>, <stop>_status). Its si_status
	 * is left out here: on a loaded 6.18 host a non-leader thread's first
	 * trap was once seen with si_status 0 in some 4,000 repetitions.
	 */
	if (si->si_code == CLD_TRAPPED)
		snprintf(item, sizeof(item), "%s:-:%s", si_code_name(SIGCHLD, si->si_code), who);
	else if (si->si_code == CLD_EXITED)
		snprintf(item, sizeof(item), "%s:%d:%s", si_code_name(SIGCHLD, si->si_code),
			 si->si_status, who);
	else
		snprintf(item, sizeof(item), "%s:%s:%s", si_code_name(SIGCHLD, si->si_code),
			 sig_name(si->si_status), who);
	append(L->sigchld, sizeof(L->sigchld), item);
}

/* The handler modes: take what the handler logged since the last time. */
static int sigchld_drain(struct lab *L)
{
	int got = 0;

	while (L->chld_seen < chld_log.n) {
		if (L->chld_seen < CHLD_LOG_MAX)
			sigchld_note(L, (const siginfo_t *)&chld_log.si[L->chld_seen]);
		L->chld_seen++;
		got++;
	}
	return got;
}

void lab_sigchld(struct lab *L, int grace_ms)
{
	struct timespec zero = { 0, 0 }, grace;
	siginfo_t si;
	sigset_t chld;
	long long end;
	int got = 0;

	if (L->v.v[AX_SIGCHLD] == SIGCHLD_IGN)
		return; /* nothing ever comes */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (L->v.v[AX_SIGCHLD] != SIGCHLD_DEFAULT) {
		/* Let the handler run (a pending SIGCHLD is delivered on unblock). */
		end = monotonic_ms() + grace_ms;
		for (;;) {
			sigprocmask(SIG_UNBLOCK, &chld, NULL);
			sigprocmask(SIG_BLOCK, &chld, NULL);
			if (sigchld_drain(L) || monotonic_ms() >= end)
				break;
			sleep_ms(1);
		}
		return;
	}
	while (sigtimedwait(&chld, &si, &zero) == SIGCHLD) {
		sigchld_note(L, &si);
		got++;
	}
	if (got || grace_ms <= 0)
		return;
	/*
	 * A stop is visible in /proc and to waitid() a moment before the stopping
	 * task notifies its parent: give a late SIGCHLD a short grace.
	 */
	grace.tv_sec = grace_ms / 1000;
	grace.tv_nsec = (long)(grace_ms % 1000) * 1000000L;
	memset(&si, 0, sizeof(si));
	while (sigtimedwait(&chld, &si, &grace) < 0 && errno == EINTR)
		;
	if (si.si_signo == SIGCHLD)
		sigchld_note(L, &si);
}

void lab_checkpoint(struct lab *L)
{
	char d[64];
	siginfo_t si;
	pid_t r;
	int st = 0, opt;

	if (L->reaped) {
		append(L->waits, sizeof(L->waits), "ECHILD");
		return;
	}
	if (L->v.v[AX_WAIT] == WAIT_WAITID_NOWAIT) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)L->c, &si, WEXITED | WSTOPPED | WNOWAIT | WNOHANG) < 0)
			snprintf(d, sizeof(d), "%s", errno_name(errno));
		else if (si.si_pid == 0)
			snprintf(d, sizeof(d), "none");
		else
			describe_siginfo_child(&si, d, sizeof(d));
		append(L->waits, sizeof(L->waits), d);
		return;
	}
	opt = WNOHANG;
	if (L->v.v[AX_WAIT] == WAIT_WAITPID_UNTRACED)
		opt |= WUNTRACED;
	if (L->v.v[AX_WAIT] == WAIT_WAITPID_CONTINUED)
		opt |= WUNTRACED | WCONTINUED;
	r = waitpid(L->c, &st, opt);
	if (r < 0) {
		snprintf(d, sizeof(d), "%s", errno_name(errno));
	} else if (r == 0) {
		snprintf(d, sizeof(d), "none");
	} else {
		if (WIFCONTINUED(st))
			snprintf(d, sizeof(d), "continued");
		else if (WIFSTOPPED(st))
			snprintf(d, sizeof(d), "stopped:%s", sig_name(WSTOPSIG(st)));
		else
			describe_wstatus(st, d, sizeof(d));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			L->reaped = 1;
			snprintf(L->reaped_as, sizeof(L->reaped_as), "%s", d);
		}
	}
	append(L->waits, sizeof(L->waits), d);
}

/*
 * Whether P itself still traces the task it traced (tracer=parent, and its
 * detach did not take, e.g. from a zombie): that task's TracerPid is P.
 */
static int held_by_p(const struct lab *L)
{
	char v[32];

	if (L->v.v[AX_TRACER] != TRACER_PARENT)
		return 0;
	return procfs_status_field(lab_traced(L), "TracerPid", v, sizeof(v)) == 0 &&
	       atoi(v) == getpid();
}

int lab_finish(struct lab *L, struct obs *o)
{
	char state[64], d[64], mask[32], names[256];
	const char *want;
	siginfo_t si;
	int settled, alive, st, stopped = 0;

	lab_wait_tracer(L, o);
	want = L->settle_sleeping ? "stopped|zombie|dead|gone|sleeping" : "stopped|zombie|dead|gone";
	if (L->reaped) {
		settled = 1;
		snprintf(state, sizeof(state), "gone");
	} else {
		if (L->threads && L->sh->nthreads > 1)
			lab_wait_threads(L, want, wait_limit_ms);
		settled = procfs_wait_state(L->c, want, wait_limit_ms, state, sizeof(state)) == 0;
		/*
		 * "dead" is on its way out; under SIG_IGN or SA_NOCLDWAIT a zombie
		 * C goes away by itself too, unless P still traces a zombie thread
		 * of it (then C waits for P): let it go.
		 */
		if (settled && (!strcmp(state, "dead") ||
				(!strcmp(state, "zombie") && !held_by_p(L) &&
				 (L->v.v[AX_SIGCHLD] == SIGCHLD_IGN ||
				  L->v.v[AX_SIGCHLD] == SIGCHLD_NOCLDWAIT))))
			procfs_wait_state(L->c, "gone", wait_limit_ms, state, sizeof(state));
	}
	alive = strcmp(state, "zombie") && strcmp(state, "dead") && strcmp(state, "gone");
	stopped = settled && !strcmp(state, "stopped");
	/*
	 * How C ended or rests, as a WNOWAIT wait sees it, first: /proc shows a
	 * zombie a moment before the kernel has notified P (exit_notify() sets
	 * the state, then signals, under tasklist_lock, which wait takes).
	 */
	if (!settled) {
		obs_str(o, "tracee", "wait-timeout");
	} else if (L->reaped) {
		obs_str(o, "tracee", L->reaped_as);
	} else if (!alive && !strcmp(state, "zombie") && held_by_p(L)) {
		/* P still traces a zombie thread of C: nobody else will release it. */
		obs_str(o, "tracee", "zombie-unreaped");
	} else if (!alive) {
		if (g_waitid(P_PID, (id_t)L->c, &si, WEXITED | WNOWAIT, wait_limit_ms) == 0) {
			describe_siginfo_child(&si, d, sizeof(d));
			obs_str(o, "tracee", d);
		} else {
			/* Reaped by the kernel (SIG_IGN, SA_NOCLDWAIT): nothing to wait for. */
			obs_str(o, "tracee", errno == ETIMEDOUT ? "wait-timeout" : "gone");
		}
	} else if (stopped) {
		if (g_waitid(P_PID, (id_t)L->c, &si, WSTOPPED | WNOHANG | WNOWAIT, wait_limit_ms) == 0 &&
		    si.si_pid == L->c) {
			describe_siginfo_child(&si, d, sizeof(d));
			obs_str(o, "tracee", d);
		} else {
			obs_str(o, "tracee", "stopped");
		}
	} else {
		obs_str(o, "tracee", "running");
	}
	if (alive) {
		if (procfs_status_field(L->c, "SigPnd", mask, sizeof(mask)) == 0) {
			sigmask_names(mask, names, sizeof(names));
			obs_str(o, "sigpnd", names);
		}
		if (procfs_status_field(L->c, "ShdPnd", mask, sizeof(mask)) == 0) {
			sigmask_names(mask, names, sizeof(names));
			obs_str(o, "shdpnd", names);
		}
		if (L->threads && L->sh->nthreads > 1)
			lab_threads_observe(L, o, "");
	}
	/* A stopped tracee off the CPU has notified P already; else a grace. */
	lab_sigchld(L, stopped && procfs_wait_offcpu(L->c) < 0 ? 50 : 0);
	/* Then P's own wait: it may consume a report or reap C. */
	if (settled)
		lab_checkpoint(L);
	obs_str(o, "state", state);
	obs_str(o, "sigchld", L->sigchld);
	obs_str(o, "waits", L->waits);
	if (L->handlers)
		hrec_observe(&L->sh->h, o);
	obs_merge(o, &L->sh->tracer);

	if (L->c > 0 && !L->reaped) {
		/* A zombie thread P traces holds C's leader back: reap it first. */
		for (int i = 1; L->v.v[AX_TRACER] == TRACER_PARENT && i < L->sh->nthreads &&
				i < LAB_MAX_THREADS; i++)
			waitpid(L->sh->tid[i], &st, WNOHANG | __WALL);
		kill(L->c, SIGKILL);
		g_waitpid(L->c, &st, __WALL, wait_limit_ms);
	}
	L->c = 0;
	lab_release(L);
	return obs_get(o, "error") ? REP_ERROR : REP_OK;
}

void lab_release(struct lab *L)
{
	int st;

	if (L->r > 0) {
		kill(L->r, SIGKILL);
		waitpid(L->r, &st, __WALL);
		L->r = 0;
	}
	if (L->c > 0) {
		kill(L->c, SIGKILL);
		waitpid(L->c, &st, __WALL);
		L->c = 0;
	}
	close_fd(&L->ready[0]);
	close_fd(&L->ready[1]);
	close_fd(&L->go[0]);
	close_fd(&L->go[1]);
	close_fd(&L->rp[0]);
	close_fd(&L->rp[1]);
	close_fd(&L->pr[0]);
	close_fd(&L->pr[1]);
	shm_free(L->sh, sizeof(*L->sh));
	L->sh = NULL;
}

void lab_reply(struct lab *L)
{
	char b = 'p';

	if (write_all(L->pr[1], &b, 1) < 0)
		return;
}

int lab_wait_note(struct lab *L, struct obs *o)
{
	char b;

	if (g_read(L->rp[0], &b, 1, wait_limit_ms) != 1) {
		obs_str(o, "error", "no-tracer-note");
		return -1;
	}
	return 0;
}

int lab_wait_threads(struct lab *L, const char *want, int ms)
{
	long long end = monotonic_ms() + ms;
	char state[64];
	int i, left;

	for (i = 0; i < L->sh->nthreads && i < LAB_MAX_THREADS; i++) {
		left = (int)(end - monotonic_ms());
		if (procfs_wait_state(L->sh->tid[i], want, left > 0 ? left : 0, state,
				    sizeof(state)) < 0)
			return -1;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void lab_tally(const char *const *items, int n, char *out, size_t len)
{
	const char *sorted[LAB_MAX_THREADS * 2];
	size_t used = 0;
	int i, j;

	out[0] = '\0';
	if (n > (int)(sizeof(sorted) / sizeof(sorted[0])))
		n = (int)(sizeof(sorted) / sizeof(sorted[0]));
	for (i = 0; i < n; i++)
		sorted[i] = items[i];
	qsort(sorted, (size_t)n, sizeof(sorted[0]), str_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(sorted[i], sorted[j]); j++)
			;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s*%d",
					 i ? "," : "", sorted[i][0] ? sorted[i] : "-", j - i);
		if (used >= len) {
			out[len - 1] = '\0';
			return;
		}
	}
}

void lab_threads_observe(struct lab *L, struct obs *o, const char *prefix)
{
	char states[LAB_MAX_THREADS][64], pnd[LAB_MAX_THREADS][128], mask[32], key[OBS_KEY_MAX];
	const char *sp[LAB_MAX_THREADS] = { 0 }, *pp[LAB_MAX_THREADS] = { 0 };
	char out[OBS_VAL_MAX];
	int i, n = L->sh->nthreads, np = 0;

	if (n > LAB_MAX_THREADS)
		n = LAB_MAX_THREADS;
	for (i = 0; i < n; i++) {
		procfs_state(L->sh->tid[i], states[i], sizeof(states[i]));
		sp[i] = states[i];
		if (procfs_status_field(L->sh->tid[i], "SigPnd", mask, sizeof(mask)) == 0) {
			sigmask_names(mask, pnd[np], sizeof(pnd[np]));
			pp[np] = pnd[np];
			np++;
		}
	}
	lab_tally(sp, n, out, sizeof(out));
	snprintf(key, sizeof(key), "%sthreads", prefix);
	obs_str(o, key, out);
	if (np) {
		lab_tally(pp, np, out, sizeof(out));
		snprintf(key, sizeof(key), "%sthread_sigpnd", prefix);
		obs_str(o, key, out);
	}
}

/* ---------------------------------------------------------------- tracee */

void lab_tracee_handle(struct lab *L, int sig)
{
	hrec_install(&L->sh->h, sig);
}

void lab_tracee_ready(struct lab *L)
{
	char b = 'r';

	if (L->v.v[AX_ATTACH] == ATTACH_TRACEME && ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(95);
	if (write_all(L->ready[1], &b, 1) < 0)
		_exit(91);
	if (L->v.v[AX_ATTACH] == ATTACH_TRACEME)
		lab_tracee_tkill(SIGSTOP);
}

void lab_tracee_wait_go(struct lab *L)
{
	ssize_t r;
	char b;

	do
		r = read(L->go[0], &b, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(92);
}

void lab_tracee_go_exit(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	_exit(0);
}

void lab_tracee_tkill(int sig)
{
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

static struct lab *thread_lab;
static void (*thread_fn)(struct lab *L, int idx);
static pthread_barrier_t thread_barrier;

static void *thread_main(void *arg)
{
	int idx = (int)(long)arg;

	thread_lab->sh->tid[idx] = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&thread_barrier);
	if (thread_fn)
		thread_fn(thread_lab, idx);
	for (;;)
		pause();
	return NULL;
}

void lab_tracee_threads(struct lab *L, int n, void (*fn)(struct lab *L, int idx))
{
	pthread_t th;
	int i;

	if (n > LAB_MAX_THREADS)
		n = LAB_MAX_THREADS;
	thread_lab = L;
	thread_fn = fn;
	L->sh->tid[0] = getpid();
	L->sh->nthreads = n;
	if (pthread_barrier_init(&thread_barrier, NULL, (unsigned)n))
		_exit(96);
	for (i = 1; i < n; i++)
		if (pthread_create(&th, NULL, thread_main, (void *)(long)i))
			_exit(97);
	/* Every tid is in shared memory once all have met here. */
	pthread_barrier_wait(&thread_barrier);
}

/* ---------------------------------------------------------------- tracer */

long lab_tracer_ptrace(struct obs *t, const char *key, int req, pid_t pid, void *addr, void *data)
{
	long rc;

	errno = 0;
	rc = ptrace((enum __ptrace_request)req, pid, addr, data);
	/* PEEK requests may return -1 as data; none of ours do. */
	if (key)
		obs_result(t, key, rc, errno);
	return rc;
}

int lab_tracer_wait(struct obs *t, pid_t pid, int *status)
{
	if (g_waitpid(pid, status, __WALL, wait_limit_ms) < 0) {
		obs_str(t, "tracer", errno == ETIMEDOUT ? "wait-timeout" : errno_name(errno));
		return -1;
	}
	return 0;
}

int lab_tracer_attach(struct lab *L, struct obs *t)
{
	pid_t c = lab_traced(L);
	int st, want_event = 0;

	switch (L->v.v[AX_ATTACH]) {
	case ATTACH_SEIZE:
		if (lab_tracer_ptrace(t, "attach", PTRACE_SEIZE, c, NULL, NULL) < 0)
			return -1;
		if (lab_tracer_ptrace(t, "interrupt", PTRACE_INTERRUPT, c, NULL, NULL) < 0)
			return -1;
		want_event = 1;
		break;
	case ATTACH_TRACEME:
		obs_str(t, "attach", "traceme"); /* C did it; it stops with SIGSTOP */
		break;
	default:
		if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, c, NULL, NULL) < 0)
			return -1;
		break;
	}
	if (lab_tracer_stop(t, c, "attach_stop", &st) < 0)
		return -1;
	if (!WIFSTOPPED(st))
		return -1;
	if (want_event ? (st >> 16) != PTRACE_EVENT_STOP : WSTOPSIG(st) != SIGSTOP || (st >> 16))
		return -1;
	return 0;
}

int lab_tracer_stop(struct obs *t, pid_t pid, const char *key, int *status)
{
	char d[64], k[OBS_KEY_MAX];
	unsigned long msg = 0;
	siginfo_t si;
	int ev;

	if (lab_tracer_wait(t, pid, status) < 0)
		return -1;
	describe_wstatus(*status, d, sizeof(d));
	obs_str(t, key, d);
	snprintf(k, sizeof(k), "%s_status", key);
	obs_strf(t, k, "0x%x", (unsigned)*status >> 8);
	if (!WIFSTOPPED(*status))
		return 0;
	snprintf(k, sizeof(k), "%s_si", key);
	memset(&si, 0, sizeof(si));
	errno = 0;
	if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0)
		obs_str(t, k, errno_name(errno));
	else
		obs_strf(t, k, "%s/%s/%s", sig_name(si.si_signo),
			 si_code_name(si.si_signo, si.si_code),
			 si.si_code <= 0 || si.si_signo == SIGCHLD ? role_of(si.si_pid) : "-");
	ev = (unsigned)*status >> 16;
	if (!ev || ev == PTRACE_EVENT_STOP)
		return 0;
	snprintf(k, sizeof(k), "%s_msg", key);
	errno = 0;
	if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) < 0) {
		obs_str(t, k, errno_name(errno));
	} else if (ev == PTRACE_EVENT_EXIT) {
		describe_wstatus((int)msg, d, sizeof(d));
		obs_str(t, k, d);
	} else if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK ||
		   ev == PTRACE_EVENT_CLONE || ev == PTRACE_EVENT_EXEC) {
		obs_strf(t, k, "pid:%s", role_of((pid_t)msg));
	} else {
		obs_strf(t, k, "%lu", msg);
	}
	return 0;
}

int lab_tracer_cont_to_stop(struct lab *L, struct obs *t, int *status)
{
	pid_t c = lab_traced(L);

	lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, NULL);
	lab_tracer_go(L);
	return lab_tracer_stop(t, c, "stop", status);
}

void lab_tracer_go(struct lab *L)
{
	lab_go(L);
}

void lab_tracer_note(struct lab *L)
{
	char b = 'n';

	if (write_all(L->rp[1], &b, 1) < 0)
		return;
}

int lab_tracer_wait_reply(struct lab *L, struct obs *t)
{
	char b;

	if (g_read(L->pr[0], &b, 1, wait_limit_ms) != 1) {
		obs_str(t, "tracer", "no-reply");
		return -1;
	}
	return 0;
}

int lab_tracer_attach_all(struct lab *L, struct obs *t)
{
	char stops[LAB_MAX_THREADS][64], out[OBS_VAL_MAX];
	const char *sp[LAB_MAX_THREADS] = { 0 };
	int i, n = L->sh->nthreads, st, rc = 0;
	const char *first = "0";

	if (n < 1)
		n = 1;
	if (n > LAB_MAX_THREADS)
		n = LAB_MAX_THREADS;
	for (i = 0; i < n; i++) {
		errno = 0;
		if (ptrace(PTRACE_ATTACH, L->sh->tid[i] ? L->sh->tid[i] : L->c, NULL, NULL) < 0) {
			if (!strcmp(first, "0"))
				first = errno_name(errno);
			rc = -1;
		}
	}
	obs_str(t, "attach", first);
	if (rc < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (lab_tracer_wait(t, L->sh->tid[i] ? L->sh->tid[i] : L->c, &st) < 0)
			return -1;
		describe_wstatus(st, stops[i], sizeof(stops[i]));
		sp[i] = stops[i];
		if (!WIFSTOPPED(st))
			rc = -1;
	}
	lab_tally(sp, n, out, sizeof(out));
	obs_str(t, "attach_stops", out);
	return rc;
}

int lab_counter_next(const char *path, long *n)
{
	char buf[32] = "";
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ssize_t len;

	*n = 0;
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	if (len > 0)
		sscanf(buf, "%ld", n);
	len = snprintf(buf, sizeof(buf), "%ld\n", *n + 1);
	if (pwrite(fd, buf, (size_t)len, 0) != len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
