/* SPDX-License-Identifier: MIT */
#ifndef KFARM_LIFECYCLE_H
#define KFARM_LIFECYCLE_H

/*
 * A guest's life as a state x event table, in the spirit of s6-supervise:
 * every transition is a row of lifecycle.c's table, each state has one
 * deadline, and what a finished guest amounts to is a pure function of what
 * was seen (lifecycle_outcome()). run.c feeds events and does what the row
 * says.
 *
 *   PENDING -start-> BOOTING -hello-> RUNNING -end-> ENDING -gone-> DONE
 *   BOOTING/RUNNING/ENDING -deadline/interrupt/canary-> KILLING -gone-> DONE
 *   PENDING -start-failed-> DONE
 */
#include <stddef.h>

enum lc_state { LC_PENDING, LC_BOOTING, LC_RUNNING, LC_ENDING, LC_KILLING, LC_DONE,
		LC_NSTATES };

enum lc_event {
	LC_START,		/* the backend started the VM */
	LC_START_FAILED,	/* it could not */
	LC_HELLO,		/* the guest's first record */
	LC_RECORD,		/* a record after it: progress */
	LC_END,			/* the guest's last record: it powers off next */
	LC_DEADLINE,		/* the state's deadline passed */
	LC_INTERRUPT,		/* kfarm got SIGINT/SIGTERM/SIGHUP */
	LC_CANARY_DONE,		/* the KVM canary said hello: enough */
	LC_GONE,		/* the VM exited and every stream reached EOF */
	LC_NEVENTS
};

/* Which deadline a state runs under. */
enum lc_deadline {
	LC_DL_NONE,		/* none (PENDING, DONE; KILLING: the backend escalates) */
	LC_DL_BOOT,		/* config boot_timeout_s from the start */
	LC_DL_PROGRESS,		/* the longest cell's reps x timeout_ms + slack, from each record */
	LC_DL_POWEROFF,		/* a grace period from the last record */
};

/* Why a guest was stopped (LC_KILL_NONE: it was not). */
enum lc_kill {
	LC_KILL_NONE,
	LC_KILL_BOOT,		/* no sign of life within the boot deadline */
	LC_KILL_PROGRESS,	/* no progress before the cell's deadline */
	LC_KILL_POWEROFF,	/* it did not power off after its last record */
	LC_KILL_INTERRUPTED,
	LC_KILL_CANARY,
	LC_KILL_START_FAILED,	/* never ran: the backend could not start it */
};

/*
 * struct lc_row - one transition: in @from, @event leads to @to; @kill, when
 * set, is why the guest is stopped on the way (the backend's stop is called).
 */
struct lc_row {
	enum lc_state from;
	enum lc_event event;
	enum lc_state to;
	enum lc_kill kill;
};

/** lifecycle_step() - the row for @event in @from, or NULL: the event changes nothing there. */
const struct lc_row *lifecycle_step(enum lc_state from, enum lc_event event);

/** lifecycle_deadline() - the deadline @s runs under. */
enum lc_deadline lifecycle_deadline(enum lc_state s);

/** lifecycle_live() - whether a guest in @s has a VM (started, not yet done). */
int lifecycle_live(enum lc_state s);

/** lifecycle_state_name() - "booting", ... for logs and tests. */
const char *lifecycle_state_name(enum lc_state s);

/*
 * struct lc_seen - what a finished guest's outcome depends on.
 * @complete: the results channel ended with every record in order
 * @hello: the guest said hello
 * @panicked: the console showed a kernel panic
 * @kill: why kfarm stopped it, if it did
 * @exited_ok: the VM process exited with status 0
 * @has_diag: the backend said something on its own stream
 */
struct lc_seen {
	int complete;
	int hello;
	int panicked;
	enum lc_kill kill;
	int exited_ok;
	int has_diag;
};

/*
 * The cell and guest statuses an outcome gives (report.c's names), and which
 * message explains it; run.c formats the message with the details (times,
 * the backend's name and its last words).
 */
enum lc_why {
	LC_WHY_NONE,		/* ok */
	LC_WHY_KILL,		/* the kill reason's text */
	LC_WHY_RESET,		/* the guest reset or powered off before it reported */
	LC_WHY_VM_EXIT,		/* the VM exited (how, and its last words) before the guest reported */
	LC_WHY_PANIC,		/* a kernel panic */
	LC_WHY_SILENT,		/* the guest stopped reporting */
};

struct lc_outcome {
	const char *status;
	enum lc_why why;
	int vm_abnormal;	/* add "(the VM exited abnormally)" */
};

/** lifecycle_outcome() - what a guest that saw @s amounts to. */
struct lc_outcome lifecycle_outcome(const struct lc_seen *s);

#endif
