// SPDX-License-Identifier: MIT
/*
 * sds-blocked-new-sig - detach with a signal the tracee blocks: requeued.
 *
 * Set-up: C blocks SIGUSR2 and has SA_SIGINFO handlers for SIGUSR1 and
 * SIGUSR2; it stops in an SDS for SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with data SIGUSR2; C then unblocks everything.
 * Observes: SIGUSR2 reaches the handler after the unblock (not lost), with
 * the rewritten siginfo.
 * Documented: kernel/signal.c ptrace_signal(): "If the (new) signal is now
 * blocked, requeue it" (send_signal to current).
 * Expected on 6.x: handler ran (SIGUSR2, SI_USER, si_pid parent), exited:0.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGUSR2, .handle = { SIGUSR1, SIGUSR2 },
	.block = { SIGUSR2 }, .unblock_after = 1,
};


const struct scenario scenario_sds_blocked_new_sig = {
	.id = "sds-blocked-new-sig",
	.group = "sds",
	.desc = "SDS on SIGUSR1, detach with blocked SIGUSR2, then unblock",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "handler ran (SIGUSR2, SI_USER, si_pid parent), exited:0.",
	.expect_obs = "handler=ran;si_signo=SIGUSR2;si_code=SI_USER;si_pid=parent;tracee=exited:0",
	.axes = SDS_AXES,
};
