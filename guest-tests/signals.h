/* SPDX-License-Identifier: MIT */
#ifndef KFARM_SIGNALS_H
#define KFARM_SIGNALS_H

/*
 * The signals family's helpers (group "signals-steps"): a block of shared
 * memory for what C reports about itself, x86-64 code with known labels for
 * the stepping scenarios (asm in signals.c), and the tracer's view of where a
 * stop left C ("rip" as a label name, never an address).
 */

#include <sys/types.h>

#include "guest.h"

/* What C tells P about itself (MAP_SHARED, made before C is forked). */
struct sigs_shm {
	volatile int handler_runs;   /* sigs_handler() calls */
	volatile int h_code, h_syscall, h_signo; /* the last handler call */
	volatile long vals[8];       /* scenario-defined results */
	char text[8][OBS_VAL_MAX];   /* scenario-defined descriptions */
	int pipe_rd, pipe_wr;        /* a pipe made before the fork (or -1) */
};

/**
 * sigs_shm_new() - zeroed shared memory with a fresh non-blocking pipe, and
 * the one sigs_handler() records into (C inherits it); NULL on failure.
 */
struct sigs_shm *sigs_shm_new(void);
void sigs_shm_free(struct sigs_shm *s);

/**
 * sigs_handler() - an SA_SIGINFO handler that counts its calls and keeps
 * the last siginfo's signo/code/syscall in the shm; its address is where a
 * step into it must stop.
 */
void sigs_handler(int sig, siginfo_t *si, void *uc);
/** sigs_install() - sigaction(@sig, sigs_handler, SA_SIGINFO | @flags); 0 or -1. */
int sigs_install(int sig, int flags);

/*
 * The stepping code (x86-64 asm, see signals.c):
 *
 * sigs_code_step: int3; a: nop; b: nop; c: jmp e; d: ud2; e: nop; f: ret
 * sigs_code_sysemu: int3; a: nop; b: mov $__NR_getpid,%eax; c: syscall; d: nop; e: ret
 *   (returns what the syscall left in rax)
 * sigs_code_fork: int3; a: mov $__NR_fork,%eax; b: syscall; c: test %eax,%eax;
 *   d: jz child; e: ret ... child: exit(22) by a raw syscall
 * sigs_ret_handler: ret (an asm signal handler); sigs_restorer: mov
 *   $__NR_rt_sigreturn,%eax; sigs_restorer_sc: syscall
 */
void sigs_code_step(void);
long sigs_code_sysemu(void);
long sigs_code_fork(void);

/** sigs_label() - the name of the label at @ip ("step.a", "handler", ...), else "other". */
const char *sigs_label(unsigned long ip);
/** sigs_label_add() - name one more address (e.g. an interrupted ip) for sigs_label(). */
void sigs_label_add(const char *name, unsigned long ip);

/** sigs_install_asm_handler() - raw rt_sigaction(@sig) to sigs_ret_handler with
 * SA_SIGINFO | SA_RESTORER = sigs_restorer; 0 or -1. */
int sigs_install_asm_handler(int sig);

/**
 * sigs_regs() - PTRACE_GETREGS of @pid into @regs (a struct user_regs_struct);
 * 0, or -1 with "@key" recorded as the errno name.
 */
int sigs_regs(struct obs *t, const char *key, pid_t pid, void *regs);

/**
 * sigs_stop_here() - after a stop of @pid: "LABEL:SI_CODE" (the label of rip,
 * the stop's si_code by name, or "syscall" for a syscall stop) into @out.
 * Returns rip (0 if unknown).
 */
unsigned long sigs_stop_here(pid_t pid, int status, char *out, size_t n);

/** sigs_append() - append ",@item" (or @item to an empty list) to @list. */
void sigs_append(char *list, size_t n, const char *item);

#endif
