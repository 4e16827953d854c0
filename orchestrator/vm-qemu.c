/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vm.h"

/*
 * QEMU's seccomp filter: no obsolete system calls, no set*id, no fork/exec,
 * no scheduler or affinity changes. It is the full set because QEMU never
 * starts as root here: kfarm switches users itself (qemu_user()) rather than
 * by -runas, which would need set*id after the filter is on and clears the
 * parent-death signal that ties QEMU to kfarm.
 */
#define QEMU_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/*
 * Whom QEMU runs as when kfarm is root: $KFARM_QEMU_USER, else VM_QEMU_USER
 * (make deps creates it). 1 with @u filled, 0 when kfarm is not root (QEMU
 * runs as we do), -1 with @e when the user does not exist.
 */
static int qemu_user(struct proc_user *u, struct kf_error *e)
{
	const char *name = getenv("KFARM_QEMU_USER");
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (!name || !*name)
		name = VM_QEMU_USER;
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return error_set(e, name, 0, 0, "kfarm runs as root and QEMU runs as the user %s, who does "
				 "not exist%s%s (run 'make deps', or set KFARM_QEMU_USER to an unprivileged user)",
				 name, errno ? ": " : "", errno ? strerror(errno) : "");
	if (pw->pw_uid == 0)
		return error_set(e, name, 0, 0, "QEMU would run as %s, who is root: name an unprivileged "
				 "user in KFARM_QEMU_USER", name);
	u->name = name;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 1;
}

/*
 * QEMU as @u opens @path again through /dev/fd (the inode's permission bits
 * count, not the folders on the way): refuse early when @u cannot read it.
 */
static int readable_by(const char *what, const char *path, int fd, const struct proc_user *u,
		       struct kf_error *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_set(e, path, 0, 0, "%s %s: %s", what, path, strerror(errno));
	if ((st.st_mode & S_IROTH) || (st.st_uid == u->uid && (st.st_mode & S_IRUSR)) ||
	    (st.st_gid == u->gid && (st.st_mode & S_IRGRP)))
		return 0;
	return error_set(e, path, 0, 0, "the %s %s is not readable by %s, whom QEMU runs as (mode %04o): "
			 "make it readable (chmod o+r)", what, path, u->name, (unsigned)(st.st_mode & 07777));
}

static int qemu_start(struct vm *vm, const struct vm_params *p, struct kf_error *e)
{
	int con[2] = { -1, -1 }, res[2] = { -1, -1 }, err[2] = { -1, -1 }, fds[7];
	int kfd = -1, ifd = -1, nfds = 5, as;
	char smp[16], mem[16];
	int single = p->tcg_single && !strcmp(p->accel, "tcg");
	int ret = -1;
	struct proc_user user;
	/*
	 * Both serial ports are pipes handed to QEMU as fds 3 and 4 (-add-fd: it
	 * takes the descriptors as they are, whoever it runs as): kfarm reads
	 * them live, so a panic or a stalled guest is seen while it happens, and
	 * nothing touches the disk but our logs. As another user QEMU reads the
	 * kernel and the initramfs as fds 5 and 6.
	 */
	const char *argv[] = {
		p->binary, "-accel", single ? "tcg,thread=single" : p->accel, "-M", "pc", "-nodefaults", "-no-user-config",
		"-display", "none", "-no-reboot", "-m", mem, "-smp", smp, "-sandbox", QEMU_SANDBOX,
		"-add-fd", "fd=3,set=3", "-chardev", "file,id=con,path=/dev/fdset/3,append=on", "-serial", "chardev:con",
		"-add-fd", "fd=4,set=4", "-chardev", "file,id=res,path=/dev/fdset/4,append=on", "-serial", "chardev:res",
		"-kernel", p->kernel, "-initrd", p->initrd, "-append", p->append,
		"-bios", "qboot.rom", NULL,
	};

	if (!p->qboot)
		argv[sizeof(argv) / sizeof(argv[0]) - 3] = NULL;
	vm_init(vm);
	as = qemu_user(&user, e);
	if (as < 0)
		return -1;
	if (as) {
		kfd = open(p->kernel, O_RDONLY | O_CLOEXEC);
		ifd = kfd < 0 ? -1 : open(p->initrd, O_RDONLY | O_CLOEXEC);
		if (kfd < 0 || ifd < 0) {
			error_set(e, kfd < 0 ? p->kernel : p->initrd, 0, 0, "%s: %s", kfd < 0 ? p->kernel : p->initrd,
				  strerror(errno));
			goto cleanup;
		}
		if (readable_by("kernel image", p->kernel, kfd, &user, e) < 0 ||
		    readable_by("initramfs", p->initrd, ifd, &user, e) < 0)
			goto cleanup;
		for (size_t i = 0; argv[i]; i++) {
			if (!strcmp(argv[i], "-kernel"))
				argv[i + 1] = "/dev/fd/5";
			else if (!strcmp(argv[i], "-initrd"))
				argv[i + 1] = "/dev/fd/6";
		}
		nfds = 7;
	}
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
	fds[5] = kfd;
	fds[6] = ifd;
	if (proc_spawn_as(&vm->proc, argv, NULL, fds, nfds, as ? &user : NULL, e) < 0)
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
	if (kfd >= 0) close(kfd);
	if (ifd >= 0) close(ifd);
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

static int qemu_check(const char *qemu, int qboot, struct kf_error *e)
{
	struct proc_user u;

	if (qboot && qemu_qboot_check(qemu, e) < 0)
		return -1;
	return qemu_user(&u, e) < 0 ? -1 : 0;
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
	.check = qemu_check,
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
