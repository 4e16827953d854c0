/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "vm.h"

static int qemu_start(struct vm *vm, const struct vm_params *p, struct kf_error *e)
{
	int con[2] = { -1, -1 }, res[2] = { -1, -1 }, err[2] = { -1, -1 }, fds[5];
	char smp[16], mem[16];
	int single = p->tcg_single && !strcmp(p->accel, "tcg");
	int ret = -1;
	/*
	 * Both serial ports are pipes handed to QEMU as fds 3 and 4 and opened by
	 * path (/dev/fd/N): kfarm reads them live, so a panic or a stalled guest
	 * is seen while it happens, and nothing touches the disk but our logs.
	 */
	const char *argv[] = {
		p->binary, "-accel", single ? "tcg,thread=single" : p->accel, "-M", "pc", "-nodefaults", "-no-user-config",
		"-display", "none", "-no-reboot", "-m", mem, "-smp", smp,
		"-chardev", "file,id=con,path=/dev/fd/3", "-serial", "chardev:con",
		"-chardev", "file,id=res,path=/dev/fd/4", "-serial", "chardev:res",
		"-kernel", p->kernel, "-initrd", p->initrd, "-append", p->append,
		"-bios", "qboot.rom", NULL,
	};

	if (!p->qboot)
		argv[sizeof(argv) / sizeof(argv[0]) - 3] = NULL;
	vm_init(vm);
	vm->accel = p->accel;
	vm->vcpus = p->smp;
	snprintf(smp, sizeof(smp), "%d", p->smp);
	snprintf(mem, sizeof(mem), "%d", p->memory_mb);
	if (pipe2(con, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		error_set(e, p->binary, 0, 0, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	fds[0] = -1;
	fds[1] = err[1];
	fds[2] = err[1];
	fds[3] = con[1];
	fds[4] = res[1];
	if (proc_spawn(&vm->proc, argv, NULL, fds, 5, e) < 0)
		goto cleanup;
	vm_take_streams(vm, &con[0], &res[0], &err[0]);
	ret = 0;
cleanup:
	if (con[0] >= 0) close(con[0]);
	if (res[0] >= 0) close(res[0]);
	if (err[0] >= 0) close(err[0]);
	if (con[1] >= 0) close(con[1]);
	if (res[1] >= 0) close(res[1]);
	if (err[1] >= 0) close(err[1]);
	return ret;
}

static void qemu_stop(struct vm *vm)
{
	proc_kill(&vm->proc, 2000);
}

static int qemu_release(struct vm *vm)
{
	int st = proc_reap(&vm->proc);

	vm_close_streams(vm);
	return st;
}

static char *qemu_version(const char *qemu, struct kf_error *e)
{
	const char *argv[] = { qemu, "--version", NULL };
	char *out = NULL, *v, *end;

	if (proc_run(argv, NULL, 30000, &out, NULL, e) < 0)
		return NULL;
	v = strstr(out, "version ");
	if (!v) {
		error_set(e, qemu, 0, 0, "unexpected --version output");
		free(out);
		return NULL;
	}
	v += 8;
	end = v + strcspn(v, " \n(");
	v = strndup(v, (size_t)(end - v));
	free(out);
	return v;
}

/* Whether QEMU @qemu finds qboot.rom in one of its data folders (-L help). */
static int qemu_qboot_check(const char *qemu, struct kf_error *e)
{
	static const char rom[] = "qboot.rom";
	const char *argv[] = { qemu, "-L", "help", NULL };
	char *out = NULL, *line, *save = NULL;
	int found = 0;
	struct kf_error pe;

	if (proc_run(argv, NULL, 30000, &out, NULL, &pe) < 0) {
		free(out);
		return error_set(e, rom, 0, 0, "cannot ask %s where its firmware is (%s -L help: "
				 "%s): set \"firmware\": \"seabios\"", qemu, qemu, pe.text);
	}
	for (line = strtok_r(out, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *path = xasprintf("%s/%s", line, rom);

		found = access(path, R_OK) == 0;
		free(path);
	}
	if (!found)
		error_set(e, rom, 0, 0, "%s finds no %s in its data folders (%s -L help): install "
			  "qemu-system-data, or set \"firmware\": \"seabios\"", qemu, rom, qemu);
	free(out);
	return found ? 0 : -1;
}

/* KVM needs a /dev/kvm we may open; whether its guests run, only a canary tells. */
static int qemu_probe(const char *host, const char *accel, char *why, size_t n)
{
	(void)host;
	if (!strcmp(accel, "tcg"))
		return 0;
	if (strcmp(accel, "kvm")) {
		snprintf(why, n, "QEMU has no accelerator \"%s\" here", accel);
		return -1;
	}
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		snprintf(why, n, "/dev/kvm not usable (%s)", strerror(errno));
		return -1;
	}
	return 0;
}

static const struct vm_backend qemu_backend = {
	.name = "QEMU",
	.console_arg = "console=ttyS0",
	.accel_fast = "kvm",
	.accel_safe = "tcg",
	.tcg_single = 1,
	.qboot = 1,
	.qboot_check = qemu_qboot_check,
	.probe = qemu_probe,
	.version = qemu_version,
	.start = qemu_start,
	.stop = qemu_stop,
	.release = qemu_release,
};

const struct vm_backend *vm_backend_default(void)
{
	return &qemu_backend;
}
