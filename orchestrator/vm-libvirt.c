/* SPDX-License-Identifier: MIT */
/*
 * vm-libvirt.c - guests as transient libvirt domains, on the hosts of the
 * config's "hosts" (local qemu:///system, remote qemu+ssh:// or qemu+tls://).
 *
 * The kernel and the initramfs are uploaded once per content hash into a
 * storage pool of each host (virStorageVolUpload), so nothing assumes the
 * host shares this machine's filesystem. Each guest is a process of its own
 * (forked, like QEMU is for the QEMU backend): it opens its own connection,
 * creates the domain paused and auto-destroyed with that connection (a
 * killed guest process leaves no domain behind), opens both serial ports
 * with virDomainOpenConsole and pumps them into the pipes run.c reads, and
 * watches the domain's lifecycle events and the connection's close until
 * the domain is gone. run.c sees the same three streams and the same exit
 * as with QEMU, so the framing, console scanner, deadlines and statuses are
 * the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "log.h"
#include "util.h"
#include "vm-libvirt.h"
#include "vm.h"

/* The exit status of a guest process whose host went away: run.c retries it. */
#define LV_EXIT_HOST_LOST 75
/* ... that could not create its domain (libvirt's message on its diag stream) */
#define LV_EXIT_START 70

struct lv_staged {
	char *key;		/* host uri '|' local path '|' size '|' mtime */
	char *remote;		/* the volume's path on the host */
};

static struct {
	struct lv_host *hosts;
	size_t nhosts;
	struct lv_staged *staged;
	size_t nstaged;
	char last_error[512];
} lv;

const char *lv_err(const char *fallback)
{
	virErrorPtr err = virGetLastError();

	return err && err->message ? err->message : fallback;
}

/* libvirt prints its errors to stderr by default: keep them for our messages. */
static void lv_quiet(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

int vm_libvirt_hosts(json_t *hosts, struct kf_error *e)
{
	json_t *h;
	size_t i;

	for (i = 0; i < lv.nhosts; i++) {
		free(lv.hosts[i].uri);
		free(lv.hosts[i].pool);
		free(lv.hosts[i].pool_path);
		if (lv.hosts[i].conn)
			virConnectClose(lv.hosts[i].conn);
	}
	free(lv.hosts);
	lv.hosts = NULL;
	lv.nhosts = 0;
	if (!json_is_array(hosts) || json_array_size(hosts) == 0)
		return error_set(e, "hosts", 0, 0, "no hosts");
	virSetErrorFunc(NULL, lv_quiet);
	/* a host that dies under a connection must not take kfarm with it */
	signal(SIGPIPE, SIG_IGN);
	lv.hosts = xcalloc(json_array_size(hosts), sizeof(*lv.hosts));
	json_array_foreach(hosts, i, h) {
		struct lv_host *x = &lv.hosts[lv.nhosts++];
		const char *pool = json_string_value(json_object_get(h, "pool"));
		const char *path = json_string_value(json_object_get(h, "pool_path"));

		x->uri = xstrdup(json_string_value(json_object_get(h, "uri")));
		x->slots = json_is_integer(json_object_get(h, "slots")) ?
			   (int)json_integer_value(json_object_get(h, "slots")) : 0;
		x->pool = xstrdup(pool ? pool : "kfarm");
		x->pool_path = path ? xstrdup(path) : xasprintf("/var/lib/libvirt/%s", x->pool);
	}
	return 0;
}

struct lv_host *lv_host_nth(size_t i)
{
	return i < lv.nhosts ? &lv.hosts[i] : NULL;
}

int lv_host_slots(struct lv_host *h, virConnectPtr c)
{
	virNodeInfo info;

	if (h->slots <= 0 && c)
		h->slots = virNodeGetInfo(c, &info) == 0 && info.cpus > 0 ? (int)info.cpus : 1;
	return h->slots > 0 ? h->slots : 1;
}

/* Host @h's upload connection, opened on first use. */
static virConnectPtr host_conn(struct lv_host *h, struct kf_error *e)
{
	const char *type;

	if (!h->conn) {
		h->conn = virConnectOpen(h->uri);
		if (!h->conn) {
			error_set(e, h->uri, 0, 0, "%s: cannot connect: %s", h->uri,
				  lv_err("unknown error"));
			return NULL;
		}
		type = virConnectGetType(h->conn);
		if (!type || strcmp(type, "QEMU")) {
			error_set(e, h->uri, 0, 0, "%s: not a QEMU driver (libvirt says \"%s\"): kfarm "
				  "runs its guests with QEMU, e.g. qemu:///system",
				  h->uri, type ? type : lv_err("no type"));
			virConnectClose(h->conn);
			h->conn = NULL;
			return NULL;
		}
		lv_reap_leftovers(h->conn, h->uri);
		lv_host_slots(h, h->conn);
	}
	return h->conn;
}

/* Host @h's pool, defined (a dir pool at h->pool_path), built and started when missing. */
static virStoragePoolPtr host_pool(struct lv_host *h, virConnectPtr c, struct kf_error *e)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, h->pool);
	char *xml;

	if (!p) {
		xml = xasprintf("<pool type='dir'><name>%s</name><target><path>%s</path></target>"
				"</pool>", h->pool, h->pool_path);
		p = virStoragePoolDefineXML(c, xml, 0);
		free(xml);
		if (!p || virStoragePoolBuild(p, 0) < 0) {
			error_set(e, h->uri, 0, 0, "%s: storage pool %s cannot be created at %s: %s",
				  h->uri, h->pool, h->pool_path, lv_err("unknown error"));
			if (p) {
				virStoragePoolUndefine(p);
				virStoragePoolFree(p);
			}
			return NULL;
		}
		virStoragePoolSetAutostart(p, 1);
		log_info("%s: storage pool %s created at %s", h->uri, h->pool, h->pool_path);
	}
	if (!virStoragePoolIsActive(p) && virStoragePoolCreate(p, 0) < 0) {
		error_set(e, h->uri, 0, 0, "%s: storage pool %s cannot be started: %s", h->uri,
			  h->pool, lv_err("unknown error"));
		virStoragePoolFree(p);
		return NULL;
	}
	return p;
}

/* Stream handler for virStreamSendAll: the next bytes of the file. */
static int send_file(virStreamPtr st, char *buf, size_t n, void *opaque)
{
	(void)st;
	return (int)read(*(int *)opaque, buf, n);
}

/*
 * @path on host @h: the volume "kfarm-<sha256>" of its pool, uploaded when
 * it is not there whole (its allocation short of its size: an upload that
 * died). The volume's path (owned), or NULL with @e.
 */
static char *stage(struct lv_host *h, const char *path, struct kf_error *e)
{
	struct stat st;
	char hex[65], *key, *name = NULL, *xml = NULL, *remote = NULL;
	virConnectPtr c;
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	virStorageVolInfo info;
	virStreamPtr s = NULL;
	size_t i;
	int fd = -1;

	if (stat(path, &st) < 0) {
		error_set(e, path, 0, 0, "%s", strerror(errno));
		return NULL;
	}
	key = xasprintf("%s|%s|%lld|%lld", h->uri, path, (long long)st.st_size,
			(long long)st.st_mtime);
	for (i = 0; i < lv.nstaged; i++)
		if (!strcmp(lv.staged[i].key, key)) {
			free(key);
			return xstrdup(lv.staged[i].remote);
		}
	if (util_sha256_file(path, hex, e) < 0 || !(c = host_conn(h, e)) ||
	    !(pool = host_pool(h, c, e)))
		goto cleanup;
	name = xasprintf("kfarm-%s", hex);
	vol = virStorageVolLookupByName(pool, name);
	if (vol && (virStorageVolGetInfo(vol, &info) < 0 || info.allocation < info.capacity ||
		    info.capacity != (unsigned long long)st.st_size)) {
		log_info("%s: volume %s is incomplete: uploading it again", h->uri, name);
		virStorageVolDelete(vol, 0);
		virStorageVolFree(vol);
		vol = NULL;
	}
	if (!vol) {
		int64_t t0 = util_now_ms();

		xml = xasprintf("<volume><name>%s</name><capacity unit='bytes'>%lld</capacity>"
				"<target><format type='raw'/></target></volume>", name,
				(long long)st.st_size);
		vol = virStorageVolCreateXML(pool, xml, 0);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		s = vol ? virStreamNew(c, 0) : NULL;
		if (!vol || fd < 0 || !s ||
		    virStorageVolUpload(vol, s, 0, (unsigned long long)st.st_size, 0) < 0 ||
		    virStreamSendAll(s, send_file, &fd) < 0 || virStreamFinish(s) < 0) {
			error_set(e, h->uri, 0, 0, "%s: cannot upload %s into pool %s: %s", h->uri,
				  path, h->pool, fd < 0 ? strerror(errno) : lv_err("unknown error"));
			if (s)
				virStreamAbort(s);
			if (vol)
				virStorageVolDelete(vol, 0);
			goto cleanup;
		}
		log_info("%s: %s uploaded into pool %s (%lld bytes, %.1f s)", h->uri, path, h->pool,
			 (long long)st.st_size, (util_now_ms() - t0) / 1000.0);
	}
	remote = virStorageVolGetPath(vol);
	if (!remote) {
		error_set(e, h->uri, 0, 0, "volume %s has no path: %s", name, lv_err("unknown error"));
		goto cleanup;
	}
	lv.staged = xrealloc(lv.staged, (lv.nstaged + 1) * sizeof(*lv.staged));
	lv.staged[lv.nstaged].key = key;
	lv.staged[lv.nstaged++].remote = xstrdup(remote);
	key = NULL;
cleanup:
	if (fd >= 0)
		close(fd);
	if (s)
		virStreamFree(s);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	free(key);
	free(name);
	free(xml);
	return remote;
}

/* @s with XML's five special characters escaped (owned). */
static char *xml_escape(const char *s)
{
	size_t n = 0;
	char *out, *o;
	const char *p;

	for (p = s; *p; p++)
		n += strchr("<>&'\"", *p) ? 6 : 1;
	out = o = xmalloc(n + 1);
	for (p = s; *p; p++) {
		switch (*p) {
		case '<': o = stpcpy(o, "&lt;"); break;
		case '>': o = stpcpy(o, "&gt;"); break;
		case '&': o = stpcpy(o, "&amp;"); break;
		case '\'': o = stpcpy(o, "&apos;"); break;
		case '"': o = stpcpy(o, "&quot;"); break;
		default: *o++ = *p;
		}
	}
	*o = 0;
	return out;
}

/* The transient domain of one guest. */
static char *domain_xml(const struct vm_params *p, const char *accel, const char *name,
			const char *kernel, const char *initrd)
{
	char *ename = xml_escape(name), *k = xml_escape(kernel), *i = xml_escape(initrd);
	char *a = xml_escape(p->append), *host = xml_escape(lv_hostname()), *xml;

	xml = xasprintf(
		"<domain type='%s'>"
		"<name>%s</name>"
		/* whose it is: vm-libvirt-hosts.c destroys it once that process is dead */
		"<metadata><" LV_META_PREFIX ":guest xmlns:" LV_META_PREFIX "='" LV_META_NS "' "
		"pid='%ld' host='%s'/></metadata>"
		"<memory unit='MiB'>%d</memory>"
		"<vcpu>%d</vcpu>"
		"<os><type arch='x86_64' machine='pc'>hvm</type>"
		"<kernel>%s</kernel><initrd>%s</initrd><cmdline>%s</cmdline></os>"
		"<features><acpi/></features>"
		"<on_poweroff>destroy</on_poweroff>"
		/* restart: QEMU lives on past a reset, and so do the ptys it keeps */
		"<on_reboot>restart</on_reboot>"
		"<on_crash>destroy</on_crash>"
		"<devices>"
		"<serial type='pty'><target port='0'/></serial>"
		"<serial type='pty'><target port='1'/></serial>"
		"<controller type='usb' model='none'/><memballoon model='none'/>"
		"</devices></domain>",
		strcmp(accel, "kvm") ? "qemu" : "kvm", ename, (long)getpid(), host, p->memory_mb,
		p->smp, k, i, a);
	free(ename);
	free(host);
	free(k);
	free(i);
	free(a);
	return xml;
}

/* ------------------------------------------------------------ the guest process */

/*
 * What the guest's init says on both ports before it powers off, when its
 * command line has kfarm.drain=1 (images/init): a pty drops what the host
 * has not read yet once QEMU exits, so the guest waits for our answer on
 * serial1, sent once both lines came through.
 */
#define LV_DRAIN "kfarm-init: drain"
#define LV_DRAIN_ACK "k\n"

struct pump {
	virStreamPtr st;
	int fd;		/* where its bytes go; -1 once the stream ended */
	size_t matched;	/* how much of LV_DRAIN its last bytes were */
	int drained;	/* the guest's drain line came through */
};

static struct {
	struct pump pumps[2];
	int diag;
	volatile sig_atomic_t term;
	int stopped;	/* the domain stopped (lifecycle event) */
	int rebooted;	/* the guest reset itself (a panic): to be paused */
	int lost;	/* the connection closed under us */
	int acked;	/* the drain answered */
	int64_t last_data;	/* when a port last gave bytes */
	char why[256];
	char event[64];		/* the lifecycle event that ended it */
} child;

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void diag(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(child.diag, buf, (size_t)n) < 0)
		return;
}

static void on_term(int sig)
{
	(void)sig;
	child.term = 1;
}


/*
 * Whether LV_DRAIN came through in @buf (@n bytes), its start perhaps in an
 * earlier read (@p->matched: how much of it the last bytes were). Its first
 * character appears nowhere else in it, so a mismatch starts over.
 */
static int saw_drain(struct pump *p, const char *buf, size_t n)
{
	static const char m[] = LV_DRAIN;
	size_t i;

	for (i = 0; i < n; i++) {
		p->matched = buf[i] == m[p->matched] ? p->matched + 1 : buf[i] == m[0];
		if (p->matched == sizeof(m) - 1)
			return 1;
	}
	return 0;
}

static void pump_readable(virStreamPtr st, int events, void *opaque)
{
	struct pump *p = opaque;
	char buf[4096];
	int n;

	for (;;) {
		n = virStreamRecv(st, buf, sizeof(buf));
		if (n == -2)
			return;		/* nothing more for now */
		if (n > 0) {
			child.last_data = util_now_ms();
			/* a reader that went away is no error: the port drains on */
			(void)util_write_all(p->fd, buf, (size_t)n);
			if (!p->drained && saw_drain(p, buf, (size_t)n))
				p->drained = 1;
			continue;
		}
		virStreamEventRemoveCallback(st);
		if (n < 0 && child.stopped)
			diag("libvirt: serial%d stream failed (events %#x): %s",
			     p == &child.pumps[0] ? 0 : 1, (unsigned)events, lv_err("unknown error"));
		if (n < 0)
			virStreamAbort(st);
		else
			virStreamFinish(st);
		virStreamFree(st);
		p->st = NULL;
		close(p->fd);
		p->fd = -1;
		return;
	}
}

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
	const char *mine = opaque, *name = virDomainGetName(d);

	(void)c;
	if (!name || strcmp(name, mine))
		return 0;	/* another guest's domain: not ours to end */
	if (event == VIR_DOMAIN_EVENT_SHUTDOWN || event == VIR_DOMAIN_EVENT_STOPPED ||
	    event == VIR_DOMAIN_EVENT_CRASHED)
		snprintf(child.event, sizeof(child.event), "event %d detail %d", event, detail);
	/* the guest powered off: QEMU stops then, libvirt's destroy comes later */
	if (event == VIR_DOMAIN_EVENT_SHUTDOWN)
		child.stopped = 1;
	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		child.stopped = 1;
		if (detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED || detail == VIR_DOMAIN_EVENT_STOPPED_FAILED)
			snprintf(child.why, sizeof(child.why), "the domain %s",
				 detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? "crashed" : "failed");
	}
	if (event == VIR_DOMAIN_EVENT_CRASHED) {
		child.stopped = 1;
		snprintf(child.why, sizeof(child.why), "the domain crashed");
	}
	return 0;
}

/* The guest reset itself: as with QEMU's -no-reboot, that is its end. */
static void on_reboot(virConnectPtr c, virDomainPtr d, void *opaque)
{
	const char *name = virDomainGetName(d);

	(void)c;
	if (!name || strcmp(name, (const char *)opaque) || child.rebooted)
		return;
	snprintf(child.event, sizeof(child.event), "reboot");
	child.rebooted = 1;
	child.stopped = 1;
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
	(void)c;
	(void)opaque;
	if (reason != VIR_CONNECT_CLOSE_REASON_CLIENT)
		child.lost = 1;
}

/* A timer's tick: the event loop wakes to look at the flags. */
static void tick(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static int open_port(virConnectPtr c, virDomainPtr d, const char *dev, struct pump *p)
{
	p->st = virStreamNew(c, VIR_STREAM_NONBLOCK);
	if (!p->st || virDomainOpenConsole(d, dev, p->st, VIR_DOMAIN_CONSOLE_FORCE) < 0 ||
	    virStreamEventAddCallback(p->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_HANGUP |
				      VIR_STREAM_EVENT_ERROR, pump_readable, p, NULL) < 0) {
		diag("libvirt: cannot open the domain's %s: %s", dev, lv_err("unknown error"));
		return -1;
	}
	return 0;
}

/* How a guest process that could not start its domain exits: the host's fault or the guest's. */
static int start_failed(virConnectPtr c)
{
	if (virConnectIsAlive(c) != 1) {
		diag("libvirt: the connection was lost");
		return LV_EXIT_HOST_LOST;
	}
	return LV_EXIT_START;
}

/* The guest process: never returns. */
static void guest_main(const char *uri, const char *xml, int con, int res, int err)
{
	struct sigaction sa;
	sigset_t none;
	virConnectPtr c;
	virDomainPtr d;
	int64_t stop_at = 0, checked = util_now_ms();
	int status = 0;

	child.diag = err;
	child.pumps[0].fd = con;
	child.pumps[1].fd = res;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (virEventRegisterDefaultImpl() < 0) {
		diag("libvirt: no event loop: %s", lv_err("unknown error"));
		_exit(LV_EXIT_START);
	}
	c = virConnectOpen(uri);
	if (!c) {
		diag("libvirt: cannot connect to %s: %s", uri, lv_err("unknown error"));
		_exit(LV_EXIT_HOST_LOST);
	}
	virConnectSetKeepAlive(c, 2, 3);
	virConnectRegisterCloseCallback(c, on_close, NULL, NULL);
	/* Paused until both ports are open: not a byte of the boot is lost. */
	d = virDomainCreateXML(c, xml, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY);
	if (!d) {
		diag("libvirt: %s: the domain did not start: %s", uri, lv_err("unknown error"));
		_exit(start_failed(c));
	}
	/* this domain's events only: the host runs other guests of ours */
	virConnectDomainEventRegisterAny(c, d, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					 VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
					 (void *)virDomainGetName(d), NULL);
	virConnectDomainEventRegisterAny(c, d, VIR_DOMAIN_EVENT_ID_REBOOT,
					 VIR_DOMAIN_EVENT_CALLBACK(on_reboot),
					 (void *)virDomainGetName(d), NULL);

	if (open_port(c, d, "serial0", &child.pumps[0]) < 0 ||
	    open_port(c, d, "serial1", &child.pumps[1]) < 0 || virDomainResume(d) < 0) {
		if (!child.why[0])
			diag("libvirt: %s: the domain did not run: %s", uri, lv_err("unknown error"));
		virDomainDestroy(d);
		_exit(start_failed(c));
	}
	virEventAddTimeout(100, tick, NULL, NULL);
	for (;;) {
		int64_t now = util_now_ms();

		if (child.term && !stop_at) {
			virDomainDestroy(d);
			stop_at = now;
		}
		if (child.lost) {
			diag("libvirt: the connection to %s was lost", uri);
			status = LV_EXIT_HOST_LOST;
			break;
		}
		/*
		 * A guest that reset itself (panic=-1) is paused at once: its
		 * QEMU keeps the ports, and what it wrote last comes through.
		 */
		if (child.rebooted == 1) {
			child.rebooted = 2;
			if (virDomainSuspend(d) < 0)
				virDomainDestroy(d);
		}
		if (child.stopped && !stop_at)
			stop_at = now;
		if (!child.acked && child.pumps[0].drained && child.pumps[1].drained &&
		    child.pumps[1].st) {
			int n = virStreamSend(child.pumps[1].st, LV_DRAIN_ACK, strlen(LV_DRAIN_ACK));

			if (n != -2)
				child.acked = 1;
		}
		/*
		 * The ports' last bytes may come after the stop: wait for their
		 * end, or for them to be quiet a moment (at most 2 s).
		 */
		if (stop_at && ((child.pumps[0].fd < 0 && child.pumps[1].fd < 0) ||
				now - (child.last_data > stop_at ? child.last_data : stop_at) > 300 ||
				now - stop_at > 2000))
			break;
		/* events say it; a look once a second in case one was missed */
		if (!stop_at && now - checked >= 1000) {
			checked = now;
			if (virDomainIsActive(d) == 0) {
				stop_at = now;
				if (!child.event[0])
					diag("libvirt: the domain is no longer active (no event said why)");
			}
		}
		if (virEventRunDefaultImpl() < 0) {
			diag("libvirt: the event loop failed: %s", lv_err("unknown error"));
			status = status ? status : 1;
			break;
		}
	}
	if (child.rebooted)
		virDomainDestroy(d);
	if (child.why[0]) {
		diag("libvirt: %s", child.why);
		status = status ? status : 1;
	}
	virDomainFree(d);
	_exit(status);
}

/* ------------------------------------------------------------ the backend */

/* How long a host that went away is left alone before it is tried again. */
#define LV_DOWN_MS 10000

/*
 * Whether host @h takes guests now: up, or down long enough ago (LV_DOWN_MS)
 * and answering again. Its slots are known after this (its first connection).
 */
static int host_up(struct lv_host *h, int64_t now)
{
	struct kf_error ce;

	if (h->down_until && now < h->down_until)
		return 0;
	if (h->down_until || h->slots <= 0) {
		if (!host_conn(h, &ce)) {
			if (!h->down_until)
				log_warnx("%s", ce.text);
			h->down_until = now + LV_DOWN_MS;
			return 0;
		}
		if (h->down_until)
			log_info("%s: the host is back: guests go there again", h->uri);
		h->down_until = 0;
	}
	return 1;
}

/*
 * Of the up hosts, with @busy[i] vCPUs taken on host i, the one for a guest
 * of @vcpus: the most free slots that fit it; else an idle host (a guest
 * larger than every host runs alone); else, with @force, the most free. -1: none.
 */
static int place(const int *busy, int vcpus, int force, const int *up)
{
	int best = -1, idle = -1, most = -1;
	size_t i;

	for (i = 0; i < lv.nhosts; i++) {
		int free_ = lv_host_slots(&lv.hosts[i], NULL) - busy[i];

		if (!up[i])
			continue;
		if (free_ >= vcpus && (best < 0 || free_ > lv_host_slots(&lv.hosts[best], NULL) - busy[best]))
			best = (int)i;
		if (busy[i] == 0 && (idle < 0 || lv.hosts[i].slots > lv.hosts[idle].slots))
			idle = (int)i;
		if (most < 0 || free_ > lv_host_slots(&lv.hosts[most], NULL) - busy[most])
			most = (int)i;
	}
	return best >= 0 ? best : idle >= 0 ? idle : force ? most : -1;
}

/* Which hosts are up now, into @up (lv.nhosts entries); how many. */
static int hosts_up(int *up)
{
	int64_t now = util_now_ms();
	int n = 0;
	size_t i;

	for (i = 0; i < lv.nhosts; i++)
		n += up[i] = host_up(&lv.hosts[i], now);
	return n;
}

/*
 * The host for a guest of @vcpus: @want when given (and up), else place()'s
 * choice (forced: run.c decided it starts now).
 */
static struct lv_host *pick_host(const char *want, int vcpus, struct kf_error *e)
{
	int *up = xcalloc(lv.nhosts ? lv.nhosts : 1, sizeof(*up));
	int *busy = xcalloc(lv.nhosts ? lv.nhosts : 1, sizeof(*busy));
	struct lv_host *best = NULL;
	size_t i;
	int k;

	hosts_up(up);
	for (i = 0; i < lv.nhosts; i++) {
		busy[i] = lv.hosts[i].busy;
		if (want && !strcmp(want, lv.hosts[i].uri)) {
			best = up[i] ? &lv.hosts[i] : NULL;
			if (!best)
				error_set(e, want, 0, 0, "%s: the host is down", want);
			goto out;
		}
	}
	if (want) {
		error_set(e, want, 0, 0, "%s: not one of the config's hosts", want);
		goto out;
	}
	k = place(busy, vcpus, 1, up);
	best = k >= 0 ? &lv.hosts[k] : NULL;
	if (!best)
		error_set(e, "hosts", 0, 0, "every host is down (%zu of them); the first, %s, is "
			  "tried again within %d s", lv.nhosts, lv.nhosts ? lv.hosts[0].uri : "-",
			  LV_DOWN_MS / 1000);
out:
	free(up);
	free(busy);
	return best;
}

/* Whether guests of @vcpus[0..n) fit on the up hosts now, placed one by one. */
static int lv_room(const int *vcpus, size_t n)
{
	int *up = xcalloc(lv.nhosts ? lv.nhosts : 1, sizeof(*up));
	int *busy = xcalloc(lv.nhosts ? lv.nhosts : 1, sizeof(*busy));
	size_t i;
	int ok = 1, k;

	hosts_up(up);
	for (i = 0; i < lv.nhosts; i++)
		busy[i] = lv.hosts[i].busy;
	for (i = 0; ok && i < n; i++) {
		k = place(busy, vcpus[i], 0, up);
		if (k < 0)
			ok = 0;
		else
			busy[k] += vcpus[i];
	}
	free(up);
	free(busy);
	return ok;
}

/* Host @uri went away: its guests go elsewhere until it answers again. */
static void host_down(const char *uri)
{
	size_t i;

	for (i = 0; i < lv.nhosts; i++) {
		struct lv_host *h = &lv.hosts[i];

		if (strcmp(h->uri, uri))
			continue;
		if (!h->down_until)
			log_warnx("%s: the host went away: its guests go to the other hosts", uri);
		h->down_until = util_now_ms() + LV_DOWN_MS;
		if (h->conn) {
			virConnectClose(h->conn);
			h->conn = NULL;
		}
	}
}

static int lv_host_lost(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == LV_EXIT_HOST_LOST;
}

static int lv_start(struct vm *vm, const struct vm_params *p, struct kf_error *e)
{
	int con[2] = { -1, -1 }, res[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct lv_host *h = NULL;
	char *kernel = NULL, *initrd = NULL, *xml = NULL, name[200];
	static unsigned serial;
	pid_t pid, parent = getpid();
	int ret = -1;
	size_t i;

	vm_init(vm);
	/* a host that cannot take the images (its pool, its connection) is passed over */
	for (i = 0; i < lv.nhosts; i++) {
		h = pick_host(p->host, p->smp, e);
		if (!h)
			return -1;
		kernel = stage(h, p->kernel, e);
		initrd = kernel ? stage(h, p->initrd, e) : NULL;
		if (initrd)
			break;
		free(kernel);
		kernel = NULL;
		if (lv.nhosts > 1 && !p->host) {
			log_warnx("%s; the guest goes to another host", e->text);
			host_down(h->uri);
		}
	}
	if (!initrd)
		goto cleanup;
	snprintf(name, sizeof(name), "kfarm-%s-%ld-%u", p->name ? p->name : "guest",
		 (long)parent, ++serial);
	for (i = 0; name[i]; i++)
		if (name[i] == '/' || name[i] == ' ')
			name[i] = '_';
	vm->accel = h->accel ? h->accel : p->accel;
	vm->vcpus = p->smp;
	xml = domain_xml(p, vm->accel, name, kernel, initrd);
	if (pipe2(con, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		error_set(e, h->uri, 0, 0, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_set(e, h->uri, 0, 0, "fork: %s", strerror(errno));
		goto cleanup;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		close(con[0]);
		close(res[0]);
		close(err[0]);
		guest_main(h->uri, xml, con[1], res[1], err[1]);
	}
	setpgid(pid, pid);
	vm->proc.pid = pid;
	vm->proc.pidfd = proc_pidfd_open(pid);
	vm_take_streams(vm, &con[0], &res[0], &err[0]);
	snprintf(vm->host, sizeof(vm->host), "%s", h->uri);
	h->busy += vm->vcpus;
	ret = 0;
cleanup:
	for (i = 0; i < 2; i++) {
		if (con[i] >= 0) close(con[i]);
		if (res[i] >= 0) close(res[i]);
		if (err[i] >= 0) close(err[i]);
	}
	free(kernel);
	free(initrd);
	free(xml);
	return ret;
}

static void lv_stop(struct vm *vm)
{
	/* the guest process destroys its domain on SIGTERM; on SIGKILL libvirt does */
	proc_kill(&vm->proc, 3000);
}

static int lv_release(struct vm *vm)
{
	int st = proc_reap(&vm->proc);
	size_t i;

	if (lv_host_lost(st) && vm->host[0])
		host_down(vm->host);
	for (i = 0; i < lv.nhosts; i++)
		if (vm->host[0] && !strcmp(lv.hosts[i].uri, vm->host)) {
			lv.hosts[i].busy -= vm->vcpus;
			if (lv.hosts[i].busy < 0)
				lv.hosts[i].busy = 0;
			break;
		}
	vm_close_streams(vm);
	return st;
}

/* The first host's hypervisor version ("7.2.22"), libvirt's view of the QEMU it runs. */
static char *lv_version(const char *binary, struct kf_error *e)
{
	unsigned long v = 0;
	virConnectPtr c;

	(void)binary;
	if (!lv.nhosts) {
		error_set(e, "libvirt", 0, 0, "no hosts configured");
		return NULL;
	}
	c = host_conn(&lv.hosts[0], e);
	if (!c)
		return NULL;
	if (virConnectGetVersion(c, &v) < 0) {
		error_set(e, lv.hosts[0].uri, 0, 0, "no hypervisor version: %s (is it a QEMU "
			  "driver URI?)", lv_err("unknown error"));
		return NULL;
	}
	return xasprintf("%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

/* The host named @uri (NULL: the first), or NULL. */
static struct lv_host *host_named(const char *uri)
{
	size_t i;

	for (i = 0; i < lv.nhosts; i++)
		if (!uri || !strcmp(uri, lv.hosts[i].uri))
			return &lv.hosts[i];
	return NULL;
}

/* Whether host @uri (NULL: the first) offers domains of type @accel ("kvm"; "tcg" is libvirt's "qemu"). */
static int lv_probe(const char *uri, const char *accel, char *why, size_t n)
{
	struct lv_host *h = host_named(uri);
	struct kf_error e;
	virConnectPtr c;
	char *caps;
	int ok;

	if (!strcmp(accel, "tcg"))
		return 0;
	c = h ? host_conn(h, &e) : NULL;
	if (!c) {
		snprintf(why, n, "%s", h ? e.text : "no such host");
		return -1;
	}
	caps = virConnectGetCapabilities(c);
	ok = caps && strstr(caps, "<domain type='kvm'");
	free(caps);
	if (!ok) {
		snprintf(why, n, "%s offers no kvm domains", h->uri);
		return -1;
	}
	return 0;
}

static const char *lv_host_name(size_t i)
{
	return i < lv.nhosts ? lv.hosts[i].uri : NULL;
}

static void lv_host_accel(const char *uri, const char *accel)
{
	struct lv_host *h = host_named(uri);

	if (h)
		h->accel = accel;
}

static const struct vm_backend libvirt_backend = {
	.name = "libvirt",
	/* kfarm.drain=1: the guest waits for its last bytes to come through */
	.console_arg = "console=ttyS0 kfarm.drain=1",
	.accel_fast = "kvm",
	.accel_safe = "tcg",
	.probe = lv_probe,
	.version = lv_version,
	.start = lv_start,
	.stop = lv_stop,
	.release = lv_release,
	.host_lost = lv_host_lost,
	.host = lv_host_name,
	.host_accel = lv_host_accel,
	.room = lv_room,
};

const struct vm_backend *vm_backend_libvirt(void)
{
	return &libvirt_backend;
}
