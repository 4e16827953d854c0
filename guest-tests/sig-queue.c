// SPDX-License-Identifier: MIT
/*
 * peeksiginfo - PTRACE_PEEKSIGINFO of C's private and shared queues.
 * Set-up: C blocks SIGUSR1, SIGUSR2 and SIGRTMIN+6 (signal 40), then queues
 * privately SIGUSR1 (tgkill) and signal 40 twice (rt_tgsigqueueinfo,
 * SI_QUEUE), and to the whole process SIGUSR2 (kill) and signal 40
 * (rt_sigqueueinfo, SI_QUEUE); R attaches (the attach SIGSTOP is consumed by
 * its stop).
 * Action: PEEKSIGINFO {off 0, nr 8, flags 0}, {0, 8, SHARED}, {1, 1, 0};
 * then the documented errors: flags 2 (EINVAL), nr -1 (EINVAL), nr 0 (0
 * entries), off 100 (0 entries), a bad buffer (EFAULT); detach with 0.
 * Observes: the count each call returns and each siginfo as
 * SIGNAL/CODE/PID-ROLE, in queue order (FIFO); the queues are left intact
 * (blocked signals stay pending; C exits 0 without running them).
 * Documented: ptrace(2) PTRACE_PEEKSIGINFO ("retrieve siginfo_t structures
 * without removing signals from a queue", PTRACE_PEEKSIGINFO_SHARED; EINVAL
 * for an invalid flag); kernel/ptrace.c ptrace_peek_siginfo() (nr < 0
 * EINVAL, nr 0 or an offset past the end return 0, EFAULT on the buffer).
 * Expected on 6.x: peek_private 3 SIGUSR1/SI_TKILL/self,SIG40/SI_QUEUE/self*2;
 * peek_shared 2 SIGUSR2/SI_USER/self,SIG40/SI_QUEUE/self; peek_off1
 * SIG40/SI_QUEUE/self; errors EINVAL, EINVAL, 0, 0, EFAULT; exited:0.
 *
 * sigmask - PTRACE_GETSIGMASK / PTRACE_SETSIGMASK.
 * Set-up: C installs a SIGUSR1 handler, blocks SIGUSR1 and sends it to
 * itself (pending); R attaches.
 * Action: GETSIGMASK (size 8); GETSIGMASK and SETSIGMASK with size 4
 * (EINVAL); SETSIGMASK {SIGUSR2, SIGKILL, SIGSTOP}; GETSIGMASK again;
 * detach with 0; C, resumed, reads its own mask.
 * Observes: the mask R reads, that SIGKILL and SIGSTOP are silently left
 * out, that the pending SIGUSR1 is delivered once the new mask unblocks it,
 * and the mask C sees.
 * Documented: ptrace(2) PTRACE_GETSIGMASK, PTRACE_SETSIGMASK ("addr
 * contains the size of the buffer pointed to by data, i.e.,
 * sizeof(sigset_t)"); kernel/ptrace.c (size != sizeof(sigset_t): EINVAL;
 * sigdelsetmask(SIGKILL|SIGSTOP)).
 * Expected on 6.x: getsigmask SIGUSR1, size errors EINVAL, after set
 * SIGUSR2, handler ran (SI_TKILL), c_mask SIGUSR2, exited:0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"
#include "signals.h"

#define RTSIG 40

struct peek_args { /* struct ptrace_peeksiginfo_args */
	unsigned long long off;
	unsigned int flags;
	int nr;
};

#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

static void queue_rt(int tgid, int tid, int shared)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = RTSIG;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	if (shared)
		syscall(SYS_rt_sigqueueinfo, tgid, RTSIG, &si);
	else
		syscall(SYS_rt_tgsigqueueinfo, tgid, tid, RTSIG, &si);
}

static void peek_tracee(struct lab *L, void *arg)
{
	pid_t me = getpid(), tid = (pid_t)syscall(SYS_gettid);
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, RTSIG);
	sigprocmask(SIG_BLOCK, &set, NULL);
	lab_tracee_tkill(SIGUSR1);
	queue_rt(me, tid, 0);
	queue_rt(me, tid, 0);
	kill(me, SIGUSR2);
	queue_rt(me, tid, 1);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	_exit(0);
}

/* One PEEKSIGINFO: "@key" the count (or errno), "@key_si" the entries. */
static void peek(struct obs *t, pid_t c, const char *key, unsigned long long off, unsigned flags,
		 int nr, int badbuf)
{
	siginfo_t si[8];
	struct peek_args pa = { .off = off, .flags = flags, .nr = nr };
	char list[OBS_VAL_MAX] = "", item[64], k[OBS_KEY_MAX];
	long rc;

	memset(si, 0, sizeof(si));
	errno = 0;
	rc = ptrace(PTRACE_PEEKSIGINFO, c, &pa, badbuf ? (void *)8 : (void *)si);
	if (rc < 0) {
		obs_str(t, key, errno_name(errno));
		return;
	}
	obs_strf(t, key, "%ld", rc);
	if (rc == 0)
		return;
	for (long i = 0; i < rc && i < 8; i++) {
		snprintf(item, sizeof(item), "%s/%s/%s", sig_name(si[i].si_signo),
			 si_code_name(si[i].si_signo, si[i].si_code), role_of(si[i].si_pid));
		sigs_append(list, sizeof(list), item);
	}
	snprintf(k, sizeof(k), "%s_si", key);
	obs_str(t, k, list);
}

static void peek_tracer(struct lab *L, struct obs *t, void *arg)
{
	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	peek(t, L->c, "peek_private", 0, 0, 8, 0);
	peek(t, L->c, "peek_shared", 0, PTRACE_PEEKSIGINFO_SHARED, 8, 0);
	peek(t, L->c, "peek_off1", 1, 0, 1, 0);
	peek(t, L->c, "peek_bad_flags", 0, 2, 8, 0);
	peek(t, L->c, "peek_nr_negative", 0, 0, -1, 0);
	peek(t, L->c, "peek_nr_zero", 0, 0, 0, 0);
	peek(t, L->c, "peek_off_past_end", 100, 0, 8, 0);
	peek(t, L->c, "peek_bad_buffer", 0, 0, 1, 1);
	/* Peeking took nothing away. */
	peek(t, L->c, "peek_again", 0, 0, 8, 0);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
	lab_tracer_go(L);
}

static int peek_run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, peek_tracee, peek_tracer, NULL);
}

const struct scenario scenario_peeksiginfo = {
	.id = "peeksiginfo",
	.group = "signals-steps",
	.desc = "PTRACE_PEEKSIGINFO of queued private and shared signals, offsets and errors",
	.run = peek_run,
	.expect = "private 3 (SIGUSR1 SI_TKILL, SIG40 SI_QUEUE x2), shared 2 (SIGUSR2 SI_USER, "
		  "SIG40 SI_QUEUE); bad flags / nr<0 EINVAL, nr 0 / off past end 0, bad buffer EFAULT.",
	.expect_obs = "peek_private=3;peek_private_si=SIGUSR1/SI_TKILL/self,SIG40/SI_QUEUE/self,"
		      "SIG40/SI_QUEUE/self;peek_shared=2;peek_shared_si=SIGUSR2/SI_USER/self,"
		      "SIG40/SI_QUEUE/self;peek_off1=1;peek_off1_si=SIG40/SI_QUEUE/self;"
		      "peek_bad_flags=EINVAL;peek_nr_negative=EINVAL;peek_nr_zero=0;"
		      "peek_off_past_end=0;peek_bad_buffer=EFAULT;peek_again=3;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

/* ---- sigmask ---- */

static void mask_tracee(struct lab *L, void *arg)
{
	struct sigs_shm *s = (struct sigs_shm *)arg;
	sigset_t set, cur;
	char hex[32];
	unsigned long long bits = 0;

	sigs_install(SIGUSR1, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	lab_tracee_tkill(SIGUSR1);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (int sig = 1; sig < 64; sig++)
		if (sigismember(&cur, sig) == 1)
			bits |= 1ULL << (sig - 1);
	snprintf(hex, sizeof(hex), "%016llx", bits);
	sigmask_names(hex, s->text[0], sizeof(s->text[0]));
	_exit(0);
}

static void getmask(struct obs *t, pid_t c, const char *key, size_t size)
{
	unsigned long long m = 0;
	char hex[32], names[OBS_VAL_MAX];

	errno = 0;
	if (ptrace(PTRACE_GETSIGMASK, c, (void *)size, &m) < 0) {
		obs_str(t, key, errno_name(errno));
		return;
	}
	snprintf(hex, sizeof(hex), "%016llx", m);
	sigmask_names(hex, names, sizeof(names));
	obs_str(t, key, names);
}

static void mask_tracer(struct lab *L, struct obs *t, void *arg)
{
	unsigned long long m;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	getmask(t, L->c, "getsigmask", 8);
	getmask(t, L->c, "getsigmask_size4", 4);
	m = (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));
	lab_tracer_ptrace(t, "setsigmask_size4", PTRACE_SETSIGMASK, L->c, (void *)4, &m);
	lab_tracer_ptrace(t, "setsigmask", PTRACE_SETSIGMASK, L->c, (void *)8, &m);
	getmask(t, L->c, "getsigmask_after", 8);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
	lab_tracer_go(L);
}

static int mask_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct sigs_shm *s = sigs_shm_new();
	int rc;

	(void)arg;
	if (!s) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	snprintf(s->text[0], sizeof(s->text[0]), "unknown");
	rc = lab_run(o, v, mask_tracee, mask_tracer, s);
	obs_str(o, "c_mask", s->text[0]);
	obs_strf(o, "handler_runs", "%d", s->handler_runs);
	obs_str(o, "handler_si_code", s->handler_runs ? si_code_name(SIGUSR1, s->h_code) : "-");
	sigs_shm_free(s);
	return rc;
}

const struct scenario scenario_sigmask = {
	.id = "sigmask",
	.group = "signals-steps",
	.desc = "PTRACE_GETSIGMASK/SETSIGMASK: read, size errors, set (SIGKILL/SIGSTOP dropped), C's view",
	.run = mask_run,
	.expect = "getsigmask SIGUSR1; size 4 EINVAL; after set SIGUSR2; pending SIGUSR1 delivered; "
		  "c_mask SIGUSR2.",
	.expect_obs = "getsigmask=SIGUSR1;getsigmask_size4=EINVAL;setsigmask_size4=EINVAL;"
		      "setsigmask=0;getsigmask_after=SIGUSR2;handler_runs=1;handler_si_code=SI_TKILL;"
		      "c_mask=SIGUSR2;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};
