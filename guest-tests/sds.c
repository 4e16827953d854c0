// SPDX-License-Identifier: MIT
/*
 * sds.c - the shared flow of the signal-delivery-stop scenarios (sds-*.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "sds.h"

/* C's part, in the traced thread (the threads axis says which). */
static void sds_body(struct lab *L, const struct sds_spec *spec)
{
	sigset_t set;
	int i;

	sigemptyset(&set);
	for (i = 0; i < 4 && spec->block[i]; i++)
		sigaddset(&set, spec->block[i]);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	if (spec->prepare)
		spec->prepare();
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	lab_tracee_tkill(spec->stop_sig);
	if (spec->unblock_after) {
		sigemptyset(&set);
		pthread_sigmask(SIG_SETMASK, &set, NULL);
	}
	_exit(0);
}

static const struct sds_spec *thread_spec;

static void sds_thread(struct lab *L, int idx)
{
	if (idx == 1)
		sds_body(L, thread_spec);
}

static void sds_tracee(struct lab *L, void *arg)
{
	const struct sds_spec *spec = arg;
	int i;

	for (i = 0; i < 4 && spec->handle[i]; i++)
		lab_tracee_handle(L, spec->handle[i]);
	switch (L->v.v[AX_THREADS]) {
	case THREADS_LEADER:
		lab_tracee_threads(L, 3, NULL);
		sds_body(L, spec);
		break;
	case THREADS_NONLEADER:
		thread_spec = spec;
		lab_tracee_threads(L, 3, sds_thread);
		for (;;)
			pause();
	default:
		sds_body(L, spec);
	}
}

static void sds_tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct sds_spec *spec = arg;
	pid_t c = lab_traced(L);
	int st, sig = spec->detach_sig;
	siginfo_t si;

	if (lab_tracer_attach(L, t) < 0)
		return;
	if (spec->options &&
	    lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, c, NULL,
			      (void *)spec->options) < 0) {
		if (errno == EINVAL)
			obs_str(t, "unsupported", "PTRACE_SETOPTIONS:EINVAL");
		return;
	}
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	if (spec->getsiginfo || spec->setsiginfo) {
		memset(&si, 0, sizeof(si));
		if (lab_tracer_ptrace(t, "getsiginfo", PTRACE_GETSIGINFO, c, NULL, &si) == 0)
			obs_str(t, "stop_si_code", si_code_name(si.si_signo, si.si_code));
	}
	if (spec->setsiginfo) {
		/* Same signal, custom fields: does the handler see them as written? */
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = 0;
		lab_tracer_ptrace(t, "setsiginfo", PTRACE_SETSIGINFO, c, NULL, &si);
	}
	switch (L->v.v[AX_TRACEE]) {
	case TRACEE_KILLED:
		/* C dies in the stop; its exit report comes to R first. */
		obs_result(t, "kill", kill(c, SIGKILL), errno);
		lab_tracer_stop(t, c, "killed_stop", &st);
		break;
	case TRACEE_ZOMBIE: {
		char state[64];

		/* C runs to _exit(0) and stays a traced zombie: R does not wait. */
		lab_tracer_ptrace(t, "cont_to_exit", PTRACE_CONT, c, NULL, NULL);
		procfs_wait_state(c, "zombie|dead|gone", wait_limit_ms, state, sizeof(state));
		obs_str(t, "state_before_end", state);
		break;
	}
	default:
		break;
	}
	if (spec->tracer_exits || L->v.v[AX_END] == END_EXIT)
		return; /* _exit(0): exit_ptrace() lets C go */
	if (L->v.v[AX_END] == END_KILLED)
		kill(getpid(), SIGKILL); /* exit_ptrace() as well, by a fatal signal */
	if (sig == SIGSTOP)
		sig = variant_stop_sig(&L->v);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, (void *)(long)sig);
}

int sds_scenario(struct obs *o, const struct variant *v, const void *arg)
{
	const struct sds_spec *spec = arg;
	const struct lab_spec s = {
		.tracee = sds_tracee, .tracer = sds_tracer, .arg = (void *)spec,
		.handlers = spec->handle[0] != 0, .may_be_unsupported = 1,
	};

	return lab_run_spec(o, v, &s);
}
