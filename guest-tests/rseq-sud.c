// SPDX-License-Identifier: MIT
/*
 * rseq-config - PTRACE_GET_RSEQ_CONFIGURATION.
 * Set-up: C notes where glibc registered its rseq area (thread pointer +
 * __rseq_offset, and __rseq_size; glibc >= 2.35 registers one per thread);
 * R attaches.
 * Action: GET_RSEQ_CONFIGURATION with addr = 24 (the struct's size), then
 * with addr = 8 (a short buffer); detach.
 * Observes: the return value (the struct's size), whether rseq_abi_pointer is
 * C's area, rseq_abi_size, the signature glibc registered (RSEQ_SIG
 * 0x53053053 on x86) and flags; a short buffer gets only its 8 bytes and the
 * same return value.
 * Documented: ptrace(2) PTRACE_GET_RSEQ_CONFIGURATION (since 5.13);
 * kernel/ptrace.c ptrace_get_rseq_configuration() (copies min(size,
 * sizeof(conf)), returns sizeof(conf)); needs CONFIG_RSEQ.
 * Expected on 6.x: rseq_config 24, rseq_abi_pointer match, rseq_abi_size 32,
 * rseq_signature 0x53053053, rseq_flags 0, short 24 with 8 bytes written.
 *
 * sud-config - PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG (since 6.4).
 * Set-up: C has a SIGSYS handler that sets its selector byte back to ALLOW;
 * R attaches.
 * Action: GET (mode off); SET with mode 5 (EINVAL); GET with size 16
 * (EINVAL); SET {PR_SYS_DISPATCH_ON, &selector, region, 16}; GET again;
 * detach. C then sets its selector to BLOCK and calls getpid (outside the
 * region).
 * Observes: the round trip (the GET returns what was SET), the errors, and
 * that the configuration R set works: C gets SIGSYS with si_code
 * SYS_USER_DISPATCH (2) for getpid. On a kernel without the requests (6.1):
 * EIO, the cell is "unsupported".
 * Documented: ptrace(2) PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG,
 * PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG (addr = sizeof(struct
 * ptrace_sud_config), else EINVAL); kernel/entry/syscall_user_dispatch.c;
 * Documentation/admin-guide/syscall-user-dispatch.rst. Needs
 * CONFIG_GENERIC_ENTRY (x86 has it).
 * Expected on 6.12+: sud_get_initial mode:0, set_bad_mode EINVAL,
 * get_bad_size EINVAL, sud_set 0, sud_get match, sud_sigsys
 * SIGSYS/2/getpid, exited:0; on 6.1 unsupported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"
#include "signals.h"

#define REQ_GET_RSEQ_CONFIGURATION 0x420f
#define REQ_SET_SUD_CONFIG 0x4210
#define REQ_GET_SUD_CONFIG 0x4211

struct rseq_conf { /* struct ptrace_rseq_configuration */
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

struct sud_conf { /* struct ptrace_sud_config */
	uint64_t mode, selector, offset, len;
};

/* ---- rseq ---- */

static void rseq_tracee(struct lab *L, void *arg)
{
	struct sigs_shm *s = arg;

	s->vals[0] = __rseq_size ? (long)((uintptr_t)__builtin_thread_pointer() + __rseq_offset) : 0;
	s->vals[1] = (long)__rseq_size;
	lab_tracee_go_exit(L, NULL);
}

static void rseq_tracer(struct lab *L, struct obs *t, void *arg)
{
	struct sigs_shm *s = arg;
	struct rseq_conf conf;
	long rc;

	if (lab_tracer_attach(L, t) < 0)
		return;
	obs_str(t, "c_rseq_registered", s->vals[1] ? "yes" : "no");
	memset(&conf, 0, sizeof(conf));
	errno = 0;
	rc = ptrace(REQ_GET_RSEQ_CONFIGURATION, L->c, (void *)sizeof(conf), &conf);
	if (rc < 0) {
		obs_str(t, "rseq_config", errno_name(errno));
		if (errno == EIO)
			obs_str(t, "unsupported",
				"PTRACE_GET_RSEQ_CONFIGURATION: EIO, the kernel predates 5.13");
	} else {
		obs_strf(t, "rseq_config", "%ld", rc);
		obs_str(t, "rseq_abi_pointer",
			!conf.rseq_abi_pointer ? "0" :
			conf.rseq_abi_pointer == (uint64_t)s->vals[0] ? "match" : "differs");
		obs_strf(t, "rseq_abi_size", "%u", conf.rseq_abi_size);
		obs_strf(t, "rseq_signature", "0x%08x", conf.signature);
		obs_strf(t, "rseq_flags", "%u", conf.flags);
		memset(&conf, 0xff, sizeof(conf));
		errno = 0;
		rc = ptrace(REQ_GET_RSEQ_CONFIGURATION, L->c, (void *)8, &conf);
		if (rc < 0)
			obs_str(t, "rseq_config_short", errno_name(errno));
		else
			obs_strf(t, "rseq_config_short", "%ld", rc);
		obs_str(t, "rseq_config_short_copy",
			conf.rseq_abi_size == 0xffffffffu ? "8-bytes" : "more");
	}
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
	lab_tracer_go(L);
}

static int rseq_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct sigs_shm *s = sigs_shm_new();
	const struct lab_spec sp = {
		.tracee = rseq_tracee, .tracer = rseq_tracer, .arg = s, .may_be_unsupported = 1,
	};
	int rc;

	(void)arg;
	if (!s) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	rc = lab_run_spec(o, v, &sp);
	sigs_shm_free(s);
	return rc;
}

const struct scenario scenario_rseq_config = {
	.id = "rseq-config",
	.group = "signals-steps",
	.desc = "PTRACE_GET_RSEQ_CONFIGURATION: glibc's rseq area, size, signature; a short buffer",
	.run = rseq_run,
	.expect = "24, pointer match, size 32, signature 0x53053053, flags 0; short buffer: 24, 8 bytes.",
	.expect_obs = "c_rseq_registered=yes;rseq_config=24;rseq_abi_pointer=match;rseq_abi_size=32;"
		      "rseq_signature=0x53053053;rseq_flags=0;rseq_config_short=24;"
		      "rseq_config_short_copy=8-bytes;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

/* ---- syscall user dispatch ---- */

static volatile char sud_selector; /* SYSCALL_DISPATCH_FILTER_ALLOW (0) / BLOCK (1) */
static struct sigs_shm *sud_shm;

static void sud_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	sud_selector = 0; /* let the handler's rt_sigreturn through */
	sud_shm->handler_runs++;
	sud_shm->h_signo = sig;
	sud_shm->h_code = si->si_code;
	sud_shm->h_syscall = si->si_syscall;
}

static void sud_tracee(struct lab *L, void *arg)
{
	struct sigs_shm *s = arg;
	struct sigaction sa;

	sud_shm = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sud_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	if (s->vals[2]) {
		sud_selector = 1;
		syscall(SYS_getpid);
		sud_selector = 0;
	}
	_exit(0);
}

static void sud_tracer(struct lab *L, struct obs *t, void *arg)
{
	struct sigs_shm *s = arg;
	struct sud_conf set, got;
	long rc;

	if (lab_tracer_attach(L, t) < 0)
		return;
	memset(&got, 0xff, sizeof(got));
	errno = 0;
	rc = ptrace(REQ_GET_SUD_CONFIG, L->c, (void *)sizeof(got), &got);
	if (rc < 0) {
		obs_str(t, "sud_get_initial", errno_name(errno));
		if (errno == EIO)
			obs_str(t, "unsupported",
				"PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG: EIO, the kernel predates 6.4");
		goto out;
	}
	obs_strf(t, "sud_get_initial", "mode:%llu", (unsigned long long)got.mode);
	set = (struct sud_conf){ .mode = 5 };
	lab_tracer_ptrace(t, "sud_set_bad_mode", REQ_SET_SUD_CONFIG, L->c, (void *)sizeof(set), &set);
	lab_tracer_ptrace(t, "sud_get_bad_size", REQ_GET_SUD_CONFIG, L->c, (void *)16, &got);
	set = (struct sud_conf){
		.mode = 1, /* PR_SYS_DISPATCH_ON */
		.selector = (uint64_t)(uintptr_t)&sud_selector,
		.offset = (uint64_t)(uintptr_t)sigs_code_step,
		.len = 16,
	};
	if (lab_tracer_ptrace(t, "sud_set", REQ_SET_SUD_CONFIG, L->c, (void *)sizeof(set), &set) < 0)
		goto out;
	memset(&got, 0, sizeof(got));
	if (lab_tracer_ptrace(t, NULL, REQ_GET_SUD_CONFIG, L->c, (void *)sizeof(got), &got) < 0)
		obs_str(t, "sud_get", errno_name(errno));
	else
		obs_str(t, "sud_get", memcmp(&got, &set, sizeof(set)) ? "differs" : "match");
	s->vals[2] = 1;
out:
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
	lab_tracer_go(L);
}

static int sud_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct sigs_shm *s = sigs_shm_new();
	const struct lab_spec sp = {
		.tracee = sud_tracee, .tracer = sud_tracer, .arg = s, .may_be_unsupported = 1,
	};
	int rc;

	(void)arg;
	if (!s) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	rc = lab_run_spec(o, v, &sp);
	if (s->handler_runs)
		obs_strf(o, "sud_sigsys", "%s/%d/%s", sig_name(s->h_signo), s->h_code,
			 s->h_syscall == SYS_getpid ? "getpid" : "other");
	else
		obs_str(o, "sud_sigsys", "none");
	sigs_shm_free(s);
	return rc;
}

const struct scenario scenario_sud_config = {
	.id = "sud-config",
	.group = "signals-steps",
	.desc = "syscall user dispatch set/get by the tracer (6.4+): round trip, errors, SIGSYS in C",
	.run = sud_run,
	.expect = "initial mode:0; bad mode / size EINVAL; set 0, get match; C gets SIGSYS/2/getpid.",
	.expect_obs = "sud_get_initial=mode:0;sud_set_bad_mode=EINVAL;sud_get_bad_size=EINVAL;"
		      "sud_set=0;sud_get=match;sud_sigsys=SIGSYS/2/getpid;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};
