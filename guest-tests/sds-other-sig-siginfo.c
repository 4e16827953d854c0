// SPDX-License-Identifier: MIT
/*
 * sds-other-sig-siginfo - the siginfo of a replacement signal given at detach.
 *
 * Set-up: C has SA_SIGINFO handlers for SIGUSR1 and SIGUSR2; it stops in an SDS
 * for SIGUSR1 (tgkill, si_code SI_TKILL) under R.
 * Action: R: PTRACE_DETACH with data SIGUSR2.
 * Observes: the handler's si_signo, si_code, si_pid and si_uid as roles.
 * Documented: kernel/signal.c ptrace_signal(): "Update the siginfo structure if
 * the signal has changed": si_code SI_USER, si_pid/si_uid of current->parent at
 * delivery time (after detach: the real parent P). The 2009 utrace thread
 * (reference/) says it may be the new tracer, the real parent, or 0.
 * Expected on 6.x: handler ran, si_signo SIGUSR2, SI_USER, si_pid parent, si_uid 0.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGUSR2, .handle = { SIGUSR1, SIGUSR2 },
};


const struct scenario scenario_sds_other_sig_siginfo = {
	.id = "sds-other-sig-siginfo",
	.group = "sds",
	.desc = "SDS on SIGUSR1, detach with SIGUSR2 (handlers): rewritten siginfo",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "handler ran, si_signo SIGUSR2, SI_USER, si_pid parent, si_uid 0.",
	.expect_obs = "handler=ran;si_signo=SIGUSR2;si_code=SI_USER;si_pid=parent;si_uid=0",
	.axes = SDS_AXES,
};
