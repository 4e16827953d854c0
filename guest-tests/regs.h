/* SPDX-License-Identifier: MIT */
#ifndef KFARM_REGS_H
#define KFARM_REGS_H

/*
 * The regs family's helpers (memory, registers, user area, syscall restart).
 *
 * C, R and P are forked from one process without an exec, so a global of
 * this program has the same address in C as in R: R peeks and pokes C's
 * copy at &global. What C itself saw after R acted goes into the "C obs"
 * (struct regs_ctx.c, in shared memory), which regs_run() merges into the
 * repetition's observation once the lab is done.
 */

#include <sys/types.h>
#include <sys/user.h>

#include "lab.h"

/* Words with a recognisable pattern: what C starts with, what R writes. */
#define REGS_MAGIC_A 0x4b4641524d2d4131UL /* "KFARM-A1" */
#define REGS_MAGIC_B 0x4b4641524d2d4232UL /* "KFARM-B2" */
#define REGS_MARK 0x4b46UL                /* a syscall return value R makes up */

/* A non-canonical x86-64 address: above TASK_SIZE_MAX, never mapped. */
#define REGS_BAD_ADDR 0xffff800000000000UL

/*
 * The kernel's struct user (arch/x86/include/asm/user_64.h) ends with two
 * words glibc's <sys/user.h> lacks (error_code, fault_address): the user
 * area PEEKUSER accepts is 16 bytes longer than glibc's sizeof.
 */
#define REGS_USER_SIZE (sizeof(struct user) + 2 * sizeof(unsigned long))

struct regs_ctx {
	const void *arg;        /* the scenario's own argument */
	struct obs *c;          /* what C saw (shared) */
	volatile unsigned long raw[8]; /* raw values C hands R (shared) */
};

/**
 * regs_run() - lab_run_spec() of @s with a fresh struct regs_ctx as the
 * spec's arg (@arg inside it), then C's observation merged into @o.
 */
int regs_run(struct obs *o, const struct variant *v, struct lab_spec *s, const void *arg);

/**
 * regs_rval_name() - a syscall's raw return value as a canonical word: "0",
 * "-ENOSYS", "-ERESTARTSYS" (the kernel-internal 512..516 by name), a
 * small positive number, "0x4b46" for REGS_MARK; anything else "other".
 */
const char *regs_rval_name(long rval);
/** regs_errno_name() - errno_name() that also names the kernel-internal 512..516. */
const char *regs_errno_name(int err);
/** regs_sys_name() - a syscall number of the few we use by name ("read", "getpid", ...), else the number. */
const char *regs_sys_name(long nr);

/**
 * regs_syscall_to() - resume @pid with PTRACE_SYSCALL (it must be at a stop,
 * PTRACE_O_TRACESYSGOOD set) until it is in the syscall-entry (@exit 0) or
 * syscall-exit (@exit 1) stop of syscall @nr. The syscalls whose stops it
 * passes are appended to @seen (if not NULL, "read,getpid"). 0, or -1 with
 * "walk" recorded in @t (the unexpected stop).
 */
int regs_syscall_to(struct obs *t, pid_t pid, long nr, int exit, char *seen, size_t n);

/** regs_match() - "match" if @a == @b, else "differs". */
const char *regs_match(unsigned long a, unsigned long b);

#endif
